// The gateway bridge over real UDP on 127.0.0.1, against simulated gateways that behave like lora_pkt_fwd (two
// sockets, TX_ACK with or without JSON). Time for rate limits, TX_ACK time-outs and online/offline is a fake clock
// the test advances; waiting for datagrams uses the io_context with a deadline, never a sleep.

#include <catch2/catch.hpp>

#include <filesystem>

#include "common/base64.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/udp_bridge.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "sim/simulated_gateway.hpp"
#include "support/recording_sink.hpp"
#include "support/sqlite_files.hpp"
#include "test_support.hpp"

using namespace schwebe;
using sim::run_until;
using sim::Rxpk;
using sim::SimulatedGateway;
namespace asio = boost::asio;

namespace {

const lorawan::Eui64 gw_a = *lorawan::Eui64::from_hex("0016c001f153a14c");
const lorawan::Eui64 gw_b = *lorawan::Eui64::from_hex("0016c001f153a14d");
// Vector F01 of the shared frame vectors.
const lorawan::Bytes frame_f01 = *lorawan::from_hex("4001100b2600000001e3571634ab");

struct FakeClock {
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
};

/// A bridge on 127.0.0.1 (ephemeral port) with a recording sink.
struct BridgeFixture {
    explicit BridgeFixture(bridge::RegistryOptions registry_options = {},
                           const std::vector<bridge::GatewayRecord>& known = {},
                           bridge::GatewayStore* store = nullptr)
        : registry(registry_options, known),
          bridge(io, options(), registry, store, sink, metrics, [this] { return clock.now; }) {
        bridge.start();
    }

    static bridge::UdpBridgeOptions options() {
        bridge::UdpBridgeOptions o;
        o.bind_host = "127.0.0.1";
        o.bind_port = 0;
        o.tx_ack_timeout = std::chrono::milliseconds{2000};
        return o;
    }

    SimulatedGateway gateway(const lorawan::Eui64& id, std::uint8_t version = 2) {
        return SimulatedGateway{io, id, bridge.local_endpoint(), version};
    }

    std::uint64_t dropped(const std::string& reason) const {
        return metrics.value("schwebe_bridge_dropped_total", {{"reason", reason}});
    }

    asio::io_context io;
    FakeClock clock;
    common::Metrics metrics;
    test::RecordingSink sink;
    bridge::GatewayRegistry registry;
    bridge::UdpBridge bridge;
};

Rxpk packet(lorawan::Bytes phy, std::uint32_t tmst = 1'000'000) {
    Rxpk p;
    p.phy_payload = std::move(phy);
    p.tmst = tmst;
    p.freq_mhz = 868.3;
    p.spreading_factor = 9;
    p.rssi = -87;
    p.lsnr = 4.25;
    p.chan = 1;
    return p;
}

common::DownlinkItem item(std::uint32_t frequency_hz, std::chrono::microseconds delay, std::uint8_t sf) {
    common::DownlinkItem i;
    i.phy_payload = *lorawan::from_hex("6001100b26200000609efff7");  // vector DL1
    i.frequency_hz = frequency_hz;
    i.power_dbm = 14;
    i.modulation = common::LoraModulation{sf, 125'000, "4/5"};
    i.timing = common::TimingDelay{delay};
    i.context_tmst = 4'294'000'000U;
    return i;
}

common::DownlinkFrame rx1_rx2(const lorawan::Eui64& gateway, std::uint32_t id) {
    return {id, gateway, {item(868'300'000, std::chrono::seconds{1}, 9), item(869'525'000, std::chrono::seconds{2}, 12)}};
}

}  // namespace

TEST_CASE("PUSH_DATA is acknowledged with its token on the sending socket and becomes an uplink", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    const auto token = gw.push({packet(frame_f01, 123456789)});
    REQUIRE(run_until(f.io, [&] { return !gw.push_acks.empty() && !f.sink.uplinks.empty(); }));
    CHECK(gw.push_acks == std::vector<sim::Token>{token});
    CHECK(gw.acks_on_wrong_socket == 0);

    const common::UplinkFrame& up = f.sink.uplinks.at(0);
    CHECK(up.phy_payload == frame_f01);
    CHECK(up.tx_info.frequency_hz == 868'300'000U);
    const auto& lora = std::get<common::LoraModulation>(up.tx_info.modulation);
    CHECK(lora.spreading_factor == 9);
    CHECK(lora.bandwidth_hz == 125'000U);
    CHECK(lora.code_rate == "4/5");
    CHECK(up.rx_info.gateway_id == gw_a);
    CHECK(up.rx_info.tmst == 123456789U);
    CHECK(up.rx_info.rssi == -87);
    CHECK(up.rx_info.snr == Approx(4.25));
    CHECK(up.rx_info.channel == 1U);
    CHECK(f.metrics.value("schwebe_gateway_uplinks_total", {{"gateway_id", "0016c001f153a14c"}}) == 1);
}

TEST_CASE("PULL_DATA is acknowledged with its token on the pulling socket", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    const auto t1 = gw.pull();
    const auto t2 = gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 2; }));
    CHECK(gw.pull_acks == std::vector<sim::Token>{t1, t2});
    CHECK(gw.acks_on_wrong_socket == 0);
}

TEST_CASE("PULL_RESP goes to the latest PULL_DATA address, also after the gateway's port changed", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.push({packet(frame_f01)});
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1 && gw.push_acks.size() == 1; }));

    gw.rebind_down_socket();  // NAT moved the gateway's downlink path
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 2; }));

    f.bridge.send_downlink(rx1_rx2(gw_a, 7));
    REQUIRE(run_until(f.io, [&] { return !gw.downlinks.empty() && !f.sink.tx_acks.empty(); }));
    const sim::ReceivedDownlink& dl = gw.downlinks.at(0);
    CHECK(dl.on_down_socket);
    CHECK(dl.phy_payload == *lorawan::from_hex("6001100b26200000609efff7"));
    CHECK(dl.txpk["ipol"] == true);
    CHECK(dl.txpk["freq"].get<double>() == Approx(868.3));
    CHECK(dl.txpk["datr"] == "SF9BW125");
    CHECK(dl.txpk["codr"] == "4/5");
    CHECK(dl.txpk["powe"] == 14);
    CHECK(dl.txpk["size"] == 12);
    // 4 294 000 000 + 1 000 000 µs, modulo 2^32
    CHECK(dl.txpk["tmst"] == 4'294'000'000ULL + 1'000'000ULL - 4'294'967'296ULL);
    CHECK(f.sink.tx_acks.at(0) == common::DownlinkTxAck{gw_a, 7, {common::TxAckStatus::ok, common::TxAckStatus::ignored}});
}

TEST_CASE("TX_ACK is accepted with and without JSON", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1; }));

    gw.answer_tx_ack("NONE", true);
    f.bridge.send_downlink(rx1_rx2(gw_a, 1));
    REQUIRE(run_until(f.io, [&] { return f.sink.tx_acks.size() == 1; }));
    gw.answer_tx_ack("", false);  // lora_pkt_fwd v4: a bare TX_ACK when all is well
    f.bridge.send_downlink(rx1_rx2(gw_a, 2));
    REQUIRE(run_until(f.io, [&] { return f.sink.tx_acks.size() == 2; }));

    CHECK(f.sink.tx_acks[0].items == std::vector{common::TxAckStatus::ok, common::TxAckStatus::ignored});
    CHECK(f.sink.tx_acks[1].items == std::vector{common::TxAckStatus::ok, common::TxAckStatus::ignored});
    CHECK(gw.downlinks.size() == 2);
    CHECK(gw.downlinks[0].token != gw.downlinks[1].token);
}

TEST_CASE("a refused RX1 item is followed by the RX2 item", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1; }));
    gw.answer_tx_acks_in_order({"TOO_LATE"});

    f.bridge.send_downlink(rx1_rx2(gw_a, 42));
    REQUIRE(run_until(f.io, [&] { return f.sink.tx_acks.size() == 1; }));
    REQUIRE(gw.downlinks.size() == 2);
    CHECK(gw.downlinks[0].txpk["freq"].get<double>() == Approx(868.3));
    CHECK(gw.downlinks[1].txpk["freq"].get<double>() == Approx(869.525));
    CHECK(gw.downlinks[1].txpk["datr"] == "SF12BW125");
    CHECK(gw.downlinks[1].txpk["tmst"] == 4'294'000'000ULL + 2'000'000ULL - 4'294'967'296ULL);
    CHECK(f.sink.tx_acks[0] == common::DownlinkTxAck{gw_a, 42, {common::TxAckStatus::too_late, common::TxAckStatus::ok}});
    CHECK(f.metrics.value("schwebe_bridge_downlinks_total", {{"status", "OK"}}) == 1);
}

TEST_CASE("a downlink without TX_ACK fails after the time-out - without a PULL_DATA it cannot go", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);

    f.bridge.send_downlink(rx1_rx2(gw_a, 5));  // no PULL_DATA yet: no path
    REQUIRE(f.sink.tx_acks.size() == 1);
    CHECK(f.sink.tx_acks[0].items == std::vector{common::TxAckStatus::internal_error, common::TxAckStatus::ignored});

    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1; }));
    gw.answer_tx_ack(std::nullopt);  // the gateway stays silent
    f.bridge.send_downlink(rx1_rx2(gw_a, 6));
    REQUIRE(run_until(f.io, [&] { return gw.downlinks.size() == 1; }));
    f.bridge.housekeeping();
    CHECK(f.sink.tx_acks.size() == 1);  // not yet timed out
    f.clock.now += std::chrono::milliseconds{2001};
    f.bridge.housekeeping();
    REQUIRE(f.sink.tx_acks.size() == 2);
    CHECK(f.sink.tx_acks[1] == common::DownlinkTxAck{gw_a, 6, {common::TxAckStatus::internal_error, common::TxAckStatus::ignored}});
}

TEST_CASE("a protocol v1 gateway gets its PULL_RESP and no TX_ACK is awaited", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a, 1);
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1; }));
    f.bridge.send_downlink(rx1_rx2(gw_a, 9));
    REQUIRE(run_until(f.io, [&] { return gw.downlinks.size() == 1; }));
    REQUIRE(f.sink.tx_acks.size() == 1);
    CHECK(f.sink.tx_acks[0].items == std::vector{common::TxAckStatus::ok, common::TxAckStatus::ignored});
}

TEST_CASE("stat becomes gateway status and gives later uplinks their location", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.push({}, nlohmann::json{{"time", "2026-11-21 08:59:28 GMT"}, {"lati", 51.2562}, {"long", 7.1508}, {"alti", 165},
                               {"rxnb", 12}, {"rxok", 10}, {"rxfw", 9}, {"ackr", 100.0}, {"dwnb", 2}, {"txnb", 1}});
    REQUIRE(run_until(f.io, [&] { return f.sink.stats.size() == 1 && gw.push_acks.size() == 1; }));
    const common::GatewayStats& s = f.sink.stats[0];
    CHECK(s.gateway_id == gw_a);
    REQUIRE(s.location.has_value());
    CHECK(s.location->latitude == Approx(51.2562));
    CHECK(s.location->longitude == Approx(7.1508));
    CHECK(s.location->altitude == Approx(165));
    CHECK(s.rx_received == 12U);
    CHECK(s.rx_ok == 10U);
    CHECK(s.rx_forwarded == 9U);
    CHECK(s.ack_ratio == Approx(100.0));
    CHECK(s.tx_received == 2U);
    CHECK(s.tx_emitted == 1U);

    gw.push({packet(frame_f01)});
    REQUIRE(run_until(f.io, [&] { return f.sink.uplinks.size() == 1; }));
    REQUIRE(f.sink.uplinks[0].rx_info.location.has_value());
    CHECK(f.sink.uplinks[0].rx_info.location->latitude == Approx(51.2562));
}

TEST_CASE("rxpk with a CRC other than OK are dropped and counted - the good one beside them passes", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    Rxpk bad_crc = packet(frame_f01);
    bad_crc.stat = -1;
    Rxpk no_crc = packet(frame_f01);
    no_crc.stat = 0;
    gw.push({bad_crc, packet(frame_f01, 77), no_crc});
    REQUIRE(run_until(f.io, [&] { return gw.push_acks.size() == 1 && f.sink.uplinks.size() == 1; }));
    CHECK(f.sink.uplinks[0].rx_info.tmst == 77U);
    CHECK(f.dropped("crc_not_ok") == 2);
}

TEST_CASE("the multi-antenna rsig form gives one reception per antenna", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    const std::string data = common::base64_encode(frame_f01);
    gw.push_json(R"({"rxpk":[{"tmst":5,"freq":868.1,"chan":0,"rfch":0,"stat":1,"modu":"LORA","datr":"SF7BW125",)"
                 R"("codr":"4/5","size":14,"data":")" + data + R"(","rsig":[{"ant":0,"chan":3,"rssic":-70,"lsnr":9.5},)"
                 R"({"ant":1,"chan":3,"rssic":-75,"lsnr":6.0}]}]})");
    REQUIRE(run_until(f.io, [&] { return f.sink.uplinks.size() == 2; }));
    std::vector<std::uint32_t> antennas;
    for (const auto& u : f.sink.uplinks) {
        antennas.push_back(u.rx_info.antenna);
        CHECK(u.phy_payload == frame_f01);
        CHECK(u.rx_info.rssi == (u.rx_info.antenna == 0 ? -70 : -75));
    }
    std::sort(antennas.begin(), antennas.end());
    CHECK(antennas == std::vector<std::uint32_t>{0, 1});
}

TEST_CASE("every kind of malformed datagram is counted by reason, and a good datagram after it gets through",
          "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    const auto eui = gw_a.bytes();
    auto with_header = [&](std::uint8_t version, std::uint8_t id, std::string_view json) {
        lorawan::Bytes d;
        d.reserve(12 + json.size());
        d.push_back(version);
        d.push_back(0x12);
        d.push_back(0x34);
        d.push_back(id);
        d.insert(d.end(), eui.begin(), eui.end());
        d.insert(d.end(), json.begin(), json.end());
        return d;
    };
    const std::string good_data = common::base64_encode(frame_f01);
    auto rxpk_json = [&](std::string_view fields) {
        return R"({"rxpk":[{"tmst":1,"freq":868.1,"chan":0,"rfch":0,"stat":1,"modu":"LORA","datr":"SF7BW125",)"
               R"("codr":"4/5","rssi":-50,"lsnr":5.5,)" + std::string(fields) + "}]}";
    };
    struct Bad {
        lorawan::Bytes datagram;
        std::string reason;
    };
    const std::vector<Bad> bad = {
        {{0x02, 0x12}, "too_short"},
        {{0x02, 0x12, 0x34, 0x00, 0x01, 0x02}, "too_short"},
        {with_header(3, 0x00, "{}"), "unsupported_version"},
        {with_header(0, 0x02, ""), "unsupported_version"},
        {with_header(2, 0x09, ""), "unknown_identifier"},
        {with_header(2, 0x01, ""), "unexpected_direction"},
        {with_header(2, 0x00, "{\"rxpk\":[{\"tmst\":"), "invalid_json"},
        {with_header(2, 0x00, "not json at all"), "invalid_json"},
        {with_header(2, 0x00, "[1,2,3]"), "invalid_json"},
        {with_header(2, 0x00, R"({"rxpk":{"tmst":1}})"), "wrong_json_type"},
        {with_header(2, 0x00, rxpk_json(R"("size":14,"data":")" + good_data + R"(","freq":"868.1")")), "wrong_json_type"},
        {with_header(2, 0x00, rxpk_json(R"("size":14,"data":"@@@@")")), "invalid_base64"},
        {with_header(2, 0x00, rxpk_json(R"("size":15,"data":")" + good_data + "\"")), "size_mismatch"},
        {with_header(2, 0x00, R"({"rxpk":[{"tmst":1,"freq":868.1,"stat":1,"modu":"LORA","datr":"SF99BW125","codr":"4/5","rssi":-50,"size":14,"data":")" + good_data + "\"}]}"), "invalid_datarate"},
        {with_header(2, 0x00, std::string(60'000, '{')), "invalid_json"},
    };
    std::map<std::string, std::uint64_t> expected;
    for (std::size_t i = 0; i < bad.size(); ++i) {
        INFO("bad datagram " << i << ", expected reason " << bad[i].reason);
        gw.send_raw(bad[i].datagram);
        ++expected[bad[i].reason];
        const std::size_t before = f.sink.uplinks.size();
        gw.push({packet(frame_f01, static_cast<std::uint32_t>(i))});
        REQUIRE(run_until(f.io, [&] { return f.sink.uplinks.size() == before + 1; }));
        CHECK(f.sink.uplinks.back().rx_info.tmst == i);
    }
    for (const auto& [reason, count] : expected) {
        INFO(reason);
        CHECK(f.dropped(reason) == count);
    }
}

TEST_CASE("allowlist policy: only registered gateways are heard", "[integration][bridge]") {
    bridge::GatewayRecord registered;
    registered.gateway_id = gw_b;
    registered.name = "Rathaus Barmen";
    registered.registered = true;
    registered.location = common::Location{51.27, 7.2, 150};
    bridge::RegistryOptions options;
    options.policy = bridge::GatewayPolicy::allowlist;
    BridgeFixture f{options, {registered}};
    SimulatedGateway stranger = f.gateway(gw_a);
    SimulatedGateway known = f.gateway(gw_b);

    stranger.push({packet(frame_f01, 1)});
    stranger.pull();
    known.push({packet(frame_f01, 2)});
    REQUIRE(run_until(f.io, [&] { return f.sink.uplinks.size() == 1 && known.push_acks.size() == 1; }));
    REQUIRE(run_until(f.io, [&] { return f.dropped("gateway_not_allowed") == 2; }));
    CHECK(stranger.push_acks.empty());
    CHECK(stranger.pull_acks.empty());
    CHECK(f.sink.uplinks[0].rx_info.gateway_id == gw_b);
    REQUIRE(f.sink.uplinks[0].rx_info.location.has_value());
    CHECK(f.sink.uplinks[0].rx_info.location->latitude == Approx(51.27));
}

TEST_CASE("a flooding gateway is rate-limited and does not starve another one", "[integration][bridge]") {
    bridge::RegistryOptions options;
    options.rate_per_s = 100;
    options.rate_burst = 200;
    BridgeFixture f{options};  // the fake clock stands still: the flooder only ever has its burst
    SimulatedGateway flooder = f.gateway(gw_a);
    SimulatedGateway quiet = f.gateway(gw_b);
    constexpr int rounds = 40;
    constexpr int flood_per_round = 50;
    for (int round = 0; round < rounds; ++round) {
        for (int i = 0; i < flood_per_round; ++i) flooder.push({packet(frame_f01, 1)});
        quiet.push({packet(frame_f01, static_cast<std::uint32_t>(1000 + round))});
        REQUIRE(run_until(f.io, [&] { return quiet.push_acks.size() == static_cast<std::size_t>(round + 1); }));
    }
    std::size_t from_quiet = 0;
    for (const auto& u : f.sink.uplinks) from_quiet += u.rx_info.gateway_id == gw_b ? 1 : 0;
    CHECK(from_quiet == static_cast<std::size_t>(rounds));
    CHECK(flooder.push_acks.size() <= 200);
    CHECK(f.dropped("rate_limited") >= static_cast<std::uint64_t>(rounds * flood_per_round - 200 - 100));
}

TEST_CASE("a gateway's keepalives keep the downlink path and each is acknowledged", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.start_keepalive(std::chrono::milliseconds{20});
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() >= 3; }));
    gw.stop_keepalive();
    CHECK(gw.acks_on_wrong_socket == 0);
    f.bridge.send_downlink(rx1_rx2(gw_a, 3));
    REQUIRE(run_until(f.io, [&] { return f.sink.tx_acks.size() == 1; }));
    CHECK(gw.downlinks.at(0).on_down_socket);
}

TEST_CASE("gateways go online with their first datagram and offline after silence", "[integration][bridge]") {
    BridgeFixture f;
    SimulatedGateway gw = f.gateway(gw_a);
    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 1; }));
    f.bridge.housekeeping();
    REQUIRE(f.sink.conn_states.size() == 1);
    CHECK(f.sink.conn_states[0] == common::GatewayConnState{gw_a, true});

    f.clock.now += std::chrono::seconds{29};
    f.bridge.housekeeping();
    CHECK(f.sink.conn_states.size() == 1);
    f.clock.now += std::chrono::seconds{2};
    f.bridge.housekeeping();
    REQUIRE(f.sink.conn_states.size() == 2);
    CHECK(f.sink.conn_states[1] == common::GatewayConnState{gw_a, false});

    gw.pull();
    REQUIRE(run_until(f.io, [&] { return gw.pull_acks.size() == 2; }));
    f.bridge.housekeeping();
    REQUIRE(f.sink.conn_states.size() == 3);
    CHECK(f.sink.conn_states[2].online);
}

TEST_CASE("gateways seen and their activity are persisted in SQLite", "[integration][bridge][sqlite]") {
    const test::TempDir dir;
    {
        auto db = sqlite::Database::open(dir.db_path());
        sqlite::SqliteGatewayStore store{db};
        BridgeFixture f{{}, store.load_gateways(), &store};
        SimulatedGateway gw = f.gateway(gw_a);
        gw.push({packet(frame_f01, 1), packet(frame_f01, 2)}, nlohmann::json{{"lati", 51.25}, {"long", 7.15}});
        REQUIRE(run_until(f.io, [&] { return f.sink.uplinks.size() == 2; }));
        f.bridge.stop();  // flushes
        const auto records = store.load_gateways();
        REQUIRE(records.size() == 1);
        CHECK(records[0].gateway_id == gw_a);
        CHECK_FALSE(records[0].registered);
        CHECK(records[0].frames_received == 2U);
        CHECK(records[0].last_seen.has_value());
        REQUIRE(records[0].location.has_value());
        CHECK(records[0].location->latitude == Approx(51.25));
    }
}
