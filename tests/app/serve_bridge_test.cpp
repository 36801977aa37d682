// `schwebe serve --components bridge` as an operator runs it: the real binary, a real Mosquitto, a simulated
// gateway over loopback UDP. Gateway events must come out on the ChirpStack Gateway Bridge topics, and a downlink
// command published to MQTT must reach the gateway and come back as an ack event.

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "common/gateway_json.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "sim/simulated_gateway.hpp"
#include "support/mosquitto.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

using namespace schwebe;
using test::free_udp_port;
using test::SchwebeProcess;
namespace asio = boost::asio;

TEST_CASE("standalone bridge: gateway events to MQTT, downlink commands from MQTT", "[integration][serve][mqtt]") {
    test::Mosquitto broker;
    const test::TempDir dir;
    const std::uint16_t udp_port = free_udp_port();
    SchwebeProcess schwebe{{"serve", "--components", "bridge"},
                           {{"SCHWEBE_BRIDGE_UDP_BIND", "127.0.0.1:" + std::to_string(udp_port)},
                            {"SCHWEBE_MQTT_SERVER", broker.uri()},
                            {"SCHWEBE_STORAGE_SQLITE_PATH", dir.db_path().string()},
                            {"SCHWEBE_LOG_LEVEL", "warn"}}};

    asio::io_context io;
    mqtt::Options options;
    options.server_uri = broker.uri();
    mqtt::Client observer{io, options};
    std::vector<mqtt::Message> events;
    bool subscribed = false;
    observer.subscribe("eu868/gateway/#", 1, [&](const mqtt::Message& m) { events.push_back(m); },
                       [&](bool ok) { subscribed = ok; });
    observer.start();
    REQUIRE(sim::run_until(io, [&] { return subscribed; }));

    const auto gw_id = *lorawan::Eui64::from_hex("0016c001f153a14c");
    sim::SimulatedGateway gw{io, gw_id, {asio::ip::make_address("127.0.0.1"), udp_port}};
    REQUIRE(test::wait_for_server(io, gw));  // the server may still be starting

    sim::Rxpk p;
    p.phy_payload = *lorawan::from_hex("4001100b2600000001e3571634ab");  // vector F01
    p.tmst = 3'000'000;
    p.freq_mhz = 868.5;
    p.rssi = -91;
    p.lsnr = -2.5;
    gw.push({p});

    auto find = [&](const std::string& suffix) -> const mqtt::Message* {
        for (const auto& m : events) {
            if (m.topic == "eu868/gateway/0016c001f153a14c/" + suffix) return &m;
        }
        return nullptr;
    };
    REQUIRE(sim::run_until(io, [&] { return find("event/up") != nullptr; }, std::chrono::seconds{10}));
    const auto up = common::parse_uplink_frame(find("event/up")->payload);
    REQUIRE(up.ok());
    CHECK(up->phy_payload == p.phy_payload);
    CHECK(up->tx_info.frequency_hz == 868'500'000U);
    CHECK(up->rx_info.gateway_id == gw_id);
    CHECK(up->rx_info.rssi == -91);
    CHECK(up->rx_info.tmst == 3'000'000U);

    // A downlink command as a network server elsewhere would publish it, RX1 then RX2; the gateway refuses RX1.
    common::DownlinkFrame down;
    down.downlink_id = 4711;
    down.gateway_id = gw_id;
    common::DownlinkItem rx1;
    rx1.phy_payload = *lorawan::from_hex("6001100b26200000609efff7");  // vector DL1
    rx1.frequency_hz = 868'500'000;
    rx1.modulation = common::LoraModulation{7, 125'000, "4/5"};
    rx1.timing = common::TimingDelay{std::chrono::seconds{1}};
    rx1.context_tmst = 3'000'000;
    common::DownlinkItem rx2 = rx1;
    rx2.frequency_hz = 869'525'000;
    rx2.modulation = common::LoraModulation{12, 125'000, "4/5"};
    rx2.timing = common::TimingDelay{std::chrono::seconds{2}};
    down.items = {rx1, rx2};
    gw.answer_tx_acks_in_order({"TOO_LATE"});
    REQUIRE(observer.publish("eu868/gateway/0016c001f153a14c/command/down", common::to_gateway_json(down), 1, false));

    REQUIRE(sim::run_until(io, [&] { return find("event/ack") != nullptr; }, std::chrono::seconds{10}));
    REQUIRE(gw.downlinks.size() == 2);
    CHECK(gw.downlinks[0].phy_payload == rx1.phy_payload);
    CHECK(gw.downlinks[0].txpk["tmst"] == 4'000'000);
    CHECK(gw.downlinks[1].txpk["freq"].get<double>() == Approx(869.525));
    CHECK(gw.downlinks[1].txpk["tmst"] == 5'000'000);
    const auto ack = common::parse_downlink_tx_ack(find("event/ack")->payload);
    REQUIRE(ack.ok());
    CHECK(*ack == common::DownlinkTxAck{gw_id, 4711, {common::TxAckStatus::too_late, common::TxAckStatus::ok}});

    observer.stop();
    CHECK(schwebe.terminate() == 0);
}
