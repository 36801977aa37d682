// The device registry on real SQLite files: applications, device profiles and devices of migration 2, and the ABP
// sessions of migration 3 it keeps in step, each test in a fresh directory under the system's temporary directory.

#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "integrations/sqlite/migrations.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "support/sqlite_files.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using schwebe::lorawan::AppKey;
using schwebe::lorawan::AppSKey;
using schwebe::lorawan::DevAddr;
using schwebe::lorawan::Eui64;
using schwebe::lorawan::FCntMode;
using schwebe::lorawan::NwkSKey;
using schwebe::ns::Activation;
using schwebe::ns::Device;
using schwebe::ns::DeviceProfile;
using schwebe::ns::MacVersion;
using schwebe::sqlite::Database;
using schwebe::sqlite::SqliteDeviceRegistry;
using schwebe::sqlite::Statement;

using schwebe::test::TempDir;

using schwebe::test::query_int;

bool table_exists(Database& db, const std::string& name) {
    return query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '" + name + "'") == 1;
}

template <class Key>
Key key_of(std::uint8_t first) {
    typename Key::Array bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(first + i);
    return Key{bytes};
}

DeviceProfile parking_profile() {
    DeviceProfile p;
    p.name = "parking-otaa";
    p.region = "EU868";
    p.mac_version = MacVersion::v1_0_4;
    p.activation = Activation::otaa;
    p.f_cnt_mode = FCntMode::strict;
    p.adr_enabled = false;
    p.adr_margin_db = 15.5;
    p.rx1_delay_s = 5;
    p.rx1_dr_offset = 2;
    p.rx2_dr = 3;
    p.rx2_frequency_hz = 869'525'000;
    p.codec = "city-parking";
    p.dev_status_interval = 3600s;
    return p;
}

DeviceProfile meter_profile() {
    DeviceProfile p;
    p.name = "meter-abp";
    p.mac_version = MacVersion::v1_0_2;
    p.activation = Activation::abp;
    p.f_cnt_mode = FCntMode::relaxed;
    return p;
}

constexpr Eui64 spot_17 = Eui64::from_u64(0x70b3d57ed0001a17);
constexpr Eui64 meter_1 = Eui64::from_u64(0x70b3d57ed0002b01);
constexpr Eui64 meter_2 = Eui64::from_u64(0x70b3d57ed0002b02);
constexpr DevAddr shared_addr{0x260b1001};

Device otaa_device(const std::string& application_id, const std::string& profile_id) {
    Device d;
    d.dev_eui = spot_17;
    d.name = "Spot 17, Neumarkt";
    d.application_id = application_id;
    d.device_profile_id = profile_id;
    d.join_eui = Eui64::from_u64(0x70b3d57ed0000001);
    d.app_key = key_of<AppKey>(0x10);
    d.tags = {{"zone", "neumarkt"}, {"spot", "17"}};
    d.location = schwebe::common::Location{51.2562, 7.1508, 160.5};
    return d;
}

Device abp_device(const Eui64& dev_eui, const std::string& application_id, const std::string& profile_id,
                  std::uint8_t key_seed) {
    Device d;
    d.dev_eui = dev_eui;
    d.name = "meter " + dev_eui.to_string();
    d.application_id = application_id;
    d.device_profile_id = profile_id;
    d.dev_addr = shared_addr;
    d.nwk_s_key = key_of<NwkSKey>(key_seed);
    d.app_s_key = key_of<AppSKey>(static_cast<std::uint8_t>(key_seed + 0x40));
    return d;
}

/// A store with one application and both profiles, ready for devices.
struct Fixture {
    TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteDeviceRegistry registry{db};
    schwebe::ns::Application city = registry.create_application("city", "Wuppertal parking").value();
    DeviceProfile parking = registry.create_device_profile(parking_profile()).value();
    DeviceProfile meter = registry.create_device_profile(meter_profile()).value();
};

}  // namespace

TEST_CASE("devices: migration 2 creates the device tables on a fresh file", "[integration][sqlite][devices]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    CHECK(schwebe::sqlite::latest_schema_version() >= 2);
    CHECK(schwebe::sqlite::schema_version(db) == schwebe::sqlite::latest_schema_version());
    for (const char* table : {"gateways", "applications", "device_profiles", "devices"}) {
        INFO(table);
        CHECK(table_exists(db, table));
    }
    CHECK(query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = 'devices_dev_addr'") == 1);
}

TEST_CASE("devices: migration 2 is applied to a version-1 file and keeps its gateways",
          "[integration][sqlite][devices]") {
    TempDir dir;
    const Eui64 gateway_id = Eui64::from_u64(0x0016c001ff10a235);
    {
        // A file as a binary that knew only migration 1 left it: migration 1's tables, one gateway, version 1.
        auto db = Database::open(dir.db_path());
        db.exec(
            "DROP TABLE api_tokens; DROP TABLE outbox; DROP TABLE gateway_stats; DROP TABLE parking_spots; DROP TABLE readings; DROP TABLE uplinks;"
            "DROP TABLE downlink_queue; DROP TABLE device_dev_nonces; DROP TABLE device_join_state;"
            "DROP TABLE device_sessions;"
            "DROP TABLE devices; DROP TABLE device_profiles; DROP TABLE applications;"
            "DELETE FROM schema_migrations WHERE version >= 2;");
        REQUIRE(schwebe::sqlite::schema_version(db) == 1);
        REQUIRE_FALSE(table_exists(db, "devices"));
        schwebe::sqlite::SqliteGatewayStore gateways{db};
        schwebe::bridge::GatewayRecord gateway;
        gateway.gateway_id = gateway_id;
        gateway.name = "Rathaus";
        gateway.registered = true;
        gateways.save_registered_gateway(gateway);
    }
    auto db = Database::open(dir.db_path());
    CHECK(schwebe::sqlite::schema_version(db) == schwebe::sqlite::latest_schema_version());
    CHECK(table_exists(db, "devices"));
    schwebe::sqlite::SqliteGatewayStore gateways{db};
    const auto loaded = gateways.load_gateways();
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].gateway_id == gateway_id);
    CHECK(loaded[0].name == "Rathaus");

    SqliteDeviceRegistry registry{db};
    CHECK(registry.create_device_profile(meter_profile()).ok());
}

TEST_CASE("devices: applications are created once per name and found by name and id",
          "[integration][sqlite][devices]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    SqliteDeviceRegistry registry{db};

    const auto city = registry.create_application("city", "Wuppertal");
    REQUIRE(city.ok());
    CHECK(city->name == "city");
    CHECK(city->description == "Wuppertal");
    CHECK(city->id.size() == 36);
    CHECK(registry.find_application_by_name("city") == *city);
    CHECK(registry.find_application_by_id(city->id) == *city);
    CHECK_FALSE(registry.find_application_by_name("nowhere").has_value());

    const auto again = registry.create_application("city");
    REQUIRE_FALSE(again.ok());
    CHECK_THAT(again.error(), StartsWith("name:") && Contains("city"));
    const auto empty = registry.create_application("");
    REQUIRE_FALSE(empty.ok());
    CHECK_THAT(empty.error(), StartsWith("name:"));

    const auto energy = registry.create_application("energy");
    REQUIRE(energy.ok());
    CHECK(energy->id != city->id);
    CHECK(registry.list_applications() == std::vector<schwebe::ns::Application>{*city, *energy});
}

TEST_CASE("devices: device profiles round trip exactly", "[integration][sqlite][devices]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    SqliteDeviceRegistry registry{db};

    const auto created = registry.create_device_profile(parking_profile());
    REQUIRE(created.ok());
    DeviceProfile expected = parking_profile();
    expected.id = created->id;
    CHECK(created.value() == expected);
    CHECK(registry.find_device_profile_by_id(created->id) == expected);
    CHECK(registry.find_device_profile_by_name("parking-otaa") == expected);

    const auto meter = registry.create_device_profile(meter_profile());
    REQUIRE(meter.ok());
    DeviceProfile expected_meter = meter_profile();
    expected_meter.id = meter->id;
    // Ordered by name: "meter-abp" before "parking-otaa".
    CHECK(registry.list_device_profiles() == std::vector<DeviceProfile>{expected_meter, expected});

    // Reopening the file reads the same values.
    Database other = Database::open(dir.db_path());
    SqliteDeviceRegistry other_registry{other};
    CHECK(other_registry.find_device_profile_by_id(created->id) == expected);
}

TEST_CASE("devices: every invalid device profile field is refused by name", "[integration][sqlite][devices]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    SqliteDeviceRegistry registry{db};
    REQUIRE(registry.create_device_profile(parking_profile()).ok());

    struct Case {
        const char* field;
        void (*spoil)(DeviceProfile&);
    };
    const Case cases[] = {
        {"name", [](DeviceProfile& p) { p.name = ""; }},
        {"name", [](DeviceProfile& p) { p.name = "parking-otaa"; }},  // taken
        {"region", [](DeviceProfile& p) { p.region = "US915"; }},
        {"mac_version", [](DeviceProfile& p) { p.mac_version = static_cast<MacVersion>(7); }},
        {"activation", [](DeviceProfile& p) { p.activation = static_cast<Activation>(7); }},
        {"f_cnt_mode", [](DeviceProfile& p) { p.f_cnt_mode = static_cast<FCntMode>(7); }},
        {"adr_margin_db", [](DeviceProfile& p) { p.adr_margin_db = -1; }},
        {"adr_margin_db", [](DeviceProfile& p) { p.adr_margin_db = 31; }},
        {"adr_margin_db", [](DeviceProfile& p) { p.adr_margin_db = std::numeric_limits<double>::quiet_NaN(); }},
        {"rx1_delay_s", [](DeviceProfile& p) { p.rx1_delay_s = 0; }},
        {"rx1_delay_s", [](DeviceProfile& p) { p.rx1_delay_s = 16; }},
        {"rx1_dr_offset", [](DeviceProfile& p) { p.rx1_dr_offset = 6; }},
        {"rx2_dr", [](DeviceProfile& p) { p.rx2_dr = 8; }},
        {"rx2_frequency_hz", [](DeviceProfile& p) { p.rx2_frequency_hz = 915'000'000; }},
        {"codec", [](DeviceProfile& p) { p.codec = "bad\nname"; }},
        {"dev_status_interval", [](DeviceProfile& p) { p.dev_status_interval = -1s; }},
    };
    for (const auto& c : cases) {
        DeviceProfile p = meter_profile();
        c.spoil(p);
        const auto result = registry.create_device_profile(p);
        INFO("field " << c.field);
        REQUIRE_FALSE(result.ok());
        CHECK_THAT(result.error(), StartsWith(std::string(c.field) + ":"));
    }
    // Nothing refused was written; the limits themselves are accepted.
    CHECK(registry.list_device_profiles().size() == 1);
    DeviceProfile edge = meter_profile();
    edge.rx1_delay_s = 15;
    edge.rx1_dr_offset = 5;
    edge.rx2_dr = 7;
    edge.adr_margin_db = 0;
    CHECK(registry.create_device_profile(edge).ok());
}

TEST_CASE("devices: devices round trip exactly, OTAA and ABP", "[integration][sqlite][devices]") {
    Fixture f;
    const Device otaa = otaa_device(f.city.id, f.parking.id);
    const Device abp = abp_device(meter_1, f.city.id, f.meter.id, 0x20);
    REQUIRE(f.registry.add_device(otaa).ok());
    REQUIRE(f.registry.add_device(abp).ok());

    CHECK(f.registry.find_device(spot_17) == otaa);
    CHECK(f.registry.find_device(meter_1) == abp);
    // Ordered by dev_eui: 70b3d57ed0001a17 before 70b3d57ed0002b01.
    CHECK(f.registry.list_devices() == std::vector<Device>{otaa, abp});
    CHECK(f.registry.list_devices(f.city.id) == std::vector<Device>{otaa, abp});
    CHECK(f.registry.list_devices(std::string("no-such-application")).empty());
    CHECK_FALSE(f.registry.find_device(meter_2).has_value());

    // A device without location or tags stays without them.
    Device bare = abp_device(meter_2, f.city.id, f.meter.id, 0x30);
    REQUIRE(f.registry.add_device(bare).ok());
    CHECK(f.registry.find_device(meter_2) == bare);
}

TEST_CASE("devices: update replaces every field and is checked like add", "[integration][sqlite][devices]") {
    Fixture f;
    const auto energy = f.registry.create_application("energy").value();
    Device d = otaa_device(f.city.id, f.parking.id);
    REQUIRE(f.registry.add_device(d).ok());

    d.name = "Spot 17 (moved)";
    d.application_id = energy.id;
    d.app_key = key_of<AppKey>(0x90);
    d.tags = {{"zone", "elberfeld"}};
    d.location.reset();
    REQUIRE(f.registry.update_device(d).ok());
    CHECK(f.registry.find_device(spot_17) == d);
    CHECK(f.registry.list_devices(f.city.id).empty());

    // Switching to the ABP profile without ABP keys is refused, and changes nothing.
    Device to_abp = d;
    to_abp.device_profile_id = f.meter.id;
    const auto refused = f.registry.update_device(to_abp);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error(), StartsWith("dev_addr:"));
    CHECK(f.registry.find_device(spot_17) == d);

    const auto missing = f.registry.update_device(abp_device(meter_1, f.city.id, f.meter.id, 0x20));
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error(), StartsWith("dev_eui:") && Contains(meter_1.to_string()));
}

TEST_CASE("devices: every invalid device field is refused by name", "[integration][sqlite][devices]") {
    Fixture f;
    const Device otaa = otaa_device(f.city.id, f.parking.id);
    const Device abp = abp_device(meter_1, f.city.id, f.meter.id, 0x20);

    struct Case {
        const char* field;
        Device device;
    };
    std::vector<Case> cases;
    auto spoil = [&](const char* field, const Device& base, auto change) {
        Device d = base;
        change(d);
        cases.push_back({field, d});
    };
    spoil("name", otaa, [](Device& d) { d.name = ""; });
    spoil("tags", otaa, [](Device& d) { d.tags[""] = "x"; });
    spoil("latitude", otaa, [](Device& d) { d.location->latitude = 91; });
    spoil("longitude", otaa, [](Device& d) { d.location->longitude = -181; });
    spoil("altitude", otaa, [](Device& d) { d.location->altitude = std::numeric_limits<double>::infinity(); });
    spoil("device_profile_id", otaa, [](Device& d) { d.device_profile_id = "no-such-profile"; });
    spoil("application_id", otaa, [](Device& d) { d.application_id = "no-such-application"; });
    // OTAA: root keys required, session fields refused.
    spoil("join_eui", otaa, [](Device& d) { d.join_eui.reset(); });
    spoil("app_key", otaa, [](Device& d) { d.app_key.reset(); });
    spoil("dev_addr", otaa, [](Device& d) { d.dev_addr = shared_addr; });
    spoil("nwk_s_key", otaa, [](Device& d) { d.nwk_s_key = key_of<NwkSKey>(1); });
    spoil("app_s_key", otaa, [](Device& d) { d.app_s_key = key_of<AppSKey>(1); });
    // ABP: session required, root keys refused.
    spoil("dev_addr", abp, [](Device& d) { d.dev_addr.reset(); });
    spoil("nwk_s_key", abp, [](Device& d) { d.nwk_s_key.reset(); });
    spoil("app_s_key", abp, [](Device& d) { d.app_s_key.reset(); });
    spoil("join_eui", abp, [](Device& d) { d.join_eui = Eui64::from_u64(1); });
    spoil("app_key", abp, [](Device& d) { d.app_key = key_of<AppKey>(1); });

    for (const auto& c : cases) {
        const auto result = f.registry.add_device(c.device);
        INFO("field " << c.field);
        REQUIRE_FALSE(result.ok());
        CHECK_THAT(result.error(), StartsWith(std::string(c.field) + ":"));
    }
    CHECK(f.registry.list_devices().empty());

    REQUIRE(f.registry.add_device(otaa).ok());
    const auto duplicate = f.registry.add_device(otaa);
    REQUIRE_FALSE(duplicate.ok());
    CHECK_THAT(duplicate.error(), StartsWith("dev_eui:") && Contains(spot_17.to_string()));
}

TEST_CASE("devices: an unknown profile or application is refused by its id", "[integration][sqlite][devices]") {
    Fixture f;
    const auto no_profile = f.registry.add_device(otaa_device(f.city.id, "0c1d5b0e-0000-4000-8000-000000000000"));
    REQUIRE_FALSE(no_profile.ok());
    CHECK_THAT(no_profile.error(),
               StartsWith("device_profile_id:") && Contains("0c1d5b0e-0000-4000-8000-000000000000"));
    const auto no_application = f.registry.add_device(otaa_device("elsewhere", f.parking.id));
    REQUIRE_FALSE(no_application.ok());
    CHECK_THAT(no_application.error(), StartsWith("application_id:") && Contains("elsewhere"));
    CHECK_FALSE(f.registry.find_device(spot_17).has_value());
}

TEST_CASE("devices: devices sharing a DevAddr are all found", "[integration][sqlite][devices]") {
    Fixture f;
    const Device first = abp_device(meter_1, f.city.id, f.meter.id, 0x20);
    const Device second = abp_device(meter_2, f.city.id, f.meter.id, 0x60);
    REQUIRE(f.registry.add_device(first).ok());
    REQUIRE(f.registry.add_device(second).ok());
    REQUIRE(f.registry.add_device(otaa_device(f.city.id, f.parking.id)).ok());

    CHECK(f.registry.find_by_dev_addr(shared_addr) == std::vector<Device>{first, second});
    CHECK(f.registry.find_by_dev_addr(DevAddr{0x260b1002}).empty());
}

TEST_CASE("devices: remove deletes one device and reports a missing one", "[integration][sqlite][devices]") {
    Fixture f;
    const Device first = abp_device(meter_1, f.city.id, f.meter.id, 0x20);
    const Device second = abp_device(meter_2, f.city.id, f.meter.id, 0x60);
    REQUIRE(f.registry.add_device(first).ok());
    REQUIRE(f.registry.add_device(second).ok());

    CHECK(f.registry.remove_device(meter_1));
    CHECK_FALSE(f.registry.find_device(meter_1).has_value());
    CHECK(f.registry.find_by_dev_addr(shared_addr) == std::vector<Device>{second});
    CHECK_FALSE(f.registry.remove_device(meter_1));
    // The same dev_eui can be added again afterwards.
    CHECK(f.registry.add_device(first).ok());
}

TEST_CASE("devices: a write inside the caller's transaction is undone with it", "[integration][sqlite][devices]") {
    Fixture f;
    {
        schwebe::sqlite::Transaction transaction(f.db);
        const auto created = f.registry.create_application("temporary");
        REQUIRE(created.ok());
        REQUIRE(f.registry.add_device(otaa_device(created->id, f.parking.id)).ok());
    }  // not committed
    CHECK_FALSE(f.registry.find_application_by_name("temporary").has_value());
    CHECK_FALSE(f.registry.find_device(spot_17).has_value());
}

// ---- ABP sessions (migration 3), observed through the network server's store -----------------------------------

namespace {

/// The session an ABP device starts with: no uplink yet, FCntDown 0, the profile's RX settings.
schwebe::ns::DeviceSession fresh_session(const Device& d, const DeviceProfile& profile) {
    schwebe::ns::DeviceSession session;
    session.dev_addr = *d.dev_addr;
    session.nwk_s_key = *d.nwk_s_key;
    session.app_s_key = *d.app_s_key;
    session.mac.rx1_delay_s = profile.rx1_delay_s;
    session.mac.rx1_dr_offset = profile.rx1_dr_offset;
    session.mac.rx2_dr = profile.rx2_dr;
    session.mac.rx2_frequency_hz = profile.rx2_frequency_hz;
    return session;
}

/// Moves the device's counters on: one uplink (f_cnt_up 41) and one downlink (FCntDown 9).
void use_session(schwebe::sqlite::SqliteNsStore& store, const Device& d) {
    schwebe::ns::MacState mac;
    mac.dr = 5;
    const auto results = store.commit({
        schwebe::ns::UplinkCommit{.dev_eui = d.dev_eui,
                                  .dev_addr = *d.dev_addr,
                                  .previous_f_cnt_up = std::nullopt,
                                  .f_cnt_up = 41,
                                  .mac = mac},
        schwebe::ns::FCntDownReservation{.dev_eui = d.dev_eui, .dev_addr = *d.dev_addr, .f_cnt_down = 9, .mac = mac},
    });
    REQUIRE(results == std::vector{schwebe::ns::ChangeResult::applied, schwebe::ns::ChangeResult::applied});
}

}  // namespace

TEST_CASE("devices: an ABP device gets its session when added, an OTAA device none until it joins",
          "[integration][sqlite][devices]") {
    Fixture f;
    DeviceProfile slow = meter_profile();
    slow.name = "meter-abp-slow";
    slow.rx1_delay_s = 3;
    slow.rx1_dr_offset = 1;
    slow.rx2_dr = 2;
    slow.rx2_frequency_hz = 869'100'000;
    slow = f.registry.create_device_profile(slow).value();
    const Device abp = abp_device(meter_1, f.city.id, slow.id, 0x20);
    REQUIRE(f.registry.add_device(abp).ok());
    REQUIRE(f.registry.add_device(otaa_device(f.city.id, f.parking.id)).ok());

    schwebe::sqlite::SqliteNsStore store{f.db};
    const auto record = store.find_device(meter_1);
    REQUIRE(record.has_value());
    CHECK(record->session == fresh_session(abp, slow));
    CHECK(store.dev_addr_in_use(shared_addr));

    const auto otaa = store.find_device(spot_17);
    REQUIRE(otaa.has_value());
    CHECK_FALSE(otaa->session.has_value());
}

TEST_CASE("devices: an ABP session keeps its counters through edits of other fields",
          "[integration][sqlite][devices]") {
    Fixture f;
    Device d = abp_device(meter_1, f.city.id, f.meter.id, 0x20);
    REQUIRE(f.registry.add_device(d).ok());
    schwebe::sqlite::SqliteNsStore store{f.db};
    use_session(store, d);

    d.name = "meter 1 (basement)";
    d.tags = {{"floor", "-1"}};
    REQUIRE(f.registry.update_device(d).ok());
    const auto session = store.find_device(meter_1).value().session.value();
    CHECK(session.f_cnt_up == 41u);
    CHECK(session.n_f_cnt_down == 10);
    CHECK(session.mac.dr == 5);
}

TEST_CASE("devices: new ABP keys or a new DevAddr start a fresh session", "[integration][sqlite][devices]") {
    Fixture f;
    const Device original = abp_device(meter_1, f.city.id, f.meter.id, 0x20);
    Device d = original;
    REQUIRE(f.registry.add_device(d).ok());
    schwebe::sqlite::SqliteNsStore store{f.db};

    SECTION("new NwkSKey") {
        d.nwk_s_key = key_of<NwkSKey>(0x70);
    }
    SECTION("new AppSKey") {
        d.app_s_key = key_of<AppSKey>(0x70);
    }
    SECTION("new DevAddr") {
        d.dev_addr = DevAddr{0x260b1fff};
    }

    use_session(store, original);
    // A confirmed downlink of the old session, awaiting an ACK that cannot come in the new one.
    const auto sent = store.enqueue(meter_1, 10, std::vector<std::uint8_t>{1}, true);
    REQUIRE(sent.ok());
    REQUIRE(
        store.commit({schwebe::ns::QueueItemSent{.id = sent->id, .confirmed = true, .f_cnt_down = 9, .attempts = 1}}) ==
        std::vector{schwebe::ns::ChangeResult::applied});

    REQUIRE(f.registry.update_device(d).ok());
    const auto record = store.find_device(meter_1).value();
    CHECK(record.session == fresh_session(d, f.meter));
    CHECK(record.queue_size == 0);
    CHECK(store.find_by_dev_addr(*d.dev_addr).size() == 1);
    CHECK(store.dev_addr_in_use(shared_addr) == (*d.dev_addr == shared_addr));
}

TEST_CASE(
    "devices: a device moved from ABP to OTAA loses its ABP session; an OTAA device keeps the session of its join",
    "[integration][sqlite][devices]") {
    Fixture f;
    schwebe::sqlite::SqliteNsStore store{f.db};
    Device d = abp_device(spot_17, f.city.id, f.meter.id, 0x20);
    REQUIRE(f.registry.add_device(d).ok());
    REQUIRE(store.find_device(spot_17).value().session.has_value());

    d = otaa_device(f.city.id, f.parking.id);
    REQUIRE(f.registry.update_device(d).ok());
    CHECK_FALSE(store.find_device(spot_17).value().session.has_value());
    CHECK_FALSE(store.dev_addr_in_use(shared_addr));

    schwebe::ns::DeviceSession joined;
    joined.dev_addr = DevAddr{0x260b2222};
    joined.nwk_s_key = key_of<NwkSKey>(0x01);
    joined.app_s_key = key_of<AppSKey>(0x02);
    REQUIRE(store.commit(
                {schwebe::ns::JoinCommit{.dev_eui = spot_17, .dev_nonce = 7, .join_nonce = 1, .session = joined}}) ==
            std::vector{schwebe::ns::ChangeResult::applied});
    d.name = "Spot 17 (renamed)";
    d.app_key = key_of<AppKey>(0x55);
    REQUIRE(f.registry.update_device(d).ok());
    CHECK(store.find_device(spot_17).value().session == joined);
}
