// The shipped scenario (tests/scenarios/wuppertal-day, recorded by tests/scenarios/record.sh): a simulated Monday of
// the default city, 6 gateways, 200 parking spots, 30 environment sensors and 20 heat meters (half of those OTAA),
// replayed by `schwebe replay` into a fresh `schwebe serve` with a real Mosquitto. SQLite and the MQTT messages must
// match the simulator's ground truth exactly: every uplink and reading once, each reading's last value, the final
// state of every spot and zone, and no refusal but the three the scenario plants (a replayed frame, a forged MIC,
// a cut-short datagram). The truth comes from the simulator's model, never from a server's output.

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "app/serve_process_support.hpp"
#include "app/serve_test_support.hpp"
#include "sim/city.hpp"
#include "support/mosquitto.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

using namespace schwebe;
using namespace schwebe::test;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

const std::filesystem::path scenario_dir = SCHWEBE_SCENARIOS_DIR "/wuppertal-day";

Json read_json(const std::filesystem::path& path) {
    const Json j = Json::parse(read_text(path), nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

struct Stored {
    std::map<std::string, std::int64_t> uplinks;
    std::map<std::string, std::map<std::string, std::int64_t>> counts;
    std::map<std::string, std::map<std::string, double>> last;
    std::map<std::string, std::string> spots;  // "zone/spot" -> status
};

/// SQLite: uplinks and readings per device and quantity, the last value of each, every spot's status.
Stored read_store(StoreReader& store) {
    Stored out;
    for (auto q = store.prepare("SELECT dev_eui, count(*) FROM uplinks GROUP BY dev_eui"); q.step();) {
        out.uplinks[q.column_text(0)] = q.column_int64(1);
    }
    for (auto q = store.prepare("SELECT dev_eui, quantity, count(*) FROM readings GROUP BY 1, 2"); q.step();) {
        out.counts[q.column_text(0)][q.column_text(1)] = q.column_int64(2);
    }
    for (auto q = store.prepare("SELECT r.dev_eui, r.quantity, r.value FROM readings r JOIN (SELECT dev_eui, quantity, "
                                "max(id) AS id FROM readings GROUP BY 1, 2) l ON r.id = l.id");
         q.step();) {
        out.last[q.column_text(0)][q.column_text(1)] = q.column_double(2);
    }
    for (auto q = store.prepare("SELECT zone, spot, status FROM parking_spots"); q.step();) {
        out.spots[q.column_text(0) + "/" + q.column_text(1)] = q.column_text(2);
    }
    return out;
}

std::map<std::string, std::string> spots_of(const Json& truth) {
    std::map<std::string, std::string> out;
    for (const auto& [zone, spots] : truth.at("spots").items()) {
        for (const auto& [spot, status] : spots.items()) out[zone + "/" + spot] = status.get<std::string>();
    }
    return out;
}

/// The store holds exactly what the truth says: every uplink and reading once, the last values, the spots.
void check_store(const Stored& stored, const Json& truth) {
    std::size_t devices_checked = 0;
    for (const auto& [dev_eui, expected] : truth.at("devices").items()) {
        INFO("device " << dev_eui);
        CHECK(stored.uplinks.contains(dev_eui));
        if (!stored.uplinks.contains(dev_eui)) continue;
        CHECK(stored.uplinks.at(dev_eui) == expected.at("uplinks").get<std::int64_t>());
        std::map<std::string, std::int64_t> counts;
        for (const auto& [quantity, n] : expected.at("readings").items()) counts[quantity] = n.get<std::int64_t>();
        CHECK((stored.counts.contains(dev_eui) ? stored.counts.at(dev_eui) : decltype(counts){}) == counts);
        for (const auto& [quantity, value] : expected.at("last").items()) {
            INFO(quantity);
            REQUIRE(stored.last.contains(dev_eui));
            REQUIRE(stored.last.at(dev_eui).contains(quantity));
            CHECK(stored.last.at(dev_eui).at(quantity) == Approx(value.get<double>()).margin(1e-9));
        }
        ++devices_checked;
    }
    CHECK(devices_checked >= 240);  // nearly every device of the 250 got through at least once
    // Nothing of a device the truth does not know.
    CHECK(stored.uplinks.size() == truth.at("devices").size());
    const auto expected_spots = spots_of(truth);
    CHECK(expected_spots.size() == 200);
    CHECK(stored.spots == expected_spots);
}

}  // namespace

TEST_CASE("the shipped Wuppertal day replayed through schwebe serve matches its ground truth exactly",
          "[scenario][integration]") {
    const Json truth = read_json(scenario_dir / "truth.json");
    TempDir dir;
    const auto capture = dir.path() / "capture.jsonl";
    REQUIRE(std::system(("gzip -dc '" + (scenario_dir / "capture.jsonl.gz").string() + "' > '" + capture.string() + "'")
                            .c_str()) == 0);

    Mosquitto broker;
    const ServeConfig config = write_config(dir, free_udp_port(), broker.uri());
    // The city's profiles as the simulator defines them, then its devices through the operators' CSV import.
    const sim::City city = sim::build_city({});
    for (const auto& p : city.profiles) {
        std::vector<std::string> args{"profile", "add", "--name", p.name, "--activation", p.otaa ? "otaa" : "abp",
                                      "--mac-version", "1.0.3", "--codec", p.codec, "--fcnt-mode", p.f_cnt_mode,
                                      "--adr-margin-db", std::to_string(p.adr_margin_db)};
        schwebe_cli(config, args);
    }
    schwebe_cli(config, {"device", "import", (scenario_dir / "devices.csv").string()});

    TestIo test_io;
    Observer observer(test_io.io, broker.uri(), {"application/+/device/+/event/up", "city/#"});
    REQUIRE(wait_until(
        test_io.io, [&] { return observer.subscribed(); }, 10s));
    ServeProcess serve({"--config", config.path.string(), "serve", "--components", "bridge,ns"},
                       {{"SCHWEBE_LOG_LEVEL", "info"}, {"SCHWEBE_NETWORK_SERVER_DEDUP_WINDOW_MS", "200"}},
                       dir.path() / "schwebe.log");
    REQUIRE(wait_until(
        test_io.io, [&] { return serve.output().find("gateway bridge listening") != std::string::npos; }, 10s));

    // Recorded at 1440 simulated seconds per second (a day in a minute); replayed twice as fast still (the planted
    // replay comes 3 s after its original in the recording: at 2x still beyond the 1 s dedup cooldown, where a copy
    // would be a late duplicate and no replay).
    // The observer's io_context runs meanwhile (on a thread of its own while this one waits for the replay): a
    // subscriber that does not read is cut off by the broker's queue limit.
    std::atomic<bool> replayed{false};
    std::thread pump([&] { wait_until(test_io.io, [&] { return replayed.load(); }, 300s); });
    const ReplayRun run = run_replay(dir, {capture.string(), "--server", "127.0.0.1:" + std::to_string(config.udp_port),
                                           "--speed", "2", "--linger-ms", "2000"});
    replayed = true;
    pump.join();
    INFO("replay stdout: " << run.out << "\nstderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    const Json summary = run.summary();
    CHECK(summary.at("malformed_lines") == 0);
    CHECK(summary.at("push_acks") > 0);

    StoreReader store(config.db_path);
    const auto up_events_received = [&] {
        return std::count_if(observer.messages.begin(), observer.messages.end(),
                             [](const mqtt::Message& m) { return m.topic.starts_with("application/"); });
    };
    const std::int64_t uplinks = truth.at("uplinks").get<std::int64_t>();
    const bool settled = wait_until(
        test_io.io,
        [&] {
            return store.count("SELECT count(*) FROM uplinks") == uplinks && store.outbox_depth() == 0 &&
                   up_events_received() == uplinks;
        },
        60s);
    INFO("uplinks stored " << store.count("SELECT count(*) FROM uplinks") << " of " << uplinks << ", up events "
                           << up_events_received() << ", outbox " << store.outbox_depth());
    REQUIRE(settled);
    REQUIRE(serve.terminate() == 0);
    const std::string log = serve.output();

    const Stored stored = read_store(store);
    check_store(stored, truth);

    // MQTT: one up event per uplink, one city/readings message per reading.
    std::map<std::string, std::int64_t> up_events;
    std::map<std::string, std::map<std::string, std::int64_t>> reading_messages;
    std::map<std::string, std::map<std::string, double>> reading_last;
    std::map<std::string, Json> zone_messages, spot_messages;
    for (const auto& m : observer.messages) {
        const Json j = Json::parse(m.payload, nullptr, false);
        if (m.topic.starts_with("application/")) {
            ++up_events[j.at("deviceInfo").at("devEui").get<std::string>()];
        } else if (m.topic.starts_with("city/readings/")) {
            const auto dev = j.at("devEui").get<std::string>();
            const auto quantity = j.at("quantity").get<std::string>();
            ++reading_messages[dev][quantity];
            reading_last[dev][quantity] = j.at("value").is_boolean() ? (j.at("value").get<bool>() ? 1.0 : 0.0)
                                                                     : j.at("value").get<double>();
        } else if (m.topic.starts_with("city/parking/")) {
            const std::string rest = m.topic.substr(std::string("city/parking/").size());
            (rest.find('/') == std::string::npos ? zone_messages : spot_messages)[rest] = j;
        }
    }

    for (const auto& [dev_eui, expected] : truth.at("devices").items()) {
        INFO("device " << dev_eui);
        CHECK(up_events[dev_eui] == expected.at("uplinks").get<std::int64_t>());
        std::map<std::string, std::int64_t> counts;
        for (const auto& [quantity, n] : expected.at("readings").items()) counts[quantity] = n.get<std::int64_t>();
        CHECK(reading_messages[dev_eui] == counts);
        for (const auto& [quantity, value] : expected.at("last").items()) {
            INFO(quantity);
            CHECK(reading_last[dev_eui][quantity] == Approx(value.get<double>()).margin(1e-9));
        }
    }

    // Parking: every spot's final status on its retained topic, and every zone's counts.
    const auto expected_spots = spots_of(truth);
    std::map<std::string, std::string> published_spots;
    for (const auto& [key, j] : spot_messages) published_spots[key] = j.at("status").get<std::string>();
    CHECK(published_spots == expected_spots);
    for (const auto& [zone, counts] : truth.at("zones").items()) {
        INFO("zone " << zone);
        REQUIRE(zone_messages.contains(zone));
        CHECK(zone_messages[zone] == counts);
    }

    // Refusals: exactly the planted ones (the server's totals at shutdown, by reason).
    std::map<std::string, std::int64_t> refused;
    const std::regex total(R"re(msg="refused in total" metric="[a-z_]+\{reason=\\"([a-z_]+)\\"\}" count=(\d+))re");
    for (std::sregex_iterator it(log.begin(), log.end(), total), end; it != end; ++it) {
        refused[(*it)[1].str()] += std::stoll((*it)[2].str());
    }
    std::map<std::string, std::int64_t> planted;
    for (const auto& [reason, n] : truth.at("planted").items()) planted[reason] = n.get<std::int64_t>();
    INFO("schwebe's log (refusals):\n" << [&] {
        std::string lines;
        std::istringstream in(log);
        for (std::string line; std::getline(in, line);) {
            if (line.find("refused") != std::string::npos || line.find("dropped") != std::string::npos) lines += line + "\n";
        }
        return lines;
    }());
    CHECK(planted == std::map<std::string, std::int64_t>{{"fcnt_duplicate", 1}, {"mic_mismatch", 1}, {"invalid_json", 1}});
    CHECK(refused == planted);
}

TEST_CASE("schwebe sim: a simulated day at 1440x against schwebe serve loses no frame, misses no RX window, and the "
          "store holds its ground truth",
          "[scenario][integration]") {
    TempDir dir;
    Mosquitto broker;
    const ServeConfig config = write_config(dir, free_udp_port(), broker.uri());
    // The simulator provisions the city itself: its profiles, then its devices through `schwebe device import`.
    const CommandResult provisioned = run_schwebe({"--config", config.path.string(), "sim", "--provision", "--provision-only"});
    INFO(provisioned.output);
    REQUIRE(provisioned.exit_code == 0);
    CHECK(provisioned.output.find("250 rows: 250 added") != std::string::npos);

    TestIo test_io;
    ServeProcess serve({"--config", config.path.string(), "serve", "--components", "bridge,ns"},
                       {{"SCHWEBE_LOG_LEVEL", "info"}, {"SCHWEBE_NETWORK_SERVER_DEDUP_WINDOW_MS", "200"}},
                       dir.path() / "schwebe.log");
    REQUIRE(wait_until(
        test_io.io, [&] { return serve.output().find("gateway bridge listening") != std::string::npos; }, 10s));

    const auto truth_path = dir.path() / "truth.json";
    const CommandResult run = run_schwebe({"--config", config.path.string(), "sim", "--speed", "1440", "--hours", "24",
                                           "--progress", "off", "--json", "--truth", truth_path.string()});
    INFO("schwebe sim: " << run.output);
    CHECK(run.exit_code == 0);
    const Json summary = Json::parse(run.output, nullptr, false);
    REQUIRE(summary.is_object());
    CHECK(summary.at("lost") == 0);
    CHECK(summary.at("rx_window_misses") == 0);
    CHECK(summary.at("push_acks") == summary.at("push_data"));
    CHECK(summary.at("pull_acks") == summary.at("pull_data"));
    CHECK(summary.at("tx_acks") == summary.at("downlinks"));
    CHECK(summary.at("frames") > 7000);  // 250 devices over a day
    CHECK(summary.at("otaa_devices") == 25);
    CHECK(summary.at("devices_joined") == 25);
    CHECK(summary.at("downlinks") > 0);  // join-accepts and MAC commands (ADR, status) at least
    CHECK(summary.at("mac_commands") > 0);

    const Json truth = read_json(truth_path);
    StoreReader store(config.db_path);
    const std::int64_t uplinks = truth.at("uplinks").get<std::int64_t>();
    REQUIRE(wait_until(
        test_io.io, [&] { return store.count("SELECT count(*) FROM uplinks") == uplinks && store.outbox_depth() == 0; },
        30s));
    REQUIRE(serve.terminate() == 0);
    check_store(read_store(store), truth);
    // Nothing refused: the sim planted nothing.
    CHECK(serve.output().find("refused in total") == std::string::npos);
}
