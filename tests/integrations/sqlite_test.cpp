// The SQLite store on real files: each test gets a fresh directory under the system's temporary directory, and a
// second Database on the same file stands in for another process (the CLI writing while the server runs).

#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <latch>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "integrations/sqlite/migrations.hpp"
#include "support/sqlite_files.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using schwebe::bridge::GatewayActivity;
using schwebe::bridge::GatewayRecord;
using schwebe::common::Eui64;
using schwebe::common::GatewayStats;
using schwebe::common::Location;
using schwebe::common::SystemTime;
using schwebe::sqlite::Database;
using schwebe::sqlite::SqliteGatewayStore;
using schwebe::sqlite::Statement;
using schwebe::sqlite::Transaction;

using schwebe::test::TempDir;

using schwebe::test::query_int;

std::string query_text(Database& db, const std::string& sql) {
    Statement statement = db.prepare(sql);
    REQUIRE(statement.step());
    auto value = statement.column_text(0);
    statement.reset();
    return value;
}

// 2026-11-21 08:30:00.123456 UTC, and later moments, all whole microseconds: the precision the store keeps.
constexpr auto t0 = sys_days{2026y / November / 21} + 8h + 30min + 123456us;
constexpr auto t1 = t0 + 90s;
constexpr auto t2 = t0 + 1h + 7us;
constexpr std::string_view t0_text = "2026-11-21T08:30:00.123456Z";

constexpr Eui64 gw_a = Eui64::from_u64(0x0016c001ff10a235);
constexpr Eui64 gw_b = Eui64::from_u64(0xaa555a0000000101);

const Location rathaus{51.2562, 7.1508, 160.5};
const Location schwebebahn_depot{51.2291, 7.0964, 142.0};
const Location vohwinkel{51.2330, 7.0700, 180.0};

GatewayRecord registered_gateway(const Eui64& id, std::optional<Location> location) {
    GatewayRecord record;
    record.gateway_id = id;
    record.name = "Rathaus Barmen";
    record.location = location;
    record.tags = {{"district", "Barmen"}, {"mast", "north"}};
    record.registered = true;
    return record;
}

GatewayActivity activity(const Eui64& id, SystemTime last_seen, std::uint64_t delta,
                         std::optional<Location> reported = std::nullopt,
                         std::optional<GatewayStats> stats = std::nullopt) {
    return GatewayActivity{
        .gateway_id = id,
        .last_seen = last_seen,
        .frames_received_delta = delta,
        .last_stats = stats,
        .reported_location = reported,
    };
}

GatewayStats full_stats(const Eui64& id) {
    GatewayStats stats;
    stats.gateway_id = id;
    stats.received_at = t1;
    stats.time = t1 - 250ms;
    stats.location = schwebebahn_depot;
    stats.rx_received = 120;
    stats.rx_ok = 117;
    stats.rx_forwarded = 116;
    stats.ack_ratio = 87.5;
    stats.tx_received = 9;
    stats.tx_emitted = 8;
    return stats;
}

}  // namespace

TEST_CASE("Database::open creates the file and its directories, in WAL mode with the agreed settings",
          "[integration][sqlite]") {
    const TempDir dir;
    const fs::path path = dir.path() / "not" / "yet" / "there.db";
    Database db = Database::open(path);

    CHECK(fs::exists(path));
    CHECK(query_text(db, "PRAGMA journal_mode") == "wal");
    CHECK(query_int(db, "PRAGMA synchronous") == 1);  // NORMAL
    CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
    CHECK(query_int(db, "PRAGMA busy_timeout") == 5000);

    // WAL is a property of the file: a second connection finds it without asking, and the log lives beside it.
    db.exec("INSERT INTO gateways (gateway_id) VALUES ('0102030405060708')");
    Database other = Database::open(path);
    CHECK(query_text(other, "PRAGMA journal_mode") == "wal");
    CHECK(fs::exists(path.string() + "-wal"));
}

TEST_CASE("Database::open accepts an in-memory database, migrated, for tests of other stores",
          "[integration][sqlite]") {
    Database db = Database::open(":memory:");
    CHECK(query_text(db, "PRAGMA journal_mode") == "memory");  // WAL needs a file; nothing to share anyway
    CHECK(schwebe::sqlite::schema_version(db) == schwebe::sqlite::latest_schema_version());
    SqliteGatewayStore store(db);
    store.record_activity({activity(gw_a, t0, 1)});
    CHECK(store.load_gateways().size() == 1);
}

TEST_CASE("Database::open names the path when the file cannot be a database", "[integration][sqlite]") {
    const TempDir dir;
    const fs::path is_a_directory = dir.path() / "taken";
    fs::create_directory(is_a_directory);
    REQUIRE_THROWS_AS(Database::open(is_a_directory), std::runtime_error);
    REQUIRE_THROWS_WITH(Database::open(is_a_directory), Contains(is_a_directory.string()));
}

TEST_CASE("migrations are applied once, in order, and recorded", "[integration][sqlite]") {
    const TempDir dir;
    const int latest = schwebe::sqlite::latest_schema_version();
    REQUIRE(latest == static_cast<int>(schwebe::sqlite::schema_migrations().size()));
    REQUIRE(latest >= 1);

    std::vector<std::string> applied_at;
    {
        const auto before = floor<microseconds>(system_clock::now());
        Database db = Database::open(dir.db_path());
        const auto after = system_clock::now();
        CHECK(schwebe::sqlite::schema_version(db) == latest);

        Statement rows = db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
        std::int64_t expected_version = 1;
        while (rows.step()) {
            CHECK(rows.column_int64(0) == expected_version++);
            applied_at.push_back(rows.column_text(1));
            const auto when = schwebe::sqlite::parse_timestamp(applied_at.back());
            REQUIRE(when.has_value());
            CHECK(*when >= before);
            CHECK(*when <= after);
        }
        CHECK(expected_version == latest + 1);

        SqliteGatewayStore store(db);
        store.save_registered_gateway(registered_gateway(gw_a, rathaus));
    }

    // Reopening applies nothing again (migration 1 would fail on the existing table) and keeps the data.
    Database db = Database::open(dir.db_path());
    CHECK(query_int(db, "SELECT COUNT(*) FROM schema_migrations") == latest);
    Statement rows = db.prepare("SELECT applied_at FROM schema_migrations ORDER BY version");
    for (const auto& first_time : applied_at) {
        REQUIRE(rows.step());
        CHECK(rows.column_text(0) == first_time);
    }
    CHECK_FALSE(rows.step());
    SqliteGatewayStore store(db);
    CHECK(store.load_gateways().size() == 1);
}

TEST_CASE("processes opening a new file at the same moment migrate it once", "[integration][sqlite]") {
    // The server and a CLI command started together both find version 0; the version check inside each
    // migration's write transaction lets exactly one of them apply it.
    const TempDir dir;
    constexpr int openers = 8;
    std::vector<std::string> failures(openers);
    std::latch start{openers};
    {
        std::vector<std::jthread> threads;
        threads.reserve(openers);
        for (int i = 0; i < openers; ++i) {
            threads.emplace_back([&, i] {
                start.arrive_and_wait();  // as close to "at once" as threads get
                try {
                    Database db = Database::open(dir.db_path());
                } catch (const std::exception& e) {
                    failures[static_cast<std::size_t>(i)] = e.what();
                }
            });
        }
    }
    for (const auto& failure : failures) CHECK(failure == "");
    Database db = Database::open(dir.db_path());
    CHECK(query_int(db, "SELECT COUNT(*) FROM schema_migrations") == schwebe::sqlite::latest_schema_version());
}

TEST_CASE("a database written by a newer binary is refused, naming both versions", "[integration][sqlite]") {
    const TempDir dir;
    const int latest = schwebe::sqlite::latest_schema_version();
    {
        Database db = Database::open(dir.db_path());
        db.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (" + std::to_string(latest + 1) +
                ", '2030-01-01T00:00:00.000000Z')");
    }
    const std::string expected =
        "schema version " + std::to_string(latest + 1) + " is newer than version " + std::to_string(latest);
    REQUIRE_THROWS_AS(Database::open(dir.db_path()), std::runtime_error);
    REQUIRE_THROWS_WITH(Database::open(dir.db_path()), Contains(expected) && Contains(dir.db_path().string()));
}

TEST_CASE("a failing migration keeps the earlier ones and leaves no trace of itself", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    const int latest = schwebe::sqlite::latest_schema_version();

    std::vector<std::string_view> extended(schwebe::sqlite::schema_migrations().begin(),
                                           schwebe::sqlite::schema_migrations().end());
    extended.emplace_back("CREATE TABLE extra_good (x INTEGER)");
    // The first statement succeeds, the second fails: the transaction must undo the first as well.
    extended.emplace_back("CREATE TABLE extra_bad (x INTEGER); INSERT INTO no_such_table VALUES (1)");

    REQUIRE_THROWS_WITH(schwebe::sqlite::apply_migrations(db, extended),
                        Contains("migration " + std::to_string(latest + 2) + " failed") && Contains("no_such_table"));
    CHECK(schwebe::sqlite::schema_version(db) == latest + 1);
    CHECK(query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'extra_good'") == 1);
    CHECK(query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'extra_bad'") == 0);
    CHECK_FALSE(db.in_transaction());

    // Fixed (here: dropped), the list applies cleanly on top of what is already there.
    extended.pop_back();
    schwebe::sqlite::apply_migrations(db, extended);
    CHECK(schwebe::sqlite::schema_version(db) == latest + 1);
}

TEST_CASE("a Transaction that is not committed leaves nothing behind", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    Database other = Database::open(dir.db_path());

    {
        Transaction transaction(db);
        db.exec("INSERT INTO gateways (gateway_id) VALUES ('0102030405060708')");
        CHECK(db.in_transaction());
        CHECK(query_int(db, "SELECT COUNT(*) FROM gateways") == 1);     // visible inside
        CHECK(query_int(other, "SELECT COUNT(*) FROM gateways") == 0);  // not outside
    }
    CHECK_FALSE(db.in_transaction());
    CHECK(query_int(db, "SELECT COUNT(*) FROM gateways") == 0);

    {
        Transaction transaction(db);
        db.exec("INSERT INTO gateways (gateway_id) VALUES ('0102030405060709')");
        transaction.commit();
    }
    CHECK(query_int(other, "SELECT COUNT(*) FROM gateways") == 1);
}

TEST_CASE("Statement binds, reads back and is reused", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    db.exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB)");

    Statement insert = db.prepare("INSERT INTO t (i, d, s, b) VALUES (?1, ?2, ?3, ?4)");
    const std::vector<std::uint8_t> bytes{0x00, 0xff, 0x10};
    insert.bind_int64(1, std::numeric_limits<std::int64_t>::min()).bind_double(2, -0.125).bind_text(3, "Döppersberg");
    insert.bind_blob(4, bytes);
    CHECK_FALSE(insert.step());
    CHECK(db.changes() == 1);
    insert.reset();
    insert.bind_int64(1, 7).bind_null(2).bind_text(3, "").bind_blob(4, std::span<const std::uint8_t>{});
    insert.step();
    insert.reset();  // cleared bindings insert NULLs
    insert.step();

    Statement select = db.prepare("SELECT i, d, s, b, typeof(b) FROM t ORDER BY rowid");
    REQUIRE(select.step());
    CHECK(select.column_int64(0) == std::numeric_limits<std::int64_t>::min());
    CHECK(select.column_double(1) == -0.125);
    CHECK(select.column_text(2) == "Döppersberg");
    CHECK(select.column_blob(3) == bytes);
    REQUIRE(select.step());
    CHECK(select.column_is_null(1));
    CHECK_FALSE(select.column_is_null(2));
    CHECK(select.column_text(2).empty());
    CHECK(select.column_text(4) == "blob");  // an empty blob is not NULL
    REQUIRE(select.step());
    for (int column = 0; column < 4; ++column) CHECK(select.column_is_null(column));
    CHECK_FALSE(select.step());
    // Ran to its end, the statement starts over on the next step.
    CHECK(select.step());
    select.reset();
}

TEST_CASE("SQLite failures during operation are sqlite::Error", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());

    CHECK_THROWS_AS(db.prepare("SELECT * FROM no_such_table"), schwebe::sqlite::Error);
    CHECK_THROWS_AS(db.prepare("SELECT 1; SELECT 2"), schwebe::sqlite::Error);  // the second would be ignored
    CHECK_THROWS_AS(db.exec("NOT SQL"), schwebe::sqlite::Error);

    // The schema refuses an id that is not 16 lower-case hex digits; the statement stays usable afterwards.
    Statement insert = db.prepare("INSERT INTO gateways (gateway_id) VALUES (?1)");
    insert.bind_text(1, "0016C001FF10A235");
    CHECK_THROWS_WITH(insert.step(), Contains("CHECK constraint failed"));
    insert.reset();
    insert.bind_text(1, "0016c001ff10a235");
    CHECK_FALSE(insert.step());
    CHECK(query_int(db, "SELECT COUNT(*) FROM gateways") == 1);
}

TEST_CASE("timestamps are RFC 3339 UTC with microseconds", "[integration][sqlite]") {
    using schwebe::sqlite::format_timestamp;
    using schwebe::sqlite::parse_timestamp;

    CHECK(format_timestamp(t0) == t0_text);
    CHECK(format_timestamp(sys_days{1970y / January / 1}) == "1970-01-01T00:00:00.000000Z");
    // Below a microsecond is cut towards the past, also before 1970.
    CHECK(format_timestamp(SystemTime{t0} + 999ns) == t0_text);
    CHECK(format_timestamp(sys_days{1969y / December / 31} + 23h + 59min + 59s + 999999us + 500ns) ==
          "1969-12-31T23:59:59.999999Z");

    CHECK(parse_timestamp(t0_text) == SystemTime{t0});
    CHECK(parse_timestamp("2026-11-21T10:30:00.123456+02:00") == SystemTime{t0});
    CHECK(parse_timestamp("2026-11-21T07:00:00.123456-01:30") == SystemTime{t0});
    CHECK(parse_timestamp("2026-11-21t08:30:00z") == SystemTime{t0 - 123456us});
    CHECK(parse_timestamp("2026-11-21T08:30:00.123456789Z") == SystemTime{t0} + 789ns);

    for (const char* bad :
         {"", "2026-11-21", "2026-11-21T08:30:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
          "2026-11-21T24:00:00Z", "2026-11-21T08:30:00.Z", "2026-11-21T08:30:00Zjunk", "2026-11-21T08:30:00+0200"}) {
        INFO(bad);
        CHECK_FALSE(parse_timestamp(bad).has_value());
    }
}

TEST_CASE("gateway store: a registered gateway round-trips with its tags and location", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    CHECK(store.load_gateways().empty());

    GatewayRecord given = registered_gateway(gw_a, rathaus);
    given.registered = false;    // saving is registering, whatever the record says
    given.frames_received = 99;  // seen-state is the bridge's to record, not the operator's
    given.last_seen = t2;
    store.save_registered_gateway(given);

    GatewayRecord expected = registered_gateway(gw_a, rathaus);
    const auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0] == expected);
    CHECK(query_text(db, "SELECT gateway_id FROM gateways") == "0016c001ff10a235");
    CHECK(query_text(db, "SELECT json_extract(tags, '$.district') FROM gateways") == "Barmen");

    // Without tags or location: stored as an empty object and NULLs, read back as such.
    GatewayRecord bare;
    bare.gateway_id = gw_b;
    bare.name = "Mast ohne Ort";
    store.save_registered_gateway(bare);
    CHECK(query_text(db, "SELECT tags FROM gateways WHERE gateway_id = 'aa555a0000000101'") == "{}");
    bare.registered = true;
    CHECK(store.load_gateways() == std::vector<GatewayRecord>{expected, bare});  // ordered by id
}

TEST_CASE("gateway store: record_activity adds an unknown gateway as unregistered", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    store.record_activity({activity(gw_b, t0, 4, vohwinkel)});

    GatewayRecord expected;
    expected.gateway_id = gw_b;
    expected.location = vohwinkel;
    expected.first_seen = t0;
    expected.last_seen = t0;
    expected.frames_received = 4;
    CHECK(store.load_gateways() == std::vector<GatewayRecord>{expected});
    CHECK(query_text(db, "SELECT last_seen FROM gateways") == t0_text);
    CHECK(query_int(db, "SELECT registered FROM gateways") == 0);
}

TEST_CASE("gateway store: frame deltas add up over flushes and within one", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    store.record_activity({activity(gw_a, t0, 3)});
    store.record_activity({activity(gw_a, t1, 5), activity(gw_b, t1, 1)});
    store.record_activity({activity(gw_a, t2, 7)});
    store.record_activity({});  // nothing to do, and no empty transaction either

    auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 2);
    CHECK(loaded[0].frames_received == 3 + 5 + 7);
    CHECK(loaded[0].first_seen == SystemTime{t0});
    CHECK(loaded[0].last_seen == SystemTime{t2});
    CHECK(loaded[1].frames_received == 1);
    CHECK(loaded[1].first_seen == SystemTime{t1});

    // The same gateway twice in one batch counts twice.
    store.record_activity({activity(gw_b, t2, 10), activity(gw_b, t2, 20)});
    loaded = store.load_gateways();
    CHECK(loaded[1].frames_received == 1 + 10 + 20);
    CHECK(loaded[1].first_seen == SystemTime{t1});
}

TEST_CASE("gateway store: a batch that fails half-way is not applied at all", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);
    store.record_activity({activity(gw_a, t0, 1)});

    // A delta beyond INT64_MAX turns negative in SQLite's INTEGER and trips the frames_received CHECK.
    const auto too_many = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 2;
    CHECK_THROWS_AS(store.record_activity({activity(gw_a, t1, 5), activity(gw_b, t1, too_many)}),
                    schwebe::sqlite::Error);
    CHECK_FALSE(db.in_transaction());

    const auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].frames_received == 1);
    CHECK(loaded[0].last_seen == SystemTime{t0});
}

TEST_CASE("gateway store: a reported location never replaces a registered one", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    store.save_registered_gateway(registered_gateway(gw_a, rathaus));
    store.record_activity({activity(gw_a, t0, 1, vohwinkel), activity(gw_b, t0, 1, schwebebahn_depot)});
    auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 2);
    CHECK(loaded[0].location == rathaus);
    CHECK(loaded[1].location == schwebebahn_depot);

    // An unregistered gateway follows what it reports; a flush without a report keeps the last one.
    store.record_activity({activity(gw_b, t1, 1, vohwinkel)});
    store.record_activity({activity(gw_b, t2, 1)});
    loaded = store.load_gateways();
    CHECK(loaded[0].location == rathaus);
    CHECK(loaded[1].location == vohwinkel);
}

TEST_CASE("gateway store: saving a registration keeps what was seen of the gateway", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    const GatewayStats stats = full_stats(gw_a);
    store.record_activity({activity(gw_a, t0, 10, vohwinkel, stats)});
    store.record_activity({activity(gw_a, t1, 2)});
    store.save_registered_gateway(registered_gateway(gw_a, rathaus));

    GatewayRecord expected = registered_gateway(gw_a, rathaus);
    expected.first_seen = t0;
    expected.last_seen = t1;
    expected.frames_received = 12;
    expected.last_stats = stats;
    CHECK(store.load_gateways() == std::vector<GatewayRecord>{expected});

    // The operator clears the location: the registration says "no location", and reports do not fill it in.
    store.save_registered_gateway(registered_gateway(gw_a, std::nullopt));
    store.record_activity({activity(gw_a, t2, 1, vohwinkel)});
    const auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK_FALSE(loaded[0].location.has_value());
    CHECK(loaded[0].frames_received == 13);
}

TEST_CASE("gateway store: stats round-trip as snake_case JSON", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    const GatewayStats stats = full_stats(gw_a);
    store.record_activity({activity(gw_a, t1, 1, std::nullopt, stats)});
    auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].last_stats == stats);

    // Readable by SQL (dashboards, the sqlite3 shell) under the field names of GatewayStats.
    CHECK(query_int(db, "SELECT json_extract(last_stats, '$.rx_ok') FROM gateways") == stats.rx_ok);
    CHECK(query_int(db, "SELECT json_extract(last_stats, '$.tx_emitted') FROM gateways") == stats.tx_emitted);
    CHECK(query_text(db, "SELECT json_extract(last_stats, '$.gateway_id') FROM gateways") == gw_a.to_string());
    CHECK(query_text(db, "SELECT json_extract(last_stats, '$.received_at') FROM gateways") ==
          schwebe::sqlite::format_timestamp(t1));
    CHECK(query_text(db, "SELECT json_extract(last_stats, '$.ack_ratio') FROM gateways") == "87.5");
    CHECK(query_text(db, "SELECT json_extract(last_stats, '$.location.altitude') FROM gateways") == "142.0");

    // A flush without stats keeps the last ones; new stats without gateway time or location replace them whole.
    store.record_activity({activity(gw_a, t2, 1)});
    CHECK(store.load_gateways()[0].last_stats == stats);

    GatewayStats sparse;
    sparse.gateway_id = gw_a;
    sparse.received_at = t2;
    sparse.rx_received = 1;
    store.record_activity({activity(gw_a, t2, 1, std::nullopt, sparse)});
    loaded = store.load_gateways();
    CHECK(loaded[0].last_stats == sparse);
    CHECK(query_int(db, "SELECT json_type(last_stats, '$.time') IS NULL FROM gateways") == 1);
}

TEST_CASE("gateway store: remove_gateway says whether there was one", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);
    store.save_registered_gateway(registered_gateway(gw_a, rathaus));
    store.record_activity({activity(gw_b, t0, 1)});

    CHECK(store.remove_gateway(gw_a));
    CHECK_FALSE(store.remove_gateway(gw_a));
    const auto loaded = store.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].gateway_id == gw_b);
}

TEST_CASE("gateway store: changed_externally sees other connections' commits only", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    CHECK_FALSE(store.changed_externally());
    store.record_activity({activity(gw_a, t0, 1)});
    store.save_registered_gateway(registered_gateway(gw_b, rathaus));
    CHECK(store.remove_gateway(gw_b));
    CHECK_FALSE(store.changed_externally());  // our own writes

    Database cli = Database::open(dir.db_path());  // the CLI, another process
    SqliteGatewayStore cli_store(cli);
    {
        Transaction abandoned(cli);
        cli.exec("DELETE FROM gateways");
    }
    CHECK_FALSE(store.changed_externally());  // rolled back: nothing changed

    cli_store.save_registered_gateway(registered_gateway(gw_b, vohwinkel));
    CHECK(store.changed_externally());
    CHECK_FALSE(store.changed_externally());  // reported once
    CHECK(store.load_gateways().size() == 2);
    CHECK_FALSE(cli_store.changed_externally());  // built after the server's last write; the one since is its own

    // A change between building a store and its first call is not lost.
    SqliteGatewayStore late(db);
    CHECK(cli_store.remove_gateway(gw_b));
    CHECK(late.changed_externally());
}

TEST_CASE("gateway store: rows it cannot read are reported, not misread", "[integration][sqlite]") {
    const TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteGatewayStore store(db);

    SECTION("a tag that is not a string") {
        db.exec(R"(INSERT INTO gateways (gateway_id, tags) VALUES ('0016c001ff10a235', '{"floor": 3}'))");
        CHECK_THROWS_WITH(store.load_gateways(), Contains("0016c001ff10a235") && Contains("tags"));
    }
    SECTION("a time that is not RFC 3339") {
        db.exec("INSERT INTO gateways (gateway_id, last_seen) VALUES ('0016c001ff10a235', 'yesterday')");
        CHECK_THROWS_AS(store.load_gateways(), schwebe::sqlite::Error);
        CHECK_THROWS_WITH(store.load_gateways(), Contains("last_seen"));
    }
    SECTION("stats without their gateway") {
        db.exec(R"(INSERT INTO gateways (gateway_id, last_stats) VALUES ('0016c001ff10a235', '{"rx_ok": 1}'))");
        CHECK_THROWS_WITH(store.load_gateways(), Contains("last_stats"));
    }
    // The failed load left no read open: writing from another connection still works and is seen.
    CHECK_FALSE(db.in_transaction());
    Database other = Database::open(dir.db_path());
    other.exec("DELETE FROM gateways");
    CHECK(store.load_gateways().empty());
}
