// What the city sees of network server events (integrations/application/application_sink.hpp), on real SQLite files:
// rows, readings, parking state and outbox messages, written inside the caller's transaction and only kept when it
// commits. Payloads and expected objects come from the shared codec examples.

#include "integrations/application/application_sink.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/gateway_json.hpp"
#include "decoders/codec.hpp"
#include "integrations/sqlite/app_store.hpp"
#include "integrations/sqlite/database.hpp"
#include "lorawan/bytes.hpp"
#include "support/sqlite_files.hpp"

namespace {

using namespace std::chrono_literals;
using schwebe::application::ApplicationOptions;
using schwebe::application::ApplicationSink;
using schwebe::common::OutboxMessage;
using schwebe::test::query_int;
using schwebe::test::TempDir;
namespace ns = schwebe::ns;
namespace sqlite = schwebe::sqlite;
using json = nlohmann::json;

nlohmann::json codec_example(const std::string& device, std::size_t index) {
    std::ifstream in(std::string(SCHWEBE_VECTORS_DIR) + "/codec-examples/" + device + ".json");
    REQUIRE(in);
    return json::parse(in)["examples"][index];
}

std::vector<std::uint8_t> bytes_of(const std::string& hex) {
    auto bytes = schwebe::lorawan::from_hex(hex);
    REQUIRE(bytes);
    return *bytes;
}

ns::DeviceInfo device(const std::string& dev_eui, const std::string& codec, std::map<std::string, std::string> tags) {
    ns::DeviceInfo info;
    info.application_id = "0b1f2f3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    info.application_name = "parking";
    info.device_profile_id = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    info.device_profile_name = "sensor";
    info.device_name = "sensor-" + dev_eui.substr(12);
    info.dev_eui = *schwebe::lorawan::Eui64::from_hex(dev_eui);
    info.codec = codec;
    info.tags = std::move(tags);
    return info;
}

ns::UplinkEvent uplink(const ns::DeviceInfo& info, std::uint32_t f_cnt, std::uint8_t f_port, const std::string& hex,
                       std::chrono::system_clock::time_point time) {
    ns::UplinkEvent up;
    static unsigned next_id = 0;
    const std::string n = std::to_string(++next_id);
    up.deduplication_id = "00000000-0000-4000-8000-" + std::string(12 - n.size(), '0') + n;
    up.time = time;
    up.device_info = info;
    up.dev_addr = *schwebe::lorawan::DevAddr::from_hex("260b1001");
    up.f_cnt = f_cnt;
    up.f_port = f_port;
    up.data = bytes_of(hex);
    schwebe::common::RxInfo rx;
    rx.gateway_id = *schwebe::lorawan::Eui64::from_hex("0016c001f153a14c");
    rx.rssi = -80;
    rx.snr = 7.5;
    up.rx_info.push_back(rx);
    up.tx_info.frequency_hz = 868100000;
    return up;
}

/// A store, a sink with an injected clock, and what the sink handed over after each commit.
struct Fixture {
    TempDir dir;
    sqlite::Database db = sqlite::Database::open(dir.db_path());
    sqlite::SqliteAppStore store{db};
    schwebe::decoders::CodecRegistry codecs = schwebe::decoders::CodecRegistry::with_native_codecs();
    schwebe::common::Metrics metrics;
    std::chrono::system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + 8h;
    ApplicationOptions options = [] {
        ApplicationOptions o;
        o.parking_unknown_after = 1h;
        return o;
    }();
    ApplicationSink sink{store, codecs, metrics, options, [this] { return now; }};
    std::vector<OutboxMessage> handed_over;

    Fixture() {
        sink.set_committed_handler([this](std::vector<OutboxMessage> messages) {
            for (auto& m : messages) handed_over.push_back(std::move(m));
        });
    }

    /// Stages the events in a transaction of their own, as the network server's commit does, and commits it.
    void deliver(std::vector<ns::Event> events) {
        {
            sqlite::Transaction transaction(db);
            sink.stage(events);
            transaction.commit();
        }
        sink.staged_done(true);
    }

    std::vector<OutboxMessage> outbox() { return store.read_outbox(0, 10'000); }

    std::map<std::string, json> last_by_topic() {
        std::map<std::string, json> out;
        for (const auto& m : outbox()) out[m.topic] = m.payload.empty() ? json() : json::parse(m.payload);
        return out;
    }
};

const std::string parking_eui = "0101010101010101";

/// Script codecs (as the JavaScript ones) for codec names ending in ".js": every uplink decodes to the same object,
/// with its first byte so that a result can be told from another; counts the batches and the uplinks in them.
class FakeScripts final : public schwebe::decoders::ScriptCodecs {
public:
    std::size_t calls = 0;
    std::size_t uplinks = 0;
    std::vector<std::string> codecs_seen;

    [[nodiscard]] bool handles(std::string_view codec) const override {
        return codec.size() > 3 && codec.ends_with(".js");
    }
    [[nodiscard]] std::vector<schwebe::decoders::DecodeResult> decode_uplinks(std::span<const Uplink> batch) override {
        ++calls;
        uplinks += batch.size();
        std::vector<schwebe::decoders::DecodeResult> out;
        for (const auto& up : batch) {
            codecs_seen.emplace_back(up.codec);
            schwebe::decoders::Decoded decoded;
            decoded.object = object_for(up.input.bytes.empty() ? -1 : up.input.bytes[0]);
            out.push_back(schwebe::decoders::DecodeResult::success(std::move(decoded)));
        }
        return out;
    }
    [[nodiscard]] schwebe::decoders::EncodeResult encode_downlink(std::string_view, std::optional<std::uint8_t>,
                                                                  const nlohmann::json&) override {
        schwebe::decoders::EncodeResult out;
        out.error = "not used";
        return out;
    }
    static json object_for(int first_byte) { return json{{"fake", "decoded"}, {"first", first_byte}}; }
};

/// A store and a sink with the fake script codecs.
struct ScriptFixture {
    TempDir dir;
    sqlite::Database db = sqlite::Database::open(dir.db_path());
    sqlite::SqliteAppStore store{db};
    schwebe::decoders::CodecRegistry codecs = schwebe::decoders::CodecRegistry::with_native_codecs();
    schwebe::common::Metrics metrics;
    std::chrono::system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + 8h;
    FakeScripts scripts;
    ApplicationSink sink{store, codecs, metrics, ApplicationOptions{}, [this] { return now; }, &scripts};

    static std::vector<const ns::Event*> pointers(const std::vector<ns::Event>& events) {
        std::vector<const ns::Event*> out;
        for (const auto& e : events) out.push_back(&e);
        return out;
    }
    /// stage() in a transaction of its own, committed or rolled back.
    void stage(const std::vector<ns::Event>& events, bool commit = true) {
        {
            sqlite::Transaction transaction(db);
            sink.stage(events);
            if (commit) transaction.commit();
        }
        sink.staged_done(commit);
    }
    /// The uplink rows' deduplication id and object (null when none), in insertion order.
    std::vector<std::pair<std::string, json>> rows() {
        std::vector<std::pair<std::string, json>> out;
        sqlite::Statement s = db.prepare("SELECT deduplication_id, object FROM uplinks ORDER BY id");
        while (s.step()) out.emplace_back(s.column_text(0), s.column_is_null(1) ? json() : json::parse(s.column_text(1)));
        s.reset();
        return out;
    }
};

}  // namespace

TEST_CASE("application sink: a decoded parking uplink is stored with its readings and published in order",
          "[integration][sqlite][application]") {
    Fixture f;
    const auto example = codec_example("nwave-nps405", 0);  // "95": parking status, occupied
    const auto info = device(parking_eui, "nwave-nps405", {{"zone", "neumarkt"}, {"spot", "017"}});
    f.deliver({uplink(info, 7, example["fPort"].get<std::uint8_t>(), example["bytes_hex"], f.now)});

    sqlite::Statement row = f.db.prepare("SELECT f_cnt, f_port, object, data, rx_info FROM uplinks");
    REQUIRE(row.step());
    CHECK(row.column_int64(0) == 7);
    CHECK(row.column_int64(1) == 1);
    CHECK(json::parse(row.column_text(2)) == example["expected"]);
    CHECK(row.column_blob(3) == bytes_of("95"));
    CHECK(json::parse(row.column_text(4))[0]["gatewayId"] == "0016c001f153a14c");
    row.reset();

    sqlite::Statement reading = f.db.prepare("SELECT quantity, value, unit FROM readings WHERE dev_eui = ?1");
    reading.bind_text(1, parking_eui);
    REQUIRE(reading.step());
    CHECK(reading.column_text(0) == "occupancy");
    CHECK(reading.column_double(1) == 1.0);
    reading.reset();

    const auto messages = f.outbox();
    REQUIRE(messages.size() == 4);
    const std::string app = "application/" + info.application_id + "/device/" + parking_eui + "/event/";
    CHECK(messages[0].topic == app + "up");
    CHECK_FALSE(messages[0].retained);
    const auto up = json::parse(messages[0].payload);
    CHECK(up["object"] == example["expected"]);
    CHECK(up["fCnt"] == 7);
    CHECK(up["data"] == "lQ==");
    CHECK(messages[1].topic == "city/readings/" + parking_eui + "/occupancy");
    CHECK(json::parse(messages[1].payload)["value"] == true);
    CHECK(messages[2].topic == "city/parking/neumarkt/017");
    CHECK(messages[2].retained);
    const auto spot = json::parse(messages[2].payload);
    CHECK(spot["status"] == "occupied");
    CHECK(spot["devEui"] == parking_eui);
    CHECK(messages[3].topic == "city/parking/neumarkt");
    CHECK(json::parse(messages[3].payload) == json{{"free", 0}, {"occupied", 1}, {"unknown", 0}, {"total", 1}});
    for (std::size_t i = 1; i < messages.size(); ++i) CHECK(messages[i].id > messages[i - 1].id);
    CHECK(messages.front().qos == 1);

    // What was committed is what the publisher was handed, ids included.
    CHECK(f.handed_over == messages);
}

TEST_CASE("application sink: a payload the codec cannot decode is stored and published raw, with an UPLINK_CODEC log",
          "[integration][sqlite][application]") {
    Fixture f;
    const auto info = device(parking_eui, "elsys-ers-co2", {});
    f.deliver({uplink(info, 1, 1, "01", f.now)});  // temperature type, its two bytes missing

    CHECK(query_int(f.db, "SELECT count(*) FROM uplinks WHERE object IS NULL") == 1);
    CHECK(query_int(f.db, "SELECT count(*) FROM readings") == 0);
    const auto messages = f.outbox();
    REQUIRE(messages.size() == 2);
    const auto up = json::parse(messages[0].payload);
    CHECK_FALSE(up.contains("object"));
    CHECK(up["data"] == "AQ==");
    CHECK(messages[1].topic.ends_with("/event/log"));
    const auto log = json::parse(messages[1].payload);
    CHECK(log["code"] == "UPLINK_CODEC");
    CHECK(log["level"] == "ERROR");
    CHECK_FALSE(log["description"].get<std::string>().empty());
    CHECK(f.metrics.value("schwebe_codec_errors_total", {{"codec", "elsys-ers-co2"}}) == 1);

    // A profile naming a codec Schwebe does not have: the same, with the name in the reason.
    f.deliver({uplink(device(parking_eui, "no-such-codec", {}), 2, 1, "0100e2", f.now)});
    const auto again = f.outbox();
    REQUIRE(again.size() == 4);
    CHECK_THAT(json::parse(again[3].payload)["description"].get<std::string>(),
               Catch::Matchers::Contains("no-such-codec"));
}

TEST_CASE("application sink: nothing of a rolled-back transaction is kept or handed over",
          "[integration][sqlite][application]") {
    Fixture f;
    const auto info = device(parking_eui, "nwave-nps405", {{"zone", "z"}, {"spot", "1"}});
    {
        sqlite::Transaction transaction(f.db);
        const std::vector<ns::Event> events{uplink(info, 1, 1, "95", f.now)};
        f.sink.stage(events);
        // not committed: the network server's store failed
    }
    f.sink.staged_done(false);
    CHECK(query_int(f.db, "SELECT count(*) FROM uplinks") == 0);
    CHECK(query_int(f.db, "SELECT count(*) FROM parking_spots") == 0);
    CHECK(query_int(f.db, "SELECT count(*) FROM outbox") == 0);
    CHECK(f.handed_over.empty());

    // The next commit hands over only its own messages.
    f.deliver({uplink(info, 2, 1, "95", f.now)});
    CHECK(f.handed_over.size() == 4);
}

TEST_CASE("application sink: parking spots follow occupancy, zone totals follow the spots, silence makes unknown",
          "[integration][sqlite][application]") {
    Fixture f;
    const auto a = device("0101010101010101", "nwave-nps405", {{"zone", "north"}, {"spot", "a"}});
    const auto b = device("0202020202020202", "bosch-tps110", {{"zone", "north"}, {"spot", "b"}});
    const auto c = device("0303030303030303", "nwave-nps405", {{"zone", "south"}, {"spot", "c"}});
    const auto t0 = f.now;
    // NPS405 "95" occupied; TPS110 port 1 "00" free, "01" occupied (codec examples and the vendor format).
    f.deliver({uplink(a, 1, 1, "95", t0), uplink(b, 1, 1, "00", t0), uplink(c, 1, 1, "95", t0)});
    auto topics = f.last_by_topic();
    CHECK(topics["city/parking/north"] == json{{"free", 1}, {"occupied", 1}, {"unknown", 0}, {"total", 2}});
    CHECK(topics["city/parking/south"] == json{{"free", 0}, {"occupied", 1}, {"unknown", 0}, {"total", 1}});
    CHECK(topics["city/parking/north/b"]["status"] == "free");

    // The same state again: no new parking message, but the sensor counts as heard.
    const auto before = f.outbox().size();
    f.now = t0 + 50min;
    f.deliver({uplink(a, 2, 1, "95", f.now)});
    auto after = f.outbox();
    REQUIRE(after.size() == before + 2);  // up and the occupancy reading only
    CHECK(after.back().topic == "city/readings/0101010101010101/occupancy");

    // B becomes occupied at t0 + 50 min: since moves, the zone follows.
    f.deliver({uplink(b, 2, 1, "01", f.now)});
    topics = f.last_by_topic();
    CHECK(topics["city/parking/north/b"]["status"] == "occupied");
    CHECK(topics["city/parking/north/b"]["since"] == schwebe::common::format_rfc3339(f.now));
    CHECK(topics["city/parking/north"] == json{{"free", 0}, {"occupied", 2}, {"unknown", 0}, {"total", 2}});

    // One hour after t0, C (last heard at t0) is silent; A and B were heard at t0 + 50 min.
    f.now = t0 + 1h + 1s;
    CHECK(f.sink.sweep_parking() == 1);
    topics = f.last_by_topic();
    CHECK(topics["city/parking/south/c"]["status"] == "unknown");
    CHECK(topics["city/parking/south"] == json{{"free", 0}, {"occupied", 0}, {"unknown", 1}, {"total", 1}});
    CHECK(f.sink.sweep_parking() == 0);  // already unknown: nothing more to say

    // Heard again, C's occupancy brings it back.
    f.deliver({uplink(c, 2, 1, "95", f.now)});
    CHECK(f.last_by_topic()["city/parking/south"] ==
          json{{"free", 0}, {"occupied", 1}, {"unknown", 0}, {"total", 1}});

    // A moves to spot x of the south zone: its old spot is cleared (empty retained message), both zones recount.
    const auto moved = device("0101010101010101", "nwave-nps405", {{"zone", "south"}, {"spot", "x"}});
    f.deliver({uplink(moved, 3, 1, "95", f.now)});
    topics = f.last_by_topic();
    CHECK(topics["city/parking/north/a"].is_null());
    CHECK(topics["city/parking/south/x"]["status"] == "occupied");
    CHECK(topics["city/parking/north"] == json{{"free", 0}, {"occupied", 1}, {"unknown", 0}, {"total", 1}});
    CHECK(topics["city/parking/south"] == json{{"free", 0}, {"occupied", 2}, {"unknown", 0}, {"total", 2}});

    // At every point the published totals equal the rows.
    CHECK(query_int(f.db, "SELECT count(*) FROM parking_spots") == 3);
}

TEST_CASE("application sink: tags cannot add topic levels or wildcards", "[integration][sqlite][application]") {
    Fixture f;
    const auto info = device(parking_eui, "nwave-nps405", {{"zone", "a/b+#"}, {"spot", ""}});
    f.deliver({uplink(info, 1, 1, "95", f.now)});
    const auto topics = f.last_by_topic();
    CHECK(topics.contains("city/parking/a_b__/_"));
    CHECK(topics.contains("city/parking/a_b__"));
}

TEST_CASE("application store: retention deletes old rows a slice at a time and keeps the outbox",
          "[integration][sqlite][application]") {
    Fixture f;
    const auto info = device("0404040404040404", "elsys-ers-co2", {});
    const auto old_time = f.now - std::chrono::days{400};
    std::vector<ns::Event> old_events;
    for (std::uint32_t i = 0; i < 30; ++i) old_events.push_back(uplink(info, i, 1, "0100e202290400270506060308", old_time));
    f.deliver(old_events);
    f.deliver({uplink(info, 100, 1, "0100e202290400270506060308", f.now)});
    // Each Elsys example carries 5 values; the readings of 31 uplinks.
    const auto readings = query_int(f.db, "SELECT count(*) FROM readings");
    REQUIRE(readings % 31 == 0);
    const auto per_uplink = readings / 31;
    const auto cutoff = f.now - std::chrono::days{365};

    // While their `up` messages wait in the outbox (a broker away for over a year), the old uplinks stay: the
    // messages are read from them.
    CHECK(f.store.delete_older_than(cutoff, 25) == 0);
    CHECK(query_int(f.db, "SELECT count(*) FROM uplinks") == 31);
    // The broker acknowledged everything but the newest uplink's messages.
    const auto newest = query_int(f.db, "SELECT max(id) FROM uplinks");
    f.db.exec("DELETE FROM outbox WHERE uplink_id IS NULL OR uplink_id < " + std::to_string(newest));
    const auto outbox_before = query_int(f.db, "SELECT count(*) FROM outbox");

    std::size_t slices = 0;
    std::size_t deleted = 0;
    while (true) {
        const auto n = f.store.delete_older_than(cutoff, 25);
        REQUIRE(n <= 25);
        deleted += n;
        ++slices;
        if (n < 25) break;
    }
    CHECK(deleted == static_cast<std::size_t>(30 + 30 * per_uplink));
    CHECK(slices > 1);
    CHECK(query_int(f.db, "SELECT count(*) FROM uplinks") == 1);
    CHECK(query_int(f.db, "SELECT count(*) FROM readings") == per_uplink);
    CHECK(query_int(f.db, "SELECT count(*) FROM outbox") == outbox_before);

    // What waits in the outbox is still whole.
    const auto waiting = f.outbox();
    REQUIRE_FALSE(waiting.empty());
    for (const auto& m : waiting) {
        const auto same = std::find_if(f.handed_over.begin(), f.handed_over.end(),
                                       [&](const OutboxMessage& h) { return h.id == m.id; });
        REQUIRE(same != f.handed_over.end());
        CHECK(*same == m);
    }

    // Readings go with their uplink, not by their own time: a meter reporting a 2021 timestamp today keeps it.
    const auto meter = device("0505050505050505", "emu-prof-ii", {});
    f.deliver({uplink(meter, 1, 1, codec_example("emu-prof-ii", 0)["bytes_hex"], f.now)});
    CHECK(query_int(f.db, "SELECT count(*) FROM readings WHERE dev_eui = '0505050505050505' AND time < '2022'") >= 1);
    while (f.store.delete_older_than(cutoff, 25) == 25) {
    }
    CHECK(query_int(f.db, "SELECT count(*) FROM readings WHERE dev_eui = '0505050505050505' AND time < '2022'") >= 1);
    CHECK(query_int(f.db, "SELECT count(*) FROM uplinks") == 2);
}

TEST_CASE("application sink: gateway stats are kept as a time series", "[integration][sqlite][application]") {
    Fixture f;
    schwebe::common::GatewayStats stats;
    stats.gateway_id = *schwebe::lorawan::Eui64::from_hex("0016c001f153a14c");
    stats.received_at = f.now;
    stats.rx_received = 12;
    stats.rx_ok = 10;
    stats.rx_forwarded = 10;
    stats.ack_ratio = 100;
    f.sink.on_gateway_stats(stats);
    stats.received_at = f.now + 30s;
    stats.rx_received = 3;
    f.sink.on_gateway_stats(stats);
    CHECK(query_int(f.db, "SELECT count(*) FROM gateway_stats WHERE gateway_id = '0016c001f153a14c'") == 2);
    CHECK(query_int(f.db, "SELECT sum(rx_received) FROM gateway_stats") == 15);
}

TEST_CASE("application sink: prepare() decodes the batch's script uplinks together and stage() uses what it decoded",
          "[integration][sqlite][application]") {
    ScriptFixture f;
    const auto scripted = device("0606060606060606", "/etc/schwebe/codecs/vendor.js", {});
    const auto plain = device("0707070707070707", "", {});
    const std::vector<ns::Event> events{uplink(scripted, 1, 2, "11", f.now), uplink(plain, 1, 2, "22", f.now),
                                        uplink(scripted, 2, 2, "33", f.now)};
    f.sink.prepare(ScriptFixture::pointers(events));
    CHECK(f.scripts.calls == 1);
    CHECK(f.scripts.uplinks == 2);
    CHECK(f.scripts.codecs_seen == std::vector<std::string>{"/etc/schwebe/codecs/vendor.js",
                                                            "/etc/schwebe/codecs/vendor.js"});

    f.stage(events);
    CHECK(f.scripts.calls == 1);  // not again in stage()
    CHECK(f.scripts.uplinks == 2);
    const auto rows = f.rows();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].first == std::get<ns::UplinkEvent>(events[0]).deduplication_id);
    CHECK(rows[0].second == FakeScripts::object_for(0x11));
    CHECK(rows[1].second.is_null());  // no codec: no object
    CHECK(rows[2].second == FakeScripts::object_for(0x33));
    CHECK(f.metrics.value("schwebe_codec_decoded_total", {}) == 2);
}

TEST_CASE("application sink: without prepare() stage() decodes the script uplinks in one batch",
          "[integration][sqlite][application]") {
    ScriptFixture f;
    const auto scripted = device("0606060606060606", "vendor.js", {});
    const auto native = device("0707070707070707", "nwave-nps405", {});
    f.stage({uplink(scripted, 1, 2, "44", f.now), uplink(native, 1, 1, "95", f.now), uplink(scripted, 2, 2, "55", f.now)});
    CHECK(f.scripts.calls == 1);
    CHECK(f.scripts.uplinks == 2);
    const auto rows = f.rows();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].second == FakeScripts::object_for(0x44));
    CHECK(rows[1].second == codec_example("nwave-nps405", 0)["expected"]);  // the native codec, as before
    CHECK(rows[2].second == FakeScripts::object_for(0x55));
}

TEST_CASE("application sink: what prepare() decoded for a batch the commit refused is not used for a later batch",
          "[integration][sqlite][application]") {
    ScriptFixture f;
    const auto scripted = device("0606060606060606", "vendor.js", {});
    const std::vector<ns::Event> a{uplink(scripted, 1, 2, "66", f.now), uplink(scripted, 2, 2, "67", f.now)};
    f.sink.prepare(ScriptFixture::pointers(a));
    CHECK(f.scripts.calls == 1);
    CHECK(f.scripts.uplinks == 2);
    // The commit released only the second uplink's group, and then failed: nothing of the batch stays.
    f.stage({a[1]}, false);
    CHECK(f.rows().empty());
    CHECK(f.scripts.calls == 1);

    // A later batch without prepare(): an uplink with another deduplication id, and one that reuses the refused
    // first uplink's with other bytes. Both are decoded now: nothing of batch A's results comes back.
    auto reused = uplink(scripted, 3, 2, "88", f.now);
    reused.deduplication_id = std::get<ns::UplinkEvent>(a[0]).deduplication_id;
    f.stage({uplink(scripted, 4, 2, "77", f.now), reused});
    CHECK(f.scripts.calls == 2);
    CHECK(f.scripts.uplinks == 4);
    const auto rows = f.rows();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].second == FakeScripts::object_for(0x77));
    CHECK(rows[1].second == FakeScripts::object_for(0x88));

    // Prepared, but the commit refused its group: stage() sees none of it, staged_done() forgets it.
    auto refused = uplink(scripted, 5, 2, "99", f.now);
    const std::vector<ns::Event> c{refused, uplink(scripted, 6, 2, "aa", f.now)};
    f.sink.prepare(ScriptFixture::pointers(c));
    CHECK(f.scripts.calls == 3);
    f.stage({c[1]});
    CHECK(f.scripts.calls == 3);
    refused.data = bytes_of("bb");
    f.stage({refused});
    CHECK(f.scripts.calls == 4);
    const auto later = f.rows();
    REQUIRE(later.size() == 4);
    CHECK(later[2].second == FakeScripts::object_for(0xaa));
    CHECK(later[3].second == FakeScripts::object_for(0xbb));
}
