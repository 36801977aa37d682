// `schwebe serve --components bridge,ns` with JavaScript payload codecs (decoders/js), seen as an application sees
// it: a device profile names a codec file, and frames from a simulated gateway over loopback UDP come out on a
// real Mosquitto and in the SQLite file decoded by that codec, run in Node.js workers. A codec that loops or
// exhausts its heap costs its own uplink only (published raw, with an UPLINK_CODEC log), never a later one; the
// `object` of a downlink command goes through encodeDownlink into the queue; SIGHUP reads the files again.
// Each test writes its codec into its temporary directory; the expected values are worked out by hand from the
// payloads, never taken from the server's output.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "app/serve_process_support.hpp"
#include "app/serve_test_support.hpp"
#include "common/base64.hpp"
#include "common/gateway_json.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "lorawan/session.hpp"
#include "network-server/ns_fixture.hpp"
#include "support/mosquitto.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

using namespace schwebe;
using namespace schwebe::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using Json = nlohmann::json;

namespace {

const auto gateway_eui = *lorawan::Eui64::from_hex("0016c001f153a14c");
constexpr const char* application_name = "city";
constexpr const char* profile_name = "js-sensor";

/// The device of these tests: ABP, LoRaWAN 1.0.3, a session with fixed keys.
struct Device {
    std::string dev_eui = "70b3d57ed00c0001";
    std::string name = "js-sensor-01";
    lorawan::DevAddr dev_addr{0x260c1001U};
    std::string nwk_s_key = "2b7e151628aed2a6abf7158809cf4f3c";
    std::string app_s_key = "000102030405060708090a0b0c0d0e0f";
    lorawan::SessionCrypto crypto{*lorawan::NwkSKey::from_hex(nwk_s_key), *lorawan::AppSKey::from_hex(app_s_key)};
};

/// A broker, a store with one device whose profile names a JavaScript codec file, `schwebe serve` and a simulated
/// gateway in front of it, and an observer of everything the server publishes.
struct JsServeFixture {
    JsServeFixture()
        : config(write_config(dir, free_udp_port(), broker.uri())),
          gateway(test_io.io, gateway_eui, {asio::ip::make_address("127.0.0.1"), config.udp_port}) {
        REQUIRE(std::filesystem::create_directory(dir.path() / "codecs"));
    }

    /// Writes (or rewrites) a codec file; its absolute path.
    std::filesystem::path write_codec(const std::string& name, const std::string& source) {
        const auto path = dir.path() / "codecs" / name;
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << source;
        out.close();
        REQUIRE(out.good());
        return path;
    }

    /// The profile naming the codec file and the device, with the CLI as an operator does.
    void provision(const std::filesystem::path& codec) {
        schwebe_cli(config, {"profile", "add", "--name", profile_name, "--activation", "abp", "--mac-version", "1.0.3",
                             "--codec", codec.string(), "--adr", "off", "--dev-status-interval", "0"});
        schwebe_cli(config, {"device", "add", "--dev-eui", device.dev_eui, "--name", device.name, "--profile",
                             profile_name, "--application", application_name, "--dev-addr", device.dev_addr.to_string(),
                             "--nwk-s-key", device.nwk_s_key, "--app-s-key", device.app_s_key});
    }

    /// The observer first (events are not retained), then the server, with `env` as its SCHWEBE_* environment.
    void start(std::map<std::string, std::string> env = {}) {
        store.emplace(config.db_path);
        application_id = store->application_id(application_name);
        observer.emplace(test_io.io, broker.uri(), std::vector<std::string>{"application/#", "city/#"});
        REQUIRE(wait_until(
            test_io.io, [&] { return observer->subscribed(); }, 10s));
        env.emplace("SCHWEBE_LOG_LEVEL", "info");  // shown when a wait fails
        schwebe.emplace(
            std::vector<std::string>{"--config", config.path.string(), "serve", "--components", "bridge,ns"}, env,
            dir.path() / "schwebe.log");
        REQUIRE(wait_for_server(test_io.io, gateway));
    }

    /// Runs the test's io_context until `done()` holds; on a timeout the server's output goes with the failure.
    template <class Pred>
    bool wait_for(Pred done, std::chrono::milliseconds timeout = 10s) {
        if (wait_until(test_io.io, done, timeout)) return true;
        UNSCOPED_INFO("schwebe's output:\n" << (schwebe ? schwebe->output() : std::string("(not started)")));
        return false;
    }

    /// Every message acknowledged by the broker (the outbox empty), then a clean stop.
    void finish() {
        CHECK(wait_for([&] { return store->outbox_depth() == 0; }));
        CHECK(schwebe->terminate() == 0);
    }

    /// An unconfirmed data uplink of the device through the simulated gateway.
    void uplink(std::uint32_t f_cnt, std::uint8_t f_port, const lorawan::Bytes& payload) {
        gateway.push({packet(data_uplink(device.crypto, device.dev_addr, f_cnt, f_port, payload), tmst += 100'000)});
    }

    [[nodiscard]] std::string topic(const std::string& event) const {
        return "application/" + application_id + "/device/" + device.dev_eui + "/event/" + event;
    }

    /// The `up` event with this fCnt, once it arrived.
    Json await_up(std::uint32_t f_cnt) {
        INFO("the up event of fCnt " << f_cnt);
        REQUIRE(wait_for([&] { return find_up(*observer, topic("up"), f_cnt) != nullptr; }));
        return json_of(*find_up(*observer, topic("up"), f_cnt));
    }

    /// The fCnt of every `up` event of the device, in the order they arrived.
    [[nodiscard]] std::vector<std::uint32_t> up_f_cnts() const {
        std::vector<std::uint32_t> out;
        for (const mqtt::Message* m : observer->on(topic("up"))) {
            out.push_back(json_of(*m).at("fCnt").get<std::uint32_t>());
        }
        return out;
    }

    [[nodiscard]] std::vector<Json> log_events() const {
        std::vector<Json> out;
        for (const mqtt::Message* m : observer->on(topic("log"))) out.push_back(json_of(*m));
        return out;
    }

    /// The `object` column of the device's uplinks row with this fCnt (nullopt: NULL, not decoded).
    std::optional<Json> stored_object(std::uint32_t f_cnt) {
        auto q = store->prepare("SELECT object FROM uplinks WHERE dev_eui = ?1 AND f_cnt = ?2");
        q.bind_text(1, device.dev_eui);
        q.bind_int64(2, f_cnt);
        INFO("the uplinks row of fCnt " << f_cnt);
        REQUIRE(q.step());
        std::optional<Json> out;
        if (!q.column_is_null(0)) out = Json::parse(q.column_text(0));
        REQUIRE_FALSE(q.step());
        q.reset();
        return out;
    }

    TempDir dir;
    Mosquitto broker;  // running from here on
    ServeConfig config;
    TestIo test_io;
    sim::SimulatedGateway gateway;
    Device device;
    std::string application_id;
    std::optional<StoreReader> store;
    std::optional<Observer> observer;
    std::optional<ServeProcess> schwebe;
    std::uint32_t tmst = 1'000'000;
};

/// The codec's result for the other tests' codecs: {port, first byte}.
Json port_and_byte(std::uint8_t f_port, std::uint8_t byte) {
    return Json{{"port", f_port}, {"first", byte}};
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

TEST_CASE(
    "serve, JavaScript codec: a modern TS013 codec decodes into the up event, the uplinks row, a reading and "
    "the city topic",
    "[js][integration]") {
    JsServeFixture f;
    // Modern syntax throughout: arrow functions, destructuring with defaults and rest, template literals, spread,
    // optional chaining and ??, a top-level const function (a lexical global, not a property of globalThis).
    const auto codec = f.write_codec("thermo.js", R"js('use strict';
const int16 = (hi, lo) => (((hi << 8) | lo) << 16) >> 16;
const hex = (b) => b.toString(16).padStart(2, '0');

function decodeUplink({ bytes, fPort, variables }) {
  if (fPort !== 2) return { errors: [`unexpected fPort ${fPort}`] };
  const [hi, lo, humidity = 0, ...rest] = bytes;
  const temperature = int16(hi, lo) / 10;
  const scale = variables?.scale ?? 1;
  return {
    data: {
      temperature,
      humidity: humidity * scale,
      label: `${temperature} °C, ${humidity} % RH`,
      flags: [...rest].map(hex),
    },
  };
}

const normalizeUplink = ({ data: { temperature } }) => ({ data: { air: { temperature } } });
)js");
    f.provision(codec);
    // A later subscriber's client, connected while the server starts (a second Paho client takes a while).
    std::vector<mqtt::Message> late_messages;
    mqtt::Options late_options;
    late_options.server_uri = f.broker.uri();
    mqtt::Client late(f.test_io.io, late_options);
    late.start();
    f.start();

    // FF85 as int16 is -123: -12.3 °C; 0x41 = 65 % RH; 0x0a is the one byte left over.
    f.uplink(0, 2, {0xff, 0x85, 0x41, 0x0a});
    const Json expected = Json::parse(R"({"temperature": -12.3, "humidity": 65, "label": "-12.3 °C, 65 % RH",
                                          "flags": ["0a"]})");
    const Json up = f.await_up(0);
    INFO("up event " << up.dump());
    REQUIRE(up.contains("object"));
    CHECK(up.at("object") == expected);
    CHECK(up.at("fPort") == 2);
    CHECK(up.at("data") == "/4VBCg==");  // base64 of ff 85 41 0a
    CHECK(up.at("deviceInfo").at("devEui") == f.device.dev_eui);
    CHECK(up.at("deviceInfo").at("deviceProfileName") == profile_name);

    CHECK(f.stored_object(0) == expected);

    auto readings = f.store->prepare(
        "SELECT r.quantity, r.value, r.unit FROM readings r JOIN uplinks u ON u.id = r.uplink_id "
        "WHERE u.dev_eui = ?1 AND u.f_cnt = 0");
    readings.bind_text(1, f.device.dev_eui);
    REQUIRE(readings.step());
    CHECK(readings.column_text(0) == "temperature");
    CHECK(readings.column_double(1) == Approx(-12.3));
    CHECK(readings.column_text(2) == "Cel");
    CHECK_FALSE(readings.step());  // normalizeUplink gave only air.temperature
    readings.reset();

    // The retained reading, as a subscriber arriving later gets it: subscribing once the reading is out.
    const std::string temperature_topic = "city/readings/" + f.device.dev_eui + "/temperature";
    REQUIRE(f.wait_for([&] { return f.observer->last_on(temperature_topic) != nullptr; }));
    REQUIRE(f.wait_for([&] { return late.connected(); }));
    late.subscribe(
        temperature_topic, 1, [&](const mqtt::Message& m) { late_messages.push_back(m); }, [](bool) {});
    REQUIRE(f.wait_for([&] { return !late_messages.empty(); }));
    const mqtt::Message& message = late_messages.back();
    CHECK(message.retained);
    const Json reading = json_of(message);
    CHECK(reading.at("devEui") == f.device.dev_eui);
    CHECK(reading.at("deviceName") == f.device.name);
    CHECK(reading.at("quantity") == "temperature");
    CHECK(reading.at("value").get<double>() == Approx(-12.3));
    CHECK(reading.at("unit") == "Cel");
    CHECK(common::parse_rfc3339(reading.at("time").get<std::string>()).has_value());

    // The city reading is published after any log event of the same uplink: there was none.
    CHECK(f.log_events().empty());
    f.finish();
}

TEST_CASE(
    "serve, JavaScript codec: a codec that loops costs its own uplink only, which arrives raw with an "
    "UPLINK_CODEC log",
    "[js][integration]") {
    JsServeFixture f;
    const auto codec = f.write_codec("loops.js", R"js(
function decodeUplink(input) {
  if (input.fPort === 9) {
    while (true) {}
  }
  return {data: {port: input.fPort, first: input.bytes[0]}};
}
)js");
    f.provision(codec);
    // One worker: the uplink after the loop needs the worker that replaced it.
    f.start({{"SCHWEBE_CODECS_JS_TIMEOUT_MS", "100"}, {"SCHWEBE_CODECS_JS_WORKERS", "1"}});

    // Back to back, so that the later frames wait while the codec loops.
    f.uplink(0, 2, {0x11});
    f.uplink(1, 9, {0x22});
    f.uplink(2, 2, {0x33});
    REQUIRE(f.wait_for([&] { return f.up_f_cnts().size() == 3 && !f.log_events().empty(); }));
    CHECK(f.up_f_cnts() == std::vector<std::uint32_t>{0, 1, 2});

    const Json looped = f.await_up(1);
    INFO("up event of fCnt 1: " << looped.dump());
    CHECK_FALSE(looped.contains("object"));
    CHECK(looped.at("fPort") == 9);
    CHECK(looped.at("data") == "Ig==");  // 22: the payload itself, raw
    CHECK(f.await_up(0).at("object") == port_and_byte(2, 0x11));
    CHECK(f.await_up(2).at("object") == port_and_byte(2, 0x33));

    // One log event, for fCnt 1; one for another uplink would have come before the up event of fCnt 2.
    const std::vector<Json> logs = f.log_events();
    REQUIRE(logs.size() == 1);
    INFO("log event " << logs[0].dump());
    CHECK(logs[0].at("code") == "UPLINK_CODEC");
    CHECK_THAT(logs[0].at("description").get<std::string>(), Catch::Contains("time limit"));
    CHECK(logs[0].at("context").at("f_port") == "9");
    CHECK(logs[0].at("context").at("deduplication_id") == looped.at("deduplicationId"));
    CHECK(logs[0].at("deviceInfo").at("devEui") == f.device.dev_eui);

    CHECK(f.store->uplink_f_cnts(f.device.dev_eui) == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(f.stored_object(0) == port_and_byte(2, 0x11));
    CHECK_FALSE(f.stored_object(1).has_value());
    CHECK(f.stored_object(2) == port_and_byte(2, 0x33));
    f.finish();
}

TEST_CASE(
    "serve, JavaScript codec: a codec that exhausts the heap of its worker loses no uplink, the worker is replaced",
    "[js][integration]") {
    JsServeFixture f;
    const auto codec = f.write_codec("hoards.js", R"js(
var hoard = [];
function decodeUplink(input) {
  if (input.fPort === 9) {
    for (;;) hoard.push(new Array(1 << 20).fill(input.fPort));  // 8 MB a turn, kept
  }
  return {data: {port: input.fPort, first: input.bytes[0]}};
}
)js");
    f.provision(codec);
    // One worker, so that every uplink after a crash needs its replacement; a time limit far beyond the crash.
    f.start({{"SCHWEBE_CODECS_JS_MEMORY_MB", "32"},
             {"SCHWEBE_CODECS_JS_TIMEOUT_MS", "5000"},
             {"SCHWEBE_CODECS_JS_WORKERS", "1"}});

    // Two crashes, each followed by uplinks that must decode, all back to back.
    const std::vector<std::uint8_t> ports{2, 9, 2, 2, 9, 2, 2};
    for (std::uint32_t f_cnt = 0; f_cnt < ports.size(); ++f_cnt) {
        f.uplink(f_cnt, ports[f_cnt], {static_cast<std::uint8_t>(0x10 + f_cnt)});
    }
    REQUIRE(f.wait_for([&] { return f.up_f_cnts().size() == ports.size() && f.log_events().size() >= 2; }, 30s));
    CHECK(f.up_f_cnts() == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6});
    CHECK(f.store->uplink_f_cnts(f.device.dev_eui) == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6});

    std::vector<std::string> crashed;  // deduplication ids of the uplinks published raw
    for (std::uint32_t f_cnt = 0; f_cnt < ports.size(); ++f_cnt) {
        const Json up = f.await_up(f_cnt);
        INFO("up event " << up.dump());
        const auto byte = static_cast<std::uint8_t>(0x10 + f_cnt);
        if (ports[f_cnt] == 9) {
            CHECK_FALSE(up.contains("object"));
            CHECK_FALSE(f.stored_object(f_cnt).has_value());
            crashed.push_back(up.at("deduplicationId").get<std::string>());
        } else {
            CHECK(up.value("object", Json()) == port_and_byte(2, byte));
            CHECK(f.stored_object(f_cnt) == port_and_byte(2, byte));
        }
    }

    const std::vector<Json> logs = f.log_events();
    REQUIRE(logs.size() == 2);
    for (std::size_t i = 0; i < logs.size(); ++i) {
        INFO("log event " << logs[i].dump());
        CHECK(logs[i].at("code") == "UPLINK_CODEC");
        CHECK(logs[i].at("context").at("f_port") == "9");
        CHECK(logs[i].at("context").at("deduplication_id") == crashed.at(i));
        // The pool's reason: the worker died (SIGABRT from V8's heap limit), under the configured limit.
        CHECK_THAT(logs[i].at("description").get<std::string>(), Catch::Contains("worker"));
        CHECK_THAT(logs[i].at("description").get<std::string>(), Catch::Contains("32 MB"));
    }
    f.finish();
}

TEST_CASE("serve, JavaScript codec: the object of a downlink command is encoded by encodeDownlink and queued",
          "[js][integration]") {
    JsServeFixture f;
    const auto codec = f.write_codec("settings.js", R"js(
function decodeUplink(input) {
  return {data: {length: input.bytes.length}};
}
function encodeDownlink({data, fPort}) {
  if (data.reboot === true) return {bytes: [0xff, fPort]};  // no fPort: the command's
  const {interval} = data;
  if (!Number.isInteger(interval) || interval < 60 || interval > 3600) return {errors: ['interval out of range']};
  return {bytes: [0x01, interval >> 8, interval & 0xff], fPort: 10};
}
)js");
    f.provision(codec);
    // The application's client connects while the server starts (a second Paho client takes a while to connect).
    mqtt::Options o;
    o.server_uri = f.broker.uri();
    mqtt::Client application(f.test_io.io, o);
    application.start();
    f.start();

    // An uplink first: its event shows the server's MQTT connection receives commands ("connected" means its
    // subscriptions are acknowledged, and only then does the outbox publish).
    f.uplink(0, 1, {0x00, 0x00});
    CHECK(f.await_up(0).at("object") == Json{{"length", 2}});
    REQUIRE(f.wait_for([&] { return application.connected(); }));
    // The refused command first: the ones published after it on the same connection are handled after it, so once
    // they are queued it has been handled too.
    const std::string down_topic = "application/" + f.application_id + "/device/" + f.device.dev_eui + "/command/down";
    const Json refused{{"devEui", f.device.dev_eui}, {"confirmed", false}, {"fPort", 1}, {"object", {{"interval", 5}}}};
    const Json interval{
        {"devEui", f.device.dev_eui}, {"confirmed", false}, {"fPort", 1}, {"object", {{"interval", 600}}}};
    const Json reboot{{"devEui", f.device.dev_eui}, {"confirmed", true}, {"fPort", 3}, {"object", {{"reboot", true}}}};
    int acknowledged = 0;
    for (const Json* command : {&refused, &interval, &reboot}) {
        REQUIRE(application.publish(down_topic, command->dump(), 1, false, [&](bool ok) { acknowledged += ok; }));
    }
    REQUIRE(f.wait_for([&] { return acknowledged == 3; }));
    REQUIRE(f.wait_for([&] { return f.store->count("SELECT count(*) FROM downlink_queue") >= 2; }));

    auto q = f.store->prepare("SELECT dev_eui, f_port, data, confirmed FROM downlink_queue ORDER BY seq");
    // 600 = 0x0258; the codec's fPort 10 over the command's 1.
    REQUIRE(q.step());
    CHECK(q.column_text(0) == f.device.dev_eui);
    CHECK(q.column_int64(1) == 10);
    CHECK(q.column_blob(2) == lorawan::Bytes{0x01, 0x02, 0x58});
    CHECK(q.column_int64(3) == 0);
    // No fPort from the codec: the command's 3, which the codec saw as its input.
    REQUIRE(q.step());
    CHECK(q.column_int64(1) == 3);
    CHECK(q.column_blob(2) == lorawan::Bytes{0xff, 0x03});
    CHECK(q.column_int64(3) == 1);
    CHECK_FALSE(q.step());  // the interval out of range left nothing
    q.reset();
    application.stop();

    // The next uplink takes the first item to the device, which reads the encoded bytes on FPort 10.
    f.uplink(1, 1, {0x00});
    const auto on_port_10 = [&]() -> const sim::ReceivedDownlink* {
        for (const auto& d : f.gateway.downlinks) {
            auto parsed = lorawan::parse_phy_payload(d.phy_payload);
            if (!parsed.ok()) continue;
            const auto* frame = std::get_if<lorawan::DataFrame>(&parsed->body);
            if (frame && frame->f_port == 10) return &d;
        }
        return nullptr;
    };
    REQUIRE(f.wait_for([&] { return on_port_10() != nullptr; }));
    const lorawan::Bytes& phy = on_port_10()->phy_payload;
    auto parsed = lorawan::parse_phy_payload(phy);
    REQUIRE(parsed.ok());
    const auto read = read_downlink(f.device.crypto, phy, std::get<lorawan::DataFrame>(parsed->body).f_cnt_16);
    CHECK(read.mic_ok);
    CHECK(read.payload == lorawan::Bytes{0x01, 0x02, 0x58});
    f.finish();
}

TEST_CASE("serve, JavaScript codec: SIGHUP reads the codec files again, and no uplink is lost meanwhile",
          "[js][integration]") {
    JsServeFixture f;
    const std::string version_1 = "function decodeUplink(input) { return {data: {version: 1}}; }\n";
    const std::string version_2 = "function decodeUplink(input) { return {data: {version: 2}}; }\n";
    const auto codec = f.write_codec("versioned.js", version_1);
    f.provision(codec);
    f.start();
    const Json v1{{"version", 1}};
    const Json v2{{"version", 2}};

    f.uplink(0, 1, {0x01});
    CHECK(f.await_up(0).at("object") == v1);

    // The file is read when loaded, not for each uplink: a change takes effect at the reload only.
    f.write_codec("versioned.js", version_2);
    f.uplink(1, 1, {0x01});
    CHECK(f.await_up(1).at("object") == v1);

    // The reload runs when the server gets to it: uplinks until one is decoded by the new version.
    f.schwebe->signal(SIGHUP);
    std::uint32_t f_cnt = 2;
    std::optional<std::uint32_t> first_v2;
    for (; f_cnt < 2 + 20 && !first_v2; ++f_cnt) {
        f.uplink(f_cnt, 1, {0x01});
        const Json object = f.await_up(f_cnt).value("object", Json());
        INFO("fCnt " << f_cnt << ": " << object.dump());
        if (object == v2) {
            first_v2 = f_cnt;
        } else {
            CHECK(object == v1);
        }
    }
    REQUIRE(first_v2);
    // And it stays: the next one too.
    f.uplink(f_cnt, 1, {0x01});
    CHECK(f.await_up(f_cnt).at("object") == v2);

    std::vector<std::uint32_t> all(f_cnt + 1);
    for (std::uint32_t i = 0; i <= f_cnt; ++i) all[i] = i;
    CHECK(f.up_f_cnts() == all);
    CHECK(f.store->uplink_f_cnts(f.device.dev_eui) == all);
    for (std::uint32_t i = 0; i <= f_cnt; ++i) {
        INFO("fCnt " << i);
        CHECK(f.stored_object(i) == (i < *first_v2 ? v1 : v2));
    }
    CHECK(f.log_events().empty());
    f.finish();
}
