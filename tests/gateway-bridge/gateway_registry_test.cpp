#include "gateway-bridge/gateway_registry.hpp"

#include <catch2/catch.hpp>

using namespace schwebe;
using bridge::Admission;
using bridge::GatewayRegistry;

namespace {
const lorawan::Eui64 a = lorawan::Eui64::from_u64(0xa);
const lorawan::Eui64 b = lorawan::Eui64::from_u64(0xb);
const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
}  // namespace

TEST_CASE("token bucket: a burst, then the rate", "[unit][registry]") {
    bridge::RegistryOptions o;
    o.rate_per_s = 10;
    o.rate_burst = 5;
    GatewayRegistry r{o, {}};
    for (int i = 0; i < 5; ++i) CHECK(r.admit(a, t0) == Admission::admitted);
    CHECK(r.admit(a, t0) == Admission::rate_limited);
    CHECK(r.admit(b, t0) == Admission::admitted);  // another gateway has its own bucket
    CHECK(r.admit(a, t0 + std::chrono::milliseconds{99}) == Admission::rate_limited);   // 0.99 tokens
    CHECK(r.admit(a, t0 + std::chrono::milliseconds{100}) == Admission::admitted);      // 1 token after 100 ms
    CHECK(r.admit(a, t0 + std::chrono::seconds{10}) == Admission::admitted);            // refilled, capped at 5
    for (int i = 0; i < 4; ++i) CHECK(r.admit(a, t0 + std::chrono::seconds{10}) == Admission::admitted);
    CHECK(r.admit(a, t0 + std::chrono::seconds{10}) == Admission::rate_limited);
}

TEST_CASE("the number of gateways tracked is bounded", "[unit][registry]") {
    bridge::RegistryOptions o;
    o.max_gateways = 2;
    GatewayRegistry r{o, {}};
    CHECK(r.admit(a, t0) == Admission::admitted);
    CHECK(r.admit(b, t0) == Admission::admitted);
    CHECK(r.admit(lorawan::Eui64::from_u64(0xc), t0) == Admission::too_many_gateways);
    CHECK(r.admit(a, t0) == Admission::admitted);
}

TEST_CASE("allowlist: registration decides, and a reload changes it", "[unit][registry]") {
    bridge::RegistryOptions o;
    o.policy = bridge::GatewayPolicy::allowlist;
    bridge::GatewayRecord rec;
    rec.gateway_id = a;
    rec.registered = true;
    rec.name = "Elberfeld";
    GatewayRegistry r{o, {rec}};
    CHECK(r.admit(a, t0) == Admission::admitted);
    CHECK(r.admit(b, t0) == Admission::not_allowed);

    rec.gateway_id = b;
    r.reload({rec});  // a removed, b added
    CHECK(r.admit(a, t0) == Admission::not_allowed);
    CHECK(r.admit(b, t0) == Admission::admitted);
}

TEST_CASE("activity is handed out once and adds up", "[unit][registry]") {
    GatewayRegistry r{{}, {}};
    const auto now = std::chrono::system_clock::now();
    REQUIRE(r.admit(a, t0) == Admission::admitted);
    r.on_uplinks(a, 3, now);
    r.on_uplinks(a, 2, now);
    auto first = r.take_activity();
    REQUIRE(first.size() == 1);
    CHECK(first[0].gateway_id == a);
    CHECK(first[0].frames_received_delta == 5U);
    CHECK(first[0].last_seen == now);
    CHECK(r.take_activity().empty());
    r.on_uplinks(a, 1, now);
    CHECK(r.take_activity().at(0).frames_received_delta == 1U);
}

TEST_CASE("a registered location wins over a reported one", "[unit][registry]") {
    bridge::GatewayRecord rec;
    rec.gateway_id = a;
    rec.registered = true;
    rec.location = common::Location{51.0, 7.0, 100};
    GatewayRegistry r{{}, {rec}};
    common::GatewayStats s;
    s.gateway_id = a;
    s.location = common::Location{52.0, 8.0, 0};
    r.on_stats(s);
    CHECK(r.location(a)->latitude == 51.0);

    REQUIRE(r.admit(b, t0) == Admission::admitted);
    s.gateway_id = b;
    r.on_stats(s);
    CHECK(r.location(b)->latitude == 52.0);
}
