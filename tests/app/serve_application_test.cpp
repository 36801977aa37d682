// `schwebe serve --components bridge,ns` as a process, seen from the application side: frames from a simulated
// gateway over loopback UDP must come out decoded on a real Mosquitto (ChirpStack v4 topics and JSON, the city's
// retained topics) and in the SQLite file, and the MQTT outbox must deliver every uplink once, in order per device,
// across a broker outage and across a kill -9 of the server. Devices are provisioned with the CLI, as an operator
// does; expected values come from the shared vectors (tests/vectors), never from the server's own output.

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "app/serve_test_support.hpp"
#include "common/base64.hpp"
#include "common/gateway_json.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/sqlite/database.hpp"
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

// ---------------------------------------------------------------------------------------------------------------
// The vectors

/// `codec-examples/<name>.json#examples[<i>]`: the example a frame's payload came from.
const Json& codec_example(const std::string& ref) {
    static std::map<std::string, Json> files;
    const auto hash = ref.find('#');
    REQUIRE(hash != std::string::npos);
    const std::string file = ref.substr(0, hash);
    const std::string selector = ref.substr(hash + 1);
    REQUIRE(selector.starts_with("examples["));
    REQUIRE(selector.ends_with("]"));
    const auto index = std::stoul(selector.substr(9, selector.size() - 10));
    auto [it, inserted] = files.try_emplace(file);
    if (inserted) it->second = load_vectors(file);
    const Json& examples = it->second.at("examples");
    REQUIRE(index < examples.size());
    return examples[index];
}

/// A device of lorawan-frames.json as provisioned here: the vectors give the session, this test the DevEUI (ABP
/// devices in the vectors have none) and the tags.
struct VectorDevice {
    std::string id;  ///< the vectors' name, used as the device name
    std::string dev_eui;
    std::string profile;
    std::map<std::string, std::string> tags;
    Json vector;  ///< its entry in `devices`

    [[nodiscard]] std::string codec() const {
        // "codec-examples/nwave-nps405.json": the codec of that name
        return std::filesystem::path(vector.at("codec").get<std::string>()).stem().string();
    }
};

VectorDevice vector_device(const Json& vectors, const std::string& id, std::string dev_eui,
                           std::map<std::string, std::string> tags = {}) {
    for (const Json& d : vectors.at("devices")) {
        if (d.at("id") == id) return VectorDevice{id, std::move(dev_eui), "profile-" + id, std::move(tags), d};
    }
    FAIL("no device " << id << " in the vectors");
    return {};
}

/// One profile per device (its codec), then the device with its session keys and tags, with the CLI.
void provision(const ServeConfig& config, const VectorDevice& d) {
    REQUIRE(d.vector.at("activation") == "ABP");
    schwebe_cli(config,
                {"profile", "add", "--name", d.profile, "--activation", "abp", "--mac-version",
                 d.vector.at("lorawan").get<std::string>(), "--codec", d.codec(), "--dev-status-interval", "0"});
    std::vector<std::string> args{"device",        "add",
                                  "--dev-eui",     d.dev_eui,
                                  "--name",        d.id,
                                  "--profile",     d.profile,
                                  "--application", application_name,
                                  "--dev-addr",    d.vector.at("DevAddr").get<std::string>(),
                                  "--nwk-s-key",   d.vector.at("NwkSKey").get<std::string>(),
                                  "--app-s-key",   d.vector.at("AppSKey").get<std::string>()};
    for (const auto& [key, value] : d.tags) {
        args.push_back("--tag");
        args.push_back(key + "=" + value);
    }
    schwebe_cli(config, args);
}

/// The frames of a device the vectors expect to be accepted and decoded (a codec ref), in file order.
std::vector<Json> decodable_frames(const Json& vectors, const std::string& device_id) {
    std::vector<Json> out;
    for (const Json& f : vectors.at("frames")) {
        const Json& e = f.at("expected");
        if (f.value("device", Json()) == device_id && e.at("outcome") == "accept" && e.contains("codec") &&
            f.value("send_as_uplink", true)) {
            out.push_back(f);
        }
    }
    return out;
}

/// The ChirpStack v4 `up` event against what the vectors say of the frame.
void check_up_event(const Json& up, const VectorDevice& d, const Json& frame, const std::string& application_id) {
    const Json& expected = frame.at("expected");
    INFO("frame " << frame.at("id").get<std::string>() << ": " << up.dump());
    CHECK_FALSE(up.at("deduplicationId").get<std::string>().empty());
    CHECK(common::parse_rfc3339(up.at("time").get<std::string>()).has_value());
    const Json& info = up.at("deviceInfo");
    CHECK(info.at("devEui") == d.dev_eui);
    CHECK(info.at("deviceName") == d.id);
    CHECK(info.at("applicationId") == application_id);
    CHECK(info.at("applicationName") == application_name);
    CHECK(info.at("deviceProfileName") == d.profile);
    CHECK(info.at("tags") == Json(d.tags));
    CHECK(up.at("devAddr") == d.vector.at("DevAddr"));
    CHECK(up.at("fCnt") == expected.at("fcnt32"));
    CHECK(up.at("fPort") == expected.at("application").at("fPort"));
    CHECK(up.at("confirmed") == expected.at("confirmed"));
    const auto data = common::base64_decode(up.at("data").get<std::string>());
    REQUIRE(data);
    CHECK(lorawan::to_hex(*data) == expected.at("application").at("payload_hex").get<std::string>());

    const Json& example = codec_example(expected.at("codec").at("ref").get<std::string>());
    if (example.at("expected").is_null()) {  // the codec refuses this payload: no object at all
        CHECK_FALSE(up.contains("object"));
    } else {
        REQUIRE(up.contains("object"));
        CHECK(up.at("object") == example.at("expected"));
    }

    REQUIRE(up.at("rxInfo").size() == 1);
    const Json& rx = up.at("rxInfo")[0];
    CHECK(rx.at("gatewayId") == gateway_eui.to_string());
    CHECK(rx.at("rssi") == -80);  // ns_fixture.hpp packet(): what the simulated gateway reported
    CHECK(rx.at("snr") == 5.0);
    CHECK(up.at("txInfo").at("frequency") == 868'100'000);
}

/// `schwebe serve --components bridge,ns` with its broker, store and a simulated gateway in front of it.
struct ServeFixture {
    explicit ServeFixture(Mosquitto::Settings broker_settings = {})
        : broker(Mosquitto::Deferred{}, broker_settings),
          config(write_config(dir, free_udp_port(), broker.uri())),
          gateway(test_io.io, gateway_eui, {asio::ip::make_address("127.0.0.1"), config.udp_port}) {}

    void start_schwebe() {
        schwebe.emplace(
            std::vector<std::string>{"--config", config.path.string(), "serve", "--components", "bridge,ns"},
            std::map<std::string, std::string>{});
        REQUIRE(wait_for_server(test_io.io, gateway));  // the server may still be starting
    }

    /// Pushes the frame and keeps going: what happens to it is observed elsewhere.
    void push(const lorawan::Bytes& phy) { gateway.push({packet(phy, tmst += 100'000)}); }

    /// Pushes the frames with at most `window` of them not yet acknowledged by the bridge (PUSH_ACK), so that the
    /// server's socket buffer never overflows: a datagram lost there would be a test artefact, not a server fault.
    void push_paced(const std::vector<lorawan::Bytes>& frames, std::size_t window = 32) {
        const std::size_t acked_before = gateway.push_acks.size();
        std::size_t sent = 0;
        for (const auto& phy : frames) {
            REQUIRE(sim::run_until(
                test_io.io, [&] { return sent - (gateway.push_acks.size() - acked_before) < window; }, 10s));
            push(phy);
            ++sent;
        }
    }

    TempDir dir;
    Mosquitto broker;
    ServeConfig config;
    TestIo test_io;
    sim::SimulatedGateway gateway;
    std::optional<SchwebeProcess> schwebe;
    std::uint32_t tmst = 1'000'000;
};

// ---------------------------------------------------------------------------------------------------------------
// Devices of the burst tests: random sessions, Cayenne LPP payloads.

struct BurstDevice {
    std::string dev_eui;
    lorawan::DevAddr dev_addr;
    std::string nwk_s_key_hex;
    std::string app_s_key_hex;
    std::unique_ptr<lorawan::SessionCrypto> crypto;
    std::uint32_t next_f_cnt = 0;
};

std::string random_hex(std::mt19937_64& rng, std::size_t bytes) {
    lorawan::Bytes b(bytes);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return lorawan::to_hex(b);
}

std::vector<BurstDevice> burst_devices(std::mt19937_64& rng, std::size_t n) {
    std::vector<BurstDevice> out;
    for (std::size_t i = 0; i < n; ++i) {
        BurstDevice d;
        d.dev_eui = "70b3d57ed00b" +
                    lorawan::to_hex(lorawan::Bytes{static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
        d.dev_addr = lorawan::DevAddr{static_cast<std::uint32_t>(0x260c0000U + i)};
        d.nwk_s_key_hex = random_hex(rng, 16);
        d.app_s_key_hex = random_hex(rng, 16);
        d.crypto = std::make_unique<lorawan::SessionCrypto>(*lorawan::NwkSKey::from_hex(d.nwk_s_key_hex),
                                                            *lorawan::AppSKey::from_hex(d.app_s_key_hex));
        out.push_back(std::move(d));
    }
    return out;
}

void provision_burst_devices(const ServeConfig& config, const std::vector<BurstDevice>& devices) {
    schwebe_cli(config, {"profile", "add", "--name", "burst", "--activation", "abp", "--mac-version", "1.0.3",
                         "--codec", "cayenne-lpp", "--adr", "off", "--dev-status-interval", "0"});
    for (const auto& d : devices) {
        schwebe_cli(config, {"device", "add", "--dev-eui", d.dev_eui, "--name", "burst-" + d.dev_eui, "--profile",
                             "burst", "--application", application_name, "--dev-addr", d.dev_addr.to_string(),
                             "--nwk-s-key", d.nwk_s_key_hex, "--app-s-key", d.app_s_key_hex});
    }
}

/// Cayenne LPP, channel 1, temperature (type 0x67) of f_cnt tenths of a degree: every frame's data differs.
lorawan::Bytes burst_payload(std::uint32_t f_cnt) {
    return {0x01, 0x67, static_cast<std::uint8_t>(f_cnt >> 8), static_cast<std::uint8_t>(f_cnt)};
}

struct BurstFrame {
    std::size_t device = 0;
    std::uint32_t f_cnt = 0;
    lorawan::Bytes phy;
};

/// `count` frames spread over the devices in random order, each device's counters increasing.
std::vector<BurstFrame> burst_frames(std::vector<BurstDevice>& devices, std::mt19937_64& rng, std::size_t count) {
    std::vector<BurstFrame> out;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t k = rng() % devices.size();
        auto& d = devices[k];
        const std::uint32_t f_cnt = d.next_f_cnt++;
        out.push_back({k, f_cnt, data_uplink(*d.crypto, d.dev_addr, f_cnt, 1, burst_payload(f_cnt))});
    }
    return out;
}

std::vector<lorawan::Bytes> phys(const std::vector<BurstFrame>& frames, std::size_t from, std::size_t to) {
    std::vector<lorawan::Bytes> out;
    for (std::size_t i = from; i < to; ++i) out.push_back(frames[i].phy);
    return out;
}

/// Every `up` event the observer received, per DevEUI, as (fCnt, data) in arrival order.
std::map<std::string, std::vector<std::pair<std::uint32_t, lorawan::Bytes>>> ups_by_device(const Observer& o) {
    std::map<std::string, std::vector<std::pair<std::uint32_t, lorawan::Bytes>>> out;
    for (const auto& m : o.messages) {
        if (!is_up_event(m)) continue;
        const Json up = json_of(m);
        const auto data = common::base64_decode(up.at("data").get<std::string>());
        REQUIRE(data);
        out[up.at("deviceInfo").at("devEui").get<std::string>()].emplace_back(up.at("fCnt").get<std::uint32_t>(),
                                                                              *data);
    }
    return out;
}

std::size_t up_count(const Observer& o) {
    return static_cast<std::size_t>(std::count_if(o.messages.begin(), o.messages.end(), is_up_event));
}

/// One uplink per device before the outage: the whole path works, and the observer's persistent session exists at
/// the broker. Returns once the outbox is empty (every message acknowledged), so that nothing is in flight when
/// the broker goes.
void warm_up(ServeFixture& f, Observer& observer, std::vector<BurstDevice>& devices, StoreReader& store) {
    for (auto& d : devices) {
        const std::uint32_t f_cnt = d.next_f_cnt++;
        f.push(data_uplink(*d.crypto, d.dev_addr, f_cnt, 1, burst_payload(f_cnt)));
    }
    REQUIRE(wait_until(
        f.test_io.io, [&] { return up_count(observer) == devices.size() && store.outbox_depth() == 0; }, 20s));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("a frame from the vectors arrives decoded on MQTT, stored in SQLite, and moves the retained parking topics",
          "[integration][serve]") {
    const Json vectors = load_vectors("lorawan-frames.json");
    const VectorDevice parking =
        vector_device(vectors, "parking-nwave-01", "70b3d57ed0001001", {{"spot", "a-17"}, {"zone", "altstadt"}});
    const VectorDevice elsys = vector_device(vectors, "env-elsys-01", "70b3d57ed0001002");
    const auto test_start = std::chrono::system_clock::now();

    ServeFixture f;
    f.broker.start();
    provision(f.config, parking);
    provision(f.config, elsys);
    StoreReader store(f.config.db_path);
    const std::string application_id = store.application_id(application_name);

    Observer observer(f.test_io.io, f.broker.uri(), {"application/#", "city/#"});
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    f.start_schwebe();

    // Each frame in file order, waiting for its `up` event before the next (the vectors' how_to_use).
    auto send_and_check = [&](const VectorDevice& d, const Json& frame) {
        const std::uint32_t f_cnt = frame.at("expected").at("fcnt32");
        INFO("frame " << frame.at("id").get<std::string>());
        f.push(hex(frame.at("phy_payload_hex").get<std::string>()));
        const std::string topic = up_topic(application_id, d.dev_eui);
        REQUIRE(wait_until(
            f.test_io.io, [&] { return find_up(observer, topic, f_cnt) != nullptr; }, 10s));
        check_up_event(json_of(*find_up(observer, topic, f_cnt)), d, frame, application_id);
    };
    const std::vector<Json> parking_frames = decodable_frames(vectors, parking.id);
    const std::vector<Json> elsys_frames = decodable_frames(vectors, elsys.id);
    REQUIRE(parking_frames.size() == 4);  // F01..F04: status, registration, heartbeat, startup
    REQUIRE(elsys_frames.size() == 2);    // F12, F19

    const std::string spot_topic = "city/parking/altstadt/a-17";
    const std::string zone_topic = "city/parking/altstadt";
    const Json& first_status = codec_example(parking_frames[0].at("expected").at("codec").at("ref"));
    REQUIRE(first_status.at("expected").at("occupied") == true);  // "95": the spot is taken

    SECTION("the first status frame: decoded event, and retained spot, zone and reading for a later subscriber") {
        send_and_check(parking, parking_frames[0]);
        REQUIRE(wait_until(
            f.test_io.io, [&] { return observer.last_on(zone_topic) != nullptr; }, 10s));

        Observer late(f.test_io.io, f.broker.uri(), {"city/#"});
        const std::string occupancy_topic = "city/readings/" + parking.dev_eui + "/occupancy";
        REQUIRE(wait_until(
            f.test_io.io,
            [&] {
                return late.subscribed() && late.last_on(spot_topic) && late.last_on(zone_topic) &&
                       late.last_on(occupancy_topic);
            },
            10s));
        const mqtt::Message& spot_message = *late.last_on(spot_topic);
        CHECK(spot_message.retained);
        const Json spot = json_of(spot_message);
        CHECK(spot.at("status") == "occupied");
        CHECK(spot.at("devEui") == parking.dev_eui);
        const auto since = common::parse_rfc3339(spot.at("since").get<std::string>());
        REQUIRE(since);
        CHECK(*since >= test_start - 1s);
        CHECK(*since <= std::chrono::system_clock::now());

        CHECK(late.last_on(zone_topic)->retained);
        CHECK(json_of(*late.last_on(zone_topic)) == Json{{"free", 0}, {"occupied", 1}, {"unknown", 0}, {"total", 1}});

        CHECK(late.last_on(occupancy_topic)->retained);
        const Json reading = json_of(*late.last_on(occupancy_topic));
        CHECK(reading.at("devEui") == parking.dev_eui);
        CHECK(reading.at("deviceName") == parking.id);
        CHECK(reading.at("quantity") == "occupancy");
        CHECK(reading.at("value") == true);
        CHECK(reading.contains("unit"));
        CHECK(common::parse_rfc3339(reading.at("time").get<std::string>()).has_value());

        auto row = store.prepare("SELECT zone, spot, status FROM parking_spots WHERE dev_eui = ?1");
        row.bind_text(1, parking.dev_eui);
        REQUIRE(row.step());
        CHECK(row.column_text(0) == "altstadt");
        CHECK(row.column_text(1) == "a-17");
        CHECK(row.column_text(2) == "occupied");
        row.reset();
    }

    SECTION("every decodable frame of both devices: events, uplink and reading rows, the spot follows the sensor") {
        for (const Json& frame : parking_frames) send_and_check(parking, frame);
        for (const Json& frame : elsys_frames) send_and_check(elsys, frame);

        // The uplinks rows, one per accepted frame, in order: counters, ports, data and the decoded object.
        auto check_rows = [&](const VectorDevice& d, const std::vector<Json>& frames) {
            auto q = store.prepare(
                "SELECT f_cnt, f_port, confirmed, dev_addr, data, object, rx_info, deduplication_id "
                "FROM uplinks WHERE dev_eui = ?1 ORDER BY id");
            q.bind_text(1, d.dev_eui);
            for (const Json& frame : frames) {
                const Json& expected = frame.at("expected");
                INFO("frame " << frame.at("id").get<std::string>());
                REQUIRE(q.step());
                CHECK(q.column_int64(0) == expected.at("fcnt32").get<std::int64_t>());
                CHECK(q.column_int64(1) == expected.at("application").at("fPort").get<std::int64_t>());
                CHECK((q.column_int64(2) != 0) == expected.at("confirmed").get<bool>());
                CHECK(q.column_text(3) == d.vector.at("DevAddr").get<std::string>());
                CHECK(lorawan::to_hex(q.column_blob(4)) ==
                      expected.at("application").at("payload_hex").get<std::string>());
                REQUIRE_FALSE(q.column_is_null(5));
                CHECK(Json::parse(q.column_text(5)) == codec_example(expected.at("codec").at("ref")).at("expected"));
                const Json rx_info = Json::parse(q.column_text(6));
                REQUIRE(rx_info.size() == 1);
                CHECK(rx_info[0].at("gatewayId") == gateway_eui.to_string());
                // The row and the event describe the same uplink.
                const auto* up =
                    find_up(observer, up_topic(application_id, d.dev_eui), expected.at("fcnt32").get<std::uint32_t>());
                REQUIRE(up);
                CHECK(q.column_text(7) == json_of(*up).at("deduplicationId").get<std::string>());
            }
            CHECK_FALSE(q.step());  // nothing else
        };
        check_rows(parking, parking_frames);
        check_rows(elsys, elsys_frames);

        // Readings: the example's values under the common vocabulary (decoders/codec.hpp).
        auto readings_of = [&](const std::string& dev_eui, std::int64_t f_cnt) {
            auto q = store.prepare(
                "SELECT r.quantity, r.value, r.unit FROM readings r JOIN uplinks u ON u.id = r.uplink_id "
                "WHERE u.dev_eui = ?1 AND u.f_cnt = ?2");
            q.bind_text(1, dev_eui);
            q.bind_int64(2, f_cnt);
            std::map<std::string, std::pair<double, std::string>> out;
            while (q.step()) out[q.column_text(0)] = {q.column_double(1), q.column_text(2)};
            return out;
        };
        for (const Json& frame : elsys_frames) {
            INFO("frame " << frame.at("id").get<std::string>());
            const Json& decoded = codec_example(frame.at("expected").at("codec").at("ref")).at("expected");
            const auto readings = readings_of(elsys.dev_eui, frame.at("expected").at("fcnt32").get<std::int64_t>());
            REQUIRE(readings.count("temperature") == 1);
            CHECK(readings.at("temperature").first == Approx(decoded.at("temperature").get<double>()));
            CHECK(readings.at("temperature").second == "Cel");
            REQUIRE(readings.count("relative_humidity") == 1);
            CHECK(readings.at("relative_humidity").first == Approx(decoded.at("humidity").get<double>()));
            CHECK(readings.at("relative_humidity").second == "%");
            REQUIRE(readings.count("co2") == 1);
            CHECK(readings.at("co2").first == Approx(decoded.at("co2").get<double>()));
            CHECK(readings.at("co2").second == "ppm");
        }
        for (const Json& frame : parking_frames) {
            INFO("frame " << frame.at("id").get<std::string>());
            const Json& decoded = codec_example(frame.at("expected").at("codec").at("ref")).at("expected");
            const auto readings = readings_of(parking.dev_eui, frame.at("expected").at("fcnt32").get<std::int64_t>());
            REQUIRE(readings.count("occupancy") == 1);
            CHECK(readings.at("occupancy").first == (decoded.at("occupied").get<bool>() ? 1.0 : 0.0));
        }

        // The retained state a subscriber arriving now receives: the spot follows the last occupancy the sensor
        // reported (F03 heartbeat and F04 startup: not occupied); the Elsys device has no zone/spot tags and
        // changes nothing there, and its readings are those of its last frame.
        const bool last_occupied =
            codec_example(parking_frames.back().at("expected").at("codec").at("ref")).at("expected").at("occupied");
        const std::string last_status = last_occupied ? "occupied" : "free";
        const Json& elsys_decoded =
            codec_example(elsys_frames.back().at("expected").at("codec").at("ref")).at("expected");
        const std::string co2_topic = "city/readings/" + elsys.dev_eui + "/co2";
        const std::string temperature_topic = "city/readings/" + elsys.dev_eui + "/temperature";
        REQUIRE(wait_until(
            f.test_io.io, [&] { return store.outbox_depth() == 0; }, 10s));  // all acknowledged
        Observer late(f.test_io.io, f.broker.uri(), {"city/#"});
        REQUIRE(wait_until(
            f.test_io.io,
            [&] {
                return late.subscribed() && late.last_on(spot_topic) && late.last_on(zone_topic) &&
                       late.last_on(co2_topic) && late.last_on(temperature_topic);
            },
            10s));
        CHECK(late.last_on(spot_topic)->retained);
        CHECK(json_of(*late.last_on(spot_topic)).at("status") == last_status);
        CHECK(json_of(*late.last_on(zone_topic)) ==
              Json{{"free", last_occupied ? 0 : 1}, {"occupied", last_occupied ? 1 : 0}, {"unknown", 0}, {"total", 1}});
        const Json co2 = json_of(*late.last_on(co2_topic));
        CHECK(late.last_on(co2_topic)->retained);
        CHECK(co2.at("devEui") == elsys.dev_eui);
        CHECK(co2.at("deviceName") == elsys.id);
        CHECK(co2.at("quantity") == "co2");
        CHECK(co2.at("value") == elsys_decoded.at("co2"));
        CHECK(co2.at("unit") == "ppm");
        const Json temperature = json_of(*late.last_on(temperature_topic));
        CHECK(temperature.at("value").get<double>() == Approx(elsys_decoded.at("temperature").get<double>()));
        CHECK(temperature.at("unit") == "Cel");

        CHECK(store.count("SELECT count(*) FROM parking_spots") == 1);
        auto status = store.prepare("SELECT status FROM parking_spots WHERE dev_eui = ?1");
        status.bind_text(1, parking.dev_eui);
        REQUIRE(status.step());
        CHECK(status.column_text(0) == last_status);
        status.reset();

        // No codec failed on these frames.
        CHECK(std::none_of(observer.messages.begin(), observer.messages.end(),
                           [](const mqtt::Message& m) { return m.topic.ends_with("/event/log"); }));
    }

    SECTION("a downlink command from MQTT is queued for the device; a malformed one is not") {
        send_and_check(parking, parking_frames[0]);  // a session in use, as in the field
        // The malformed command first: the good one, published after it on the same connection, reaches the
        // server after it, so once the good one is queued the bad one has been handled too.
        const std::string down_topic = "application/" + application_id + "/device/" + parking.dev_eui + "/command/down";
        mqtt::Options o;
        o.server_uri = f.broker.uri();
        mqtt::Client application(f.test_io.io, o);
        application.start();
        REQUIRE(wait_until(
            f.test_io.io, [&] { return application.connected(); }, 10s));
        int acknowledged = 0;
        const Json bad{{"devEui", parking.dev_eui}, {"confirmed", false}, {"fPort", 10}, {"data", "!!not*base64!!"}};
        const Json good{{"devEui", parking.dev_eui}, {"confirmed", true}, {"fPort", 10}, {"data", "AQID"}};
        REQUIRE(application.publish(down_topic, bad.dump(), 1, false, [&](bool ok) { acknowledged += ok; }));
        REQUIRE(application.publish(down_topic, good.dump(), 1, false, [&](bool ok) { acknowledged += ok; }));
        REQUIRE(wait_until(
            f.test_io.io, [&] { return acknowledged == 2; }, 10s));

        REQUIRE(wait_until(
            f.test_io.io, [&] { return store.count("SELECT count(*) FROM downlink_queue") >= 1; }, 10s));
        auto q = store.prepare("SELECT dev_eui, f_port, data, confirmed FROM downlink_queue");
        REQUIRE(q.step());
        CHECK(q.column_text(0) == parking.dev_eui);
        CHECK(q.column_int64(1) == 10);
        CHECK(q.column_blob(2) == lorawan::Bytes{0x01, 0x02, 0x03});
        CHECK(q.column_int64(3) == 1);
        CHECK_FALSE(q.step());  // the malformed command left nothing
        application.stop();
    }

    // Once the broker has acknowledged everything, nothing is left in the outbox.
    CHECK(wait_until(
        f.test_io.io, [&] { return store.outbox_depth() == 0; }, 10s));
    CHECK(f.schwebe->terminate() == 0);
}

TEST_CASE("a payload its codec cannot decode is published and stored without object, with an UPLINK_CODEC log",
          "[integration][serve]") {
    const Json vectors = load_vectors("lorawan-frames.json");
    // The rollover device: its frames also cross two 16-bit counter rollovers on the way to the codec failure.
    const VectorDevice meter = vector_device(vectors, "env-rollover-01", "70b3d57ed00010ff");

    ServeFixture f;
    f.broker.start();
    provision(f.config, meter);
    StoreReader store(f.config.db_path);
    const std::string application_id = store.application_id(application_name);
    Observer observer(f.test_io.io, f.broker.uri(), {"application/#"});
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    f.start_schwebe();

    const std::vector<Json> frames = decodable_frames(vectors, meter.id);
    REQUIRE(frames.size() == 8);  // F22..F26, F29, F30, F31
    const std::string topic = up_topic(application_id, meter.dev_eui);
    for (const Json& frame : frames) {
        const std::uint32_t f_cnt = frame.at("expected").at("fcnt32");
        INFO("frame " << frame.at("id").get<std::string>());
        f.push(hex(frame.at("phy_payload_hex").get<std::string>()));
        REQUIRE(wait_until(
            f.test_io.io, [&] { return find_up(observer, topic, f_cnt) != nullptr; }, 10s));
        check_up_event(json_of(*find_up(observer, topic, f_cnt)), meter, frame, application_id);
    }

    const Json& failing = frames.back();
    const Json& example = codec_example(failing.at("expected").at("codec").at("ref"));
    REQUIRE(example.at("expected").is_null());
    const std::string log_topic = "application/" + application_id + "/device/" + meter.dev_eui + "/event/log";
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.last_on(log_topic) != nullptr; }, 10s));
    CHECK(observer.on(log_topic).size() == 1);  // only the frame the codec refused
    const Json log = json_of(*observer.last_on(log_topic));
    CHECK(log.at("code") == "UPLINK_CODEC");
    CHECK(log.at("deviceInfo").at("devEui") == meter.dev_eui);
    // The vectors' reason for this example; the server may add detail around it.
    CHECK_THAT(log.at("description").get<std::string>(),
               Catch::Contains(example.at("expected_errors")[0].get<std::string>(), Catch::CaseSensitive::No));

    auto q = store.prepare("SELECT id, object FROM uplinks WHERE dev_eui = ?1 AND f_cnt = ?2");
    q.bind_text(1, meter.dev_eui);
    q.bind_int64(2, failing.at("expected").at("fcnt32").get<std::int64_t>());
    REQUIRE(q.step());
    const std::int64_t uplink_id = q.column_int64(0);
    CHECK(q.column_is_null(1));
    q.reset();
    CHECK(store.count("SELECT count(*) FROM readings WHERE uplink_id = " + std::to_string(uplink_id)) == 0);
    CHECK(store.count("SELECT count(*) FROM uplinks WHERE object IS NOT NULL") ==
          static_cast<std::int64_t>(frames.size() - 1));

    CHECK(wait_until(
        f.test_io.io, [&] { return store.outbox_depth() == 0; }, 10s));
    CHECK(f.schwebe->terminate() == 0);
}

TEST_CASE("broker outage: 1000 uplinks while Mosquitto is down all arrive, in order per device, none twice",
          "[integration][serve][outage]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::vector<BurstDevice> devices = burst_devices(rng, 5);

    ServeFixture f(Mosquitto::Settings{.persistent = true});
    f.broker.start();
    provision_burst_devices(f.config, devices);
    StoreReader store(f.config.db_path);
    // A persistent session: what the broker holds for it while it is away reaches it once it is back.
    Observer observer(f.test_io.io, f.broker.uri(), {"application/+/device/+/event/up"},
                      "schwebe-test-observer-" + random_hex(rng, 4), true);
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    f.start_schwebe();
    warm_up(f, observer, devices, store);

    f.broker.stop();
    const std::size_t burst = 1'000;
    const std::vector<BurstFrame> frames = burst_frames(devices, rng, burst);
    const auto stored_before = store.count("SELECT count(*) FROM uplinks");
    f.push_paced(phys(frames, 0, frames.size()));
    const auto expected_rows = stored_before + static_cast<std::int64_t>(burst);
    const bool stored = wait_until(
        f.test_io.io, [&] { return store.count("SELECT count(*) FROM uplinks") == expected_rows; }, 60s);
    INFO("uplinks stored " << store.count("SELECT count(*) FROM uplinks") << ", expected " << expected_rows);
    REQUIRE(stored);
    // Nothing went out: every event waits in the outbox.
    CHECK(store.count("SELECT count(*) FROM outbox WHERE topic LIKE 'application/%/event/up'") ==
          static_cast<std::int64_t>(burst));
    CHECK(up_count(observer) == devices.size());

    f.broker.start();
    const std::size_t expected_ups = devices.size() + burst;
    const bool delivered = wait_until(
        f.test_io.io, [&] { return up_count(observer) >= expected_ups && store.outbox_depth() == 0; }, 60s);
    INFO("up events received " << up_count(observer) << " of " << expected_ups << ", outbox depth "
                               << store.outbox_depth());
    REQUIRE(delivered);
    CHECK(up_count(observer) == expected_ups);

    // Per device: every counter sent, once each, in the order sent, with its own data.
    const auto received = ups_by_device(observer);
    for (const auto& d : devices) {
        INFO("device " << d.dev_eui);
        std::vector<std::uint32_t> expected_f_cnts(d.next_f_cnt);
        for (std::uint32_t i = 0; i < d.next_f_cnt; ++i) expected_f_cnts[i] = i;
        std::vector<std::uint32_t> f_cnts;
        const auto it = received.find(d.dev_eui);
        REQUIRE(it != received.end());
        for (const auto& [f_cnt, data] : it->second) {
            f_cnts.push_back(f_cnt);
            CHECK(data == burst_payload(f_cnt));
        }
        CHECK(f_cnts == expected_f_cnts);
    }
    CHECK(received.size() == devices.size());
    CHECK(f.schwebe->terminate() == 0);
}

TEST_CASE("broker outage and a kill -9 of schwebe in the middle: every stored uplink arrives once, in order",
          "[integration][serve][outage][crash]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::vector<BurstDevice> devices = burst_devices(rng, 5);

    ServeFixture f(Mosquitto::Settings{.persistent = true});
    f.broker.start();
    provision_burst_devices(f.config, devices);
    StoreReader store(f.config.db_path);
    Observer observer(f.test_io.io, f.broker.uri(), {"application/+/device/+/event/up"},
                      "schwebe-test-observer-" + random_hex(rng, 4), true);
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    f.start_schwebe();
    warm_up(f, observer, devices, store);

    f.broker.stop();
    const std::size_t burst = 1'000;
    const std::vector<BurstFrame> frames = burst_frames(devices, rng, burst);
    const std::size_t kill_after = 50 + rng() % (burst - 100);  // somewhere in the middle, frames still in flight
    INFO("kill -9 after frame " << kill_after);
    f.push_paced(phys(frames, 0, kill_after));
    f.schwebe->kill9();
    f.schwebe.reset();
    const auto stored_at_kill = store.count("SELECT count(*) FROM uplinks");
    CHECK(stored_at_kill <= static_cast<std::int64_t>(devices.size() + kill_after));

    // Frames sent to the dead server are lost (UDP); once it is back, every further frame counts.
    f.start_schwebe();
    f.push_paced(phys(frames, kill_after, frames.size()));
    const auto expected_rows = stored_at_kill + static_cast<std::int64_t>(burst - kill_after);
    const bool stored = wait_until(
        f.test_io.io, [&] { return store.count("SELECT count(*) FROM uplinks") == expected_rows; }, 60s);
    INFO("uplinks stored " << store.count("SELECT count(*) FROM uplinks") << ", expected " << expected_rows << " ("
                           << stored_at_kill << " at the kill)");
    REQUIRE(stored);
    CHECK(store.count("SELECT count(*) FROM outbox WHERE topic LIKE 'application/%/event/up'") ==
          expected_rows - static_cast<std::int64_t>(devices.size()));

    f.broker.start();
    const bool delivered = wait_until(
        f.test_io.io,
        [&] { return static_cast<std::int64_t>(up_count(observer)) >= expected_rows && store.outbox_depth() == 0; },
        60s);
    INFO("up events received " << up_count(observer) << " of " << expected_rows << ", outbox depth "
                               << store.outbox_depth());
    REQUIRE(delivered);
    CHECK(static_cast<std::int64_t>(up_count(observer)) == expected_rows);

    // Exactly the stored uplinks, each once, in counter order per device.
    const auto received = ups_by_device(observer);
    for (const auto& d : devices) {
        INFO("device " << d.dev_eui);
        const std::vector<std::uint32_t> stored = store.uplink_f_cnts(d.dev_eui);
        std::vector<std::uint32_t> f_cnts;
        if (const auto it = received.find(d.dev_eui); it != received.end()) {
            for (const auto& [f_cnt, data] : it->second) {
                f_cnts.push_back(f_cnt);
                CHECK(data == burst_payload(f_cnt));
            }
        }
        CHECK(f_cnts == stored);
    }
    // And every frame sent after the restart is among them.
    for (std::size_t i = kill_after; i < frames.size(); ++i) {
        const auto stored = store.uplink_f_cnts(devices[frames[i].device].dev_eui);
        CHECK(std::binary_search(stored.begin(), stored.end(), frames[i].f_cnt));
    }
    CHECK(f.schwebe->terminate() == 0);
}

TEST_CASE("a graceful stop right after an event leaves in the outbox nothing the broker already has",
          "[integration][serve]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::vector<BurstDevice> devices = burst_devices(rng, 1);
    ServeFixture f;
    f.broker.start();
    provision_burst_devices(f.config, devices);
    StoreReader store(f.config.db_path);
    Observer observer(f.test_io.io, f.broker.uri(), {"application/+/device/+/event/up"});
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    f.start_schwebe();

    // The event reaches the subscriber; SIGTERM at once, before the publisher's next removal of acknowledged rows.
    auto& d = devices.front();
    const std::uint32_t f_cnt = d.next_f_cnt++;
    f.push(data_uplink(*d.crypto, d.dev_addr, f_cnt, 1, burst_payload(f_cnt)));
    REQUIRE(wait_until(
        f.test_io.io, [&] { return up_count(observer) == 1; }, 10s));
    CHECK(f.schwebe->terminate() == 0);
    // Stopping let the acknowledgement arrive and removed the message: a restart will not send it again.
    CHECK(store.outbox_depth() == 0);
    CHECK(store.count("SELECT count(*) FROM uplinks") == 1);
}
