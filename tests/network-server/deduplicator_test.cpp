#include "network-server/deduplicator.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

using namespace schwebe;
using ns::Deduplicator;
using Outcome = Deduplicator::Outcome;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};

common::UplinkFrame copy(std::string_view phy_hex, std::uint64_t gateway, std::uint32_t frequency = 868'100'000,
                         std::uint8_t sf = 7) {
    common::UplinkFrame f;
    f.phy_payload = *lorawan::from_hex(phy_hex);
    f.tx_info.frequency_hz = frequency;
    f.tx_info.modulation = common::LoraModulation{sf, 125'000, "4/5"};
    f.rx_info.gateway_id = lorawan::Eui64::from_u64(gateway);
    return f;
}
}  // namespace

TEST_CASE("copies within the window become one set with every gateway's reception", "[unit][dedup]") {
    Deduplicator d{{}};
    CHECK(d.add(copy("40aabb", 1), t0) == Outcome::first_copy);
    CHECK(d.add(copy("40aabb", 2), t0 + 50ms) == Outcome::copy_added);
    CHECK(d.add(copy("40aabb", 3), t0 + 199ms) == Outcome::copy_added);
    CHECK(d.take_ready(t0 + 199ms).empty());
    CHECK(d.next_deadline() == t0 + 200ms);

    const auto ready = d.take_ready(t0 + 200ms);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].phy_payload == *lorawan::from_hex("40aabb"));
    REQUIRE(ready[0].rx_infos.size() == 3);
    CHECK(ready[0].rx_infos[0].gateway_id == lorawan::Eui64::from_u64(1));
    CHECK(ready[0].rx_infos[2].gateway_id == lorawan::Eui64::from_u64(3));
    CHECK(d.open_sets() == 0);
    CHECK_FALSE(d.next_deadline().has_value());
}

TEST_CASE("late copies within the cooldown are dropped - after it the same bytes are a new frame", "[unit][dedup]") {
    Deduplicator d{{}};
    d.add(copy("40aabb", 1), t0);
    REQUIRE(d.take_ready(t0 + 200ms).size() == 1);
    CHECK(d.add(copy("40aabb", 2), t0 + 250ms) == Outcome::late_copy);
    CHECK(d.add(copy("40aabb", 2), t0 + 1199ms) == Outcome::late_copy);
    CHECK(d.take_ready(t0 + 1199ms).empty());
    // The cooldown ran from when the set was processed (t0 + 200 ms): a replay after it is processed again, and the
    // network server's frame counter check refuses it.
    CHECK(d.add(copy("40aabb", 2), t0 + 1200ms) == Outcome::first_copy);
}

TEST_CASE("the key is payload, frequency and modulation", "[unit][dedup]") {
    Deduplicator d{{}};
    CHECK(d.add(copy("40aabb", 1), t0) == Outcome::first_copy);
    CHECK(d.add(copy("40aabc", 1), t0) == Outcome::first_copy);
    CHECK(d.add(copy("40aabb", 1, 868'300'000), t0) == Outcome::first_copy);
    CHECK(d.add(copy("40aabb", 1, 868'100'000, 8), t0) == Outcome::first_copy);
    CHECK(d.add(copy("40aabb", 2), t0) == Outcome::copy_added);
    CHECK(d.take_ready(t0 + 200ms).size() == 4);
}

TEST_CASE("sets come out in the order their first copies arrived, each when its own window closes", "[unit][dedup]") {
    Deduplicator d{{}};
    d.add(copy("01", 1), t0);
    d.add(copy("02", 1), t0 + 100ms);
    d.add(copy("03", 1), t0 + 150ms);
    auto first = d.take_ready(t0 + 300ms);
    REQUIRE(first.size() == 2);
    CHECK(first[0].phy_payload == *lorawan::from_hex("01"));
    CHECK(first[1].phy_payload == *lorawan::from_hex("02"));
    CHECK(d.next_deadline() == t0 + 350ms);
    CHECK(d.take_ready(t0 + 350ms).size() == 1);
}

TEST_CASE("a zero window processes at once and still drops the other copies", "[unit][dedup]") {
    Deduplicator d{{0ms, 1000ms, 100}};
    CHECK(d.add(copy("40aabb", 1), t0) == Outcome::first_copy);
    CHECK(d.take_ready(t0).size() == 1);
    CHECK(d.add(copy("40aabb", 2), t0) == Outcome::late_copy);
    CHECK(d.add(copy("40aabb", 3), t0) == Outcome::late_copy);
}

TEST_CASE("the number of open sets is bounded", "[unit][dedup]") {
    Deduplicator d{{200ms, 1000ms, 2}};
    CHECK(d.add(copy("01", 1), t0) == Outcome::first_copy);
    CHECK(d.add(copy("02", 1), t0) == Outcome::first_copy);
    CHECK(d.add(copy("03", 1), t0) == Outcome::overloaded);
    CHECK(d.add(copy("01", 2), t0) == Outcome::copy_added);  // copies of open sets still join
    d.take_ready(t0 + 200ms);
    CHECK(d.add(copy("03", 1), t0 + 200ms) == Outcome::first_copy);
}

TEST_CASE("deduplication ids are distinct version-4 UUIDs", "[unit][dedup]") {
    Deduplicator d{{}};
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", i);
        d.add(copy(hex, 1), t0);
    }
    const std::regex uuid{"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"};
    for (const auto& set : d.take_ready(t0 + 200ms)) {
        CHECK(std::regex_match(set.deduplication_id, uuid));
        ids.insert(set.deduplication_id);
    }
    CHECK(ids.size() == 100);
}
