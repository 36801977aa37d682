// The MQTT client, the bridge's forwarder and the network server's gateway backend against a real Mosquitto.
// Every wait runs the io_context until a condition holds or a deadline passes; nothing sleeps for timing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/gateway_json.hpp"
#include "gateway-bridge/mqtt_forwarder.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/mqtt/mqtt_gateway_backend.hpp"
#include "support/mosquitto.hpp"
#include "support/recording_sink.hpp"

using namespace std::chrono_literals;
using schwebe::common::DownlinkFrame;
using schwebe::common::Eui64;
using schwebe::mqtt::Client;
using schwebe::mqtt::Message;
using schwebe::test::Mosquitto;

namespace {

/// One io_context kept busy by a work guard, so that run_one_for waits for handlers instead of returning at once.
struct Io {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};

    /// Runs handlers until `done()` holds; false when `timeout` passes first.
    template <class Done>
    bool run_until(Done done, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io.run_one_for(20ms);
        }
        return true;
    }
};

schwebe::mqtt::Options options_for(const std::string& uri, const std::string& client_id) {
    schwebe::mqtt::Options o;
    o.server_uri = uri;
    o.client_id = client_id;
    o.stop_timeout = 1s;
    return o;
}

struct FakeDownlinkSender : schwebe::common::DownlinkSender {
    std::vector<DownlinkFrame> frames;
    void send_downlink(DownlinkFrame frame) override { frames.push_back(std::move(frame)); }
};

/// A forwarder (bridge side) and a backend (network-server side) talking through one broker, both connected.
struct Pipeline {
    explicit Pipeline(schwebe::mqtt::GatewayBackendOptions backend_options = {})
        : bridge_client(io.io, options_for(broker.uri(), "bridge")),
          ns_client(io.io, options_for(broker.uri(), "ns")),
          forwarder(bridge_client, udp),
          backend(ns_client, network_server, std::move(backend_options)) {
        bridge_client.start();
        ns_client.start();
        REQUIRE(io.run_until([&] { return bridge_client.connected() && ns_client.connected(); }));
    }

    Mosquitto broker;
    Io io;
    Client bridge_client;
    Client ns_client;
    FakeDownlinkSender udp;
    schwebe::test::RecordingSink network_server;
    schwebe::bridge::MqttForwarder forwarder;
    schwebe::mqtt::MqttGatewayBackend backend;
};

Eui64 gateway_id(const char* hex = "0016c001f153a14c") {
    return *Eui64::from_hex(hex);
}

schwebe::common::SystemTime at(std::chrono::nanoseconds since_epoch) {
    return schwebe::common::SystemTime{std::chrono::duration_cast<schwebe::common::SystemTime::duration>(since_epoch)};
}

schwebe::common::UplinkFrame an_uplink() {
    schwebe::common::UplinkFrame f;
    f.phy_payload = {0x80, 0xa6, 0xfe, 0x6a, 0x01, 0x80, 0x05, 0x00, 0x01, 0x38, 0x87, 0x3a, 0x73, 0x04};
    f.tx_info = {867'300'000, schwebe::common::LoraModulation{7, 125'000, "4/5"}};
    f.rx_info.gateway_id = gateway_id();
    f.rx_info.uplink_id = 7895;
    f.rx_info.received_at = at(1'659'537'463'400'000'001ns);
    f.rx_info.time = at(1'659'537'463'383'634'108ns);
    f.rx_info.gps_time_ms = 1'343'572'681'383;
    f.rx_info.tmst = 0xc70c7419;
    f.rx_info.rssi = -52;
    f.rx_info.snr = 13.75;
    f.rx_info.channel = 3;
    f.rx_info.rf_chain = 1;
    f.rx_info.antenna = 1;
    f.rx_info.location = schwebe::common::Location{51.2562, 7.1508, 142.5};
    f.rx_info.crc_status = schwebe::common::CrcStatus::ok;
    return f;
}

DownlinkFrame a_downlink() {
    DownlinkFrame f;
    f.downlink_id = 894104280;
    f.gateway_id = gateway_id();
    schwebe::common::DownlinkItem rx1;
    rx1.phy_payload = {0x60, 0x04, 0x03, 0x02, 0x01, 0x80, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44};
    rx1.frequency_hz = 867'300'000;
    rx1.power_dbm = 14;
    rx1.modulation = schwebe::common::LoraModulation{7, 125'000, "4/5"};
    rx1.timing = schwebe::common::TimingDelay{1s};
    rx1.context_tmst = 0xc70c7419;
    schwebe::common::DownlinkItem rx2 = rx1;
    rx2.frequency_hz = 869'525'000;
    rx2.power_dbm = 27;
    rx2.modulation = schwebe::common::LoraModulation{12, 125'000, "4/5"};
    rx2.timing = schwebe::common::TimingDelay{2s};
    f.items = {rx1, rx2};
    return f;
}

}  // namespace

TEST_CASE("MQTT topic filters match as MQTT 3.1.1 says", "[unit][mqtt]") {
    using schwebe::mqtt::topic_matches;
    CHECK(topic_matches("eu868/gateway/+/event/+", "eu868/gateway/0016c001f153a14c/event/up"));
    CHECK_FALSE(topic_matches("eu868/gateway/+/event/+", "eu868/gateway/0016c001f153a14c/state/conn"));
    CHECK_FALSE(topic_matches("eu868/gateway/+/event/+", "eu868/gateway/0016c001f153a14c/event/up/extra"));
    CHECK(topic_matches("$share/ns/eu868/gateway/+/event/+", "eu868/gateway/0016c001f153a14c/event/stats"));
    CHECK(topic_matches("a/#", "a"));
    CHECK(topic_matches("a/#", "a/b/c"));
    CHECK(topic_matches("#", "a/b"));
    CHECK_FALSE(topic_matches("#", "$SYS/broker/uptime"));
    CHECK_FALSE(topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
    CHECK(topic_matches("$SYS/#", "$SYS/broker/uptime"));
    CHECK(topic_matches("a/+/c", "a//c"));
    CHECK_FALSE(topic_matches("a/b", "a/b/c"));
    CHECK_FALSE(topic_matches("a/b/c", "a/b"));
}

TEST_CASE("a server URI Paho cannot use is a start-up error", "[unit][mqtt]") {
    Io io;
    CHECK_THROWS_AS(Client(io.io, options_for("gopher://127.0.0.1:1883", "bad")), std::invalid_argument);
}

TEST_CASE("a client receives what it publishes on its own subscription", "[integration][mqtt]") {
    Mosquitto broker;
    Io io;
    Client client(io.io, options_for(broker.uri(), "self"));
    std::vector<Message> received;
    client.subscribe("schwebe/test/#", 1, [&](const Message& m) { received.push_back(m); });
    std::vector<bool> connection_reports;
    client.set_connection_handler([&](bool up) { connection_reports.push_back(up); });
    client.start();
    REQUIRE(io.run_until([&] { return client.connected(); }));
    CHECK(connection_reports == std::vector<bool>{true});

    std::optional<bool> delivered;
    REQUIRE(client.publish("schwebe/test/a", "hello", 1, false, [&](bool ok) { delivered = ok; }));
    REQUIRE(io.run_until([&] { return delivered.has_value() && received.size() == 1; }));
    CHECK(*delivered);
    CHECK(received[0].topic == "schwebe/test/a");
    CHECK(received[0].payload == "hello");
    CHECK(received[0].qos == 1);
    CHECK_FALSE(received[0].retained);

    // A subscription made while connected reports the broker's answer, and then receives.
    std::optional<bool> subscribed;
    std::vector<Message> other;
    client.subscribe(
        "other/+", 1, [&](const Message& m) { other.push_back(m); }, [&](bool ok) { subscribed = ok; });
    REQUIRE(io.run_until([&] { return subscribed.has_value(); }));
    CHECK(*subscribed);
    REQUIRE(client.publish("other/x", "", 0, false));
    REQUIRE(io.run_until([&] { return other.size() == 1; }));
    CHECK(other[0].payload.empty());
    CHECK(received.size() == 1);  // "other/x" is not under schwebe/test/#

    // Topics with wildcards are not publishable.
    CHECK_FALSE(client.publish("schwebe/+/a", "x", 1, false));
    CHECK(client.stats().publish_rejected == 1);
    CHECK(client.stats().delivered == 2);
}

TEST_CASE("a client started while the broker is down connects once it is up", "[integration][mqtt]") {
    Mosquitto broker(Mosquitto::Deferred{});
    Io io;

    // Until the broker runs, the test holds its port: the client's first attempt is accepted here and closed, so
    // it provably failed once before the broker existed.
    boost::asio::ip::tcp::acceptor squatter(
        io.io, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), broker.port()));
    boost::asio::ip::tcp::socket attempt(io.io);
    bool attempted = false;
    squatter.async_accept(attempt, [&](const boost::system::error_code& ec) { attempted = !ec; });

    Client client(io.io, options_for(broker.uri(), "late"));
    std::vector<Message> received;
    client.subscribe("late/#", 1, [&](const Message& m) { received.push_back(m); });
    const auto before_start = std::chrono::steady_clock::now();
    client.start();
    CHECK(std::chrono::steady_clock::now() - before_start < 500ms);  // start() does not wait for the broker
    CHECK_FALSE(client.connected());

    REQUIRE(io.run_until([&] { return attempted; }));
    attempt.close();
    squatter.close();

    // Published while down: held in the client's buffer, delivered after it connects.
    std::optional<bool> buffered_delivered;
    REQUIRE(client.publish("late/buffered", "early", 1, false, [&](bool ok) { buffered_delivered = ok; }));
    CHECK_FALSE(client.connected());

    broker.start();
    REQUIRE(io.run_until([&] { return client.connected(); }, 20s));
    REQUIRE(io.run_until([&] { return buffered_delivered.has_value(); }));
    CHECK(*buffered_delivered);

    REQUIRE(client.publish("late/after", "hello", 1, false));
    REQUIRE(io.run_until([&] {
        return std::any_of(received.begin(), received.end(), [](const Message& m) { return m.topic == "late/after"; });
    }));
}

TEST_CASE("publishes beyond the buffer bound are refused, pending ones fail at stop", "[integration][mqtt]") {
    Mosquitto broker(Mosquitto::Deferred{});  // never started: the port is free and nothing answers
    Io io;
    auto options = options_for(broker.uri(), "bounded");
    options.max_buffered_messages = 3;
    Client client(io.io, options);
    client.start();
    std::vector<bool> outcomes;
    for (int i = 0; i < 3; ++i) {
        CHECK(client.publish("bounded/t", std::to_string(i), 1, false, [&](bool ok) { outcomes.push_back(ok); }));
    }
    CHECK_FALSE(client.publish("bounded/t", "one too many", 1, false, [&](bool ok) { outcomes.push_back(ok); }));
    CHECK(client.stats().publish_rejected == 1);

    const auto before_stop = std::chrono::steady_clock::now();
    client.stop();
    CHECK(std::chrono::steady_clock::now() - before_stop < 3s);  // bounded by stop_timeout
    REQUIRE(io.run_until([&] { return outcomes.size() == 3; }));
    CHECK(outcomes == std::vector<bool>{false, false, false});
    CHECK_FALSE(client.publish("bounded/t", "after stop", 1, false));
}

TEST_CASE("gateway events go from the forwarder through the broker to the backend unchanged", "[integration][mqtt]") {
    Pipeline pipeline;
    auto& io = pipeline.io;
    auto& network_server = pipeline.network_server;
    auto& forwarder = pipeline.forwarder;
    auto& backend = pipeline.backend;

    const auto uplink = an_uplink();
    schwebe::common::GatewayStats stats;
    stats.gateway_id = gateway_id();
    stats.received_at = at(1'659'537'500'000'000'000ns);
    stats.time = at(1'659'537'499'000'000'000ns);
    stats.location = schwebe::common::Location{51.2562, 7.1508, 142.5};
    stats.rx_received = 12;
    stats.rx_ok = 10;
    stats.rx_forwarded = 9;
    stats.ack_ratio = 87.5;
    stats.tx_received = 2;
    stats.tx_emitted = 1;
    const schwebe::common::DownlinkTxAck ack{
        gateway_id(), 894104280, {schwebe::common::TxAckStatus::too_late, schwebe::common::TxAckStatus::ok}};
    const schwebe::common::GatewayConnState online{gateway_id(), true};

    forwarder.on_uplink(uplink);
    forwarder.on_stats(stats);
    forwarder.on_tx_ack(ack);
    forwarder.on_conn_state(online);
    REQUIRE(io.run_until([&] {
        return network_server.uplinks.size() == 1 && network_server.stats.size() == 1 &&
               network_server.tx_acks.size() == 1 && network_server.conn_states.size() == 1;
    }));
    CHECK(network_server.uplinks[0] == uplink);
    CHECK(network_server.stats[0] == stats);
    CHECK(network_server.tx_acks[0] == ack);
    CHECK(network_server.conn_states[0] == online);
    CHECK(forwarder.drops().empty());
    CHECK(backend.drops().empty());
    CHECK(backend.events() == 4);

    // The connection state is retained: a network server that starts later learns it at once.
    Client late_client(io.io, options_for(pipeline.broker.uri(), "ns-late"));
    schwebe::test::RecordingSink late_server;
    schwebe::mqtt::MqttGatewayBackend late_backend(late_client, late_server);
    late_client.start();
    REQUIRE(io.run_until([&] { return late_server.conn_states.size() == 1; }));
    CHECK(late_server.conn_states[0] == online);
    CHECK(late_server.uplinks.empty());
}

TEST_CASE("the backend stamps ChirpStack bridge events without a server time and drops bad ones",
          "[integration][mqtt]") {
    Mosquitto broker;
    Io io;
    Client gateway_side(io.io, options_for(broker.uri(), "chirpstack-bridge"));
    Client ns_client(io.io, options_for(broker.uri(), "ns"));
    schwebe::test::RecordingSink network_server;
    const auto server_now = at(1'700'000'000'000'000'000ns);
    schwebe::mqtt::MqttGatewayBackend backend(ns_client, network_server, {}, [&] { return server_now; });
    gateway_side.start();
    ns_client.start();
    REQUIRE(io.run_until([&] { return gateway_side.connected() && ns_client.connected(); }));

    const std::string topic = "eu868/gateway/0016c001f153a14c/event/up";
    // The reference's uplink event, as ChirpStack Gateway Bridge publishes it (no nsTime).
    const std::string reference_up = R"({"phyPayload":"gKb+agGABQABOIc6cwQ=",
 "txInfo":{"frequency":867300000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}},
 "rxInfo":{"gatewayId":"0016c001f153a14c","uplinkId":7895,"time":"2022-08-03T14:37:43.383634108Z",
   "rssi":-52,"snr":13.75,"context":"xwx0GQ=="}})";
    REQUIRE(gateway_side.publish(topic, "{not json", 1, false));
    REQUIRE(gateway_side.publish("eu868/gateway/0102030405060708/event/up", reference_up, 1, false));
    REQUIRE(gateway_side.publish("eu868/gateway/0016c001f153a14c/event/exec", "{}", 1, false));
    REQUIRE(gateway_side.publish(topic, reference_up, 1, false));
    // One publisher, one subscriber: the broker keeps their order, so the valid one arrives after the others.
    REQUIRE(io.run_until([&] { return network_server.uplinks.size() == 1; }));
    CHECK(network_server.uplinks[0].rx_info.received_at == server_now);
    CHECK(network_server.uplinks[0].rx_info.tmst == 0xc70c7419);
    CHECK(backend.drops() ==
          std::map<std::string, std::uint64_t>{{"invalid_json", 1}, {"gateway_id_mismatch", 1}, {"unknown_event", 1}});
}

TEST_CASE("a backend in a share group receives gateway events", "[integration][mqtt]") {
    Pipeline p{{.share_group = "schwebe"}};
    p.forwarder.on_uplink(an_uplink());
    REQUIRE(p.io.run_until([&] { return p.network_server.uplinks.size() == 1; }));
    CHECK(p.network_server.uplinks[0] == an_uplink());
}

TEST_CASE("downlinks go from the backend through the broker to the bridge's UDP side unchanged",
          "[integration][mqtt]") {
    Pipeline p;
    const DownlinkFrame downlink = a_downlink();
    p.backend.send_downlink(downlink);
    REQUIRE(p.io.run_until([&] { return p.udp.frames.size() == 1; }));
    CHECK(p.udp.frames[0] == downlink);
    CHECK(p.forwarder.downlinks() == 1);
    CHECK(p.forwarder.drops().empty());
}

TEST_CASE("bad downlink commands are dropped and counted, the next good one passes", "[integration][mqtt]") {
    Mosquitto broker;
    Io io;
    Client bridge_client(io.io, options_for(broker.uri(), "bridge"));
    Client ns_side(io.io, options_for(broker.uri(), "ns-raw"));
    FakeDownlinkSender udp;
    schwebe::bridge::MqttForwarder forwarder(bridge_client, udp);
    bridge_client.start();
    ns_side.start();
    REQUIRE(io.run_until([&] { return bridge_client.connected() && ns_side.connected(); }));

    const std::string topic = "eu868/gateway/0016c001f153a14c/command/down";
    const std::string good = schwebe::common::to_gateway_json(a_downlink());
    REQUIRE(ns_side.publish(topic, "{\"downlinkId\": 1, \"items\": [", 1, false));
    REQUIRE(ns_side.publish(topic, R"({"gatewayId":"0016c001f153a14c","items":[{"phyPayload":"AA=="}]})", 1, false));
    REQUIRE(ns_side.publish("eu868/gateway/0102030405060708/command/down", good, 1, false));
    REQUIRE(ns_side.publish(topic, good, 1, false));
    // One publisher, one subscriber: order is kept, so when the good command has arrived the bad ones were seen.
    REQUIRE(io.run_until([&] { return udp.frames.size() == 1; }));
    CHECK(udp.frames[0] == a_downlink());
    CHECK(forwarder.drops() == std::map<std::string, std::uint64_t>{{"invalid_json", 2}, {"gateway_id_mismatch", 1}});
    CHECK(forwarder.downlinks() == 1);
}

TEST_CASE("after a broker outage the client reconnects, subscribes again and delivers what waited",
          "[integration][mqtt]") {
    Mosquitto broker;
    Io io;
    Client client(io.io, options_for(broker.uri(), "outage"));
    std::vector<Message> received;
    client.subscribe("outage/#", 1, [&](const Message& m) { received.push_back(m); });
    std::vector<bool> reports;
    client.set_connection_handler([&](bool up) { reports.push_back(up); });
    client.start();
    REQUIRE(io.run_until([&] { return client.connected(); }));

    broker.stop();
    REQUIRE(io.run_until([&] { return !client.connected(); }));
    std::optional<bool> delivered;
    REQUIRE(client.publish("outage/during", "waited", 1, false, [&](bool ok) { delivered = ok; }));

    broker.start();  // same port; a clean session, so the broker knows no subscription of ours any more
    REQUIRE(io.run_until([&] { return client.connected() && delivered.has_value(); }, 20s));
    CHECK(*delivered);
    CHECK(reports == std::vector<bool>{true, false, true});
    CHECK(client.stats().connects == 2);
    CHECK(client.stats().connections_lost == 1);

    REQUIRE(client.publish("outage/after", "again", 1, false));
    REQUIRE(io.run_until([&] {
        return std::any_of(received.begin(), received.end(),
                           [](const Message& m) { return m.topic == "outage/after"; });
    }));
}

TEST_CASE("messages beyond the inbound bound are dropped and counted", "[integration][mqtt]") {
    Mosquitto broker;
    Io io;
    auto options = options_for(broker.uri(), "inbound");
    options.max_inbound_queue = 2;
    Client client(io.io, options);
    std::vector<Message> received;
    client.subscribe("inbound/#", 0, [&](const Message& m) { received.push_back(m); });
    client.start();
    REQUIRE(io.run_until([&] { return client.connected(); }));

    // Published and received by Paho's threads while the io_context does not run: two wait, three are dropped.
    for (int i = 0; i < 5; ++i) REQUIRE(client.publish("inbound/t", std::to_string(i), 0, false));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (client.stats().inbound_dropped < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    REQUIRE(client.stats().inbound_dropped == 3);
    REQUIRE(io.run_until([&] { return received.size() == 2; }));
    CHECK(received[0].payload == "0");
    CHECK(received[1].payload == "1");
    CHECK(client.stats().received == 2);
}
