// The network server's store on real SQLite files (integrations/sqlite/ns_store.hpp): sessions, joins, counters and
// the downlink queue of migration 3, each test in a fresh directory under the system's temporary directory.

#include "integrations/sqlite/ns_store.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/migrations.hpp"
#include "support/sqlite_files.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using schwebe::lorawan::AppKey;
using schwebe::lorawan::AppSKey;
using schwebe::lorawan::Bytes;
using schwebe::lorawan::DevAddr;
using schwebe::lorawan::Eui64;
using schwebe::lorawan::NwkSKey;
using schwebe::ns::Activation;
using schwebe::ns::ChangeResult;
using schwebe::ns::Device;
using schwebe::ns::DeviceProfile;
using schwebe::ns::DeviceSession;
using schwebe::ns::FCntDownReservation;
using schwebe::ns::JoinCommit;
using schwebe::ns::MacState;
using schwebe::ns::QueueItem;
using schwebe::ns::QueueItemRemoved;
using schwebe::ns::QueueItemSent;
using schwebe::ns::UplinkCommit;
using schwebe::sqlite::Database;
using schwebe::sqlite::SqliteDeviceRegistry;
using schwebe::sqlite::SqliteNsStore;
using schwebe::test::query_int;
using schwebe::test::TempDir;
using Results = std::vector<ChangeResult>;

template <class Key>
Key key_of(std::uint8_t first) {
    typename Key::Array bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(first + i);
    return Key{bytes};
}

constexpr Eui64 meter_1 = Eui64::from_u64(0x70b3d57ed0002b01);
constexpr Eui64 meter_2 = Eui64::from_u64(0x70b3d57ed0002b02);
constexpr Eui64 spot_17 = Eui64::from_u64(0x70b3d57ed0001a17);
constexpr Eui64 unknown = Eui64::from_u64(0x70b3d57ed000ffff);
constexpr DevAddr meter_addr{0x260b1001};
constexpr DevAddr joined_addr{0x260b2001};
constexpr DevAddr rejoined_addr{0x260b2002};

DeviceProfile abp_profile() {
    DeviceProfile p;
    p.name = "meter-abp";
    p.mac_version = schwebe::ns::MacVersion::v1_0_2;
    p.activation = Activation::abp;
    p.rx1_delay_s = 2;
    p.rx1_dr_offset = 1;
    p.rx2_dr = 3;
    p.rx2_frequency_hz = 869'100'000;
    return p;
}

DeviceProfile otaa_profile() {
    DeviceProfile p;
    p.name = "parking-otaa";
    p.mac_version = schwebe::ns::MacVersion::v1_0_3;
    p.activation = Activation::otaa;
    return p;
}

/// The MAC state of a session nothing has changed yet: the defaults, with the RX settings of abp_profile().
MacState abp_default_mac() {
    MacState mac;
    mac.rx1_delay_s = 2;
    mac.rx1_dr_offset = 1;
    mac.rx2_dr = 3;
    mac.rx2_frequency_hz = 869'100'000;
    return mac;
}

/// A MAC state an uplink could leave behind: another data rate and one ADR record.
MacState after_uplink(std::uint32_t f_cnt) {
    MacState mac = abp_default_mac();
    mac.dr = 5;
    mac.uplink_history.push_back(schwebe::ns::UplinkRecord{.f_cnt = f_cnt, .max_snr = 7.25, .gateway_count = 2});
    return mac;
}

DeviceSession joined_session(DevAddr dev_addr, std::uint8_t key_seed) {
    DeviceSession s;
    s.dev_addr = dev_addr;
    s.nwk_s_key = key_of<NwkSKey>(key_seed);
    s.app_s_key = key_of<AppSKey>(static_cast<std::uint8_t>(key_seed + 0x40));
    s.mac.rx1_delay_s = 5;
    return s;
}

Device meter_device(const Eui64& dev_eui, const std::string& application_id, const std::string& profile_id,
                    std::uint8_t key_seed) {
    Device d;
    d.dev_eui = dev_eui;
    d.name = "meter " + dev_eui.to_string();
    d.application_id = application_id;
    d.device_profile_id = profile_id;
    d.dev_addr = meter_addr;
    d.nwk_s_key = key_of<NwkSKey>(key_seed);
    d.app_s_key = key_of<AppSKey>(static_cast<std::uint8_t>(key_seed + 0x40));
    return d;
}

Device spot_device(const std::string& application_id, const std::string& profile_id) {
    Device d;
    d.dev_eui = spot_17;
    d.name = "Spot 17";
    d.application_id = application_id;
    d.device_profile_id = profile_id;
    d.join_eui = Eui64::from_u64(0x70b3d57ed0000001);
    d.app_key = key_of<AppKey>(0x10);
    return d;
}

/// A store with one application, an ABP and an OTAA profile, two ABP meters sharing a DevAddr and one OTAA device.
struct Fixture {
    TempDir dir;
    Database db = Database::open(dir.db_path());
    SqliteDeviceRegistry registry{db};
    SqliteNsStore store{db};
    schwebe::ns::Application city = registry.create_application("city").value();
    DeviceProfile abp = registry.create_device_profile(abp_profile()).value();
    DeviceProfile otaa = registry.create_device_profile(otaa_profile()).value();

    Device add_meter(const Eui64& dev_eui, std::uint8_t key_seed) {
        const Device d = meter_device(dev_eui, city.id, abp.id, key_seed);
        REQUIRE(registry.add_device(d).ok());
        return d;
    }

    Device add_spot() {
        const Device d = spot_device(city.id, otaa.id);
        REQUIRE(registry.add_device(d).ok());
        return d;
    }

    /// The session of a device that must have one.
    DeviceSession session_of(const Eui64& dev_eui) {
        const auto record = store.find_device(dev_eui);
        REQUIRE(record.has_value());
        REQUIRE(record->session.has_value());
        return *record->session;
    }

    QueueItem enqueue(const Eui64& dev_eui, std::uint8_t f_port, bool confirmed) {
        auto item = store.enqueue(dev_eui, f_port, Bytes{f_port, 0xaa}, confirmed);
        REQUIRE(item.ok());
        return item.value();
    }
};

UplinkCommit uplink(const Eui64& dev_eui, std::optional<std::uint32_t> previous, std::uint32_t f_cnt,
                    DevAddr dev_addr = meter_addr) {
    return UplinkCommit{.dev_eui = dev_eui,
                        .dev_addr = dev_addr,
                        .previous_f_cnt_up = previous,
                        .f_cnt_up = f_cnt,
                        .mac = after_uplink(f_cnt)};
}

FCntDownReservation reservation(const Eui64& dev_eui, std::uint32_t f_cnt_down, DevAddr dev_addr = meter_addr) {
    MacState mac = abp_default_mac();
    mac.pending_link_adr = schwebe::lorawan::LinkAdrReq{.data_rate = 5, .tx_power = 1, .ch_mask = 7, .nb_trans = 1};
    return FCntDownReservation{.dev_eui = dev_eui, .dev_addr = dev_addr, .f_cnt_down = f_cnt_down, .mac = mac};
}

JoinCommit join(std::uint16_t dev_nonce, std::uint32_t join_nonce, const DeviceSession& session) {
    return JoinCommit{.dev_eui = spot_17, .dev_nonce = dev_nonce, .join_nonce = join_nonce, .session = session};
}

}  // namespace

// ---- Reading -------------------------------------------------------------------------------------------------------

TEST_CASE("ns store: an ABP device is found by its DevAddr with keys, profile, application and a fresh session",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    const Device meter = f.add_meter(meter_1, 0x20);
    f.add_spot();

    const auto records = f.store.find_by_dev_addr(meter_addr);
    REQUIRE(records.size() == 1);
    const auto& r = records[0];
    CHECK(r.device == meter);
    CHECK(r.profile == f.abp);
    CHECK(r.application_name == "city");
    REQUIRE(r.session.has_value());
    CHECK(r.session->dev_addr == meter_addr);
    CHECK(r.session->nwk_s_key == *meter.nwk_s_key);
    CHECK(r.session->app_s_key == *meter.app_s_key);
    CHECK_FALSE(r.session->f_cnt_up.has_value());
    CHECK(r.session->n_f_cnt_down == 0);
    CHECK(r.session->mac == abp_default_mac());
    CHECK(r.join_nonce == 0);
    CHECK_FALSE(r.last_dev_nonce.has_value());
    CHECK(r.queue_size == 0);

    CHECK(f.store.dev_addr_in_use(meter_addr));
    CHECK_FALSE(f.store.dev_addr_in_use(joined_addr));
    CHECK(f.store.find_by_dev_addr(joined_addr).empty());

    // An OTAA device that has not joined is found by its DevEUI only, without a session.
    const auto spot = f.store.find_device(spot_17);
    REQUIRE(spot.has_value());
    CHECK_FALSE(spot->session.has_value());
    CHECK(spot->profile == f.otaa);
    CHECK_FALSE(f.store.find_device(unknown).has_value());
}

TEST_CASE("ns store: devices sharing a DevAddr are all returned, ordered by DevEUI",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    const Device second = f.add_meter(meter_2, 0x60);
    const Device first = f.add_meter(meter_1, 0x20);

    const auto records = f.store.find_by_dev_addr(meter_addr);
    REQUIRE(records.size() == 2);
    CHECK(records[0].device == first);
    CHECK(records[1].device == second);
    CHECK(records[0].session->nwk_s_key != records[1].session->nwk_s_key);
}

// ---- Uplinks -------------------------------------------------------------------------------------------------------

TEST_CASE("ns store: an accepted uplink is on the file when commit returns", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    CHECK(f.store.commit({uplink(meter_1, std::nullopt, 7)}) == Results{ChangeResult::applied});

    Database other = Database::open(f.dir.db_path());
    SqliteNsStore reopened{other};
    const auto record = reopened.find_device(meter_1);
    REQUIRE(record.has_value());
    REQUIRE(record->session.has_value());
    CHECK(record->session->f_cnt_up == 7u);
    CHECK(record->session->mac == after_uplink(7));

    // The next uplink is conditional on 7.
    CHECK(f.store.commit({uplink(meter_1, 7, 8)}) == Results{ChangeResult::applied});
    CHECK(reopened.find_device(meter_1)->session->f_cnt_up == 8u);
}

TEST_CASE("ns store: the before-commit hook writes inside the batch's transaction, and its failure undoes the batch",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    f.db.exec("CREATE TABLE journal (note TEXT NOT NULL)");

    // The hook sees the results and writes beside the counter: both are on the file afterwards.
    Results seen;
    CHECK(f.store.commit({uplink(meter_1, std::nullopt, 7)}, [&](const Results& results) {
        seen = results;
        f.db.exec("INSERT INTO journal VALUES ('up 7')");
    }) == Results{ChangeResult::applied});
    CHECK(seen == Results{ChangeResult::applied});
    CHECK(schwebe::test::query_int(f.db, "SELECT count(*) FROM journal") == 1);

    // A hook that fails: neither the counter nor the hook's own write stays.
    CHECK_THROWS_AS(f.store.commit({uplink(meter_1, 7, 8)},
                                   [&](const Results&) {
                                       f.db.exec("INSERT INTO journal VALUES ('up 8')");
                                       throw std::runtime_error("outbox full");
                                   }),
                    std::runtime_error);
    CHECK(schwebe::test::query_int(f.db, "SELECT count(*) FROM journal") == 1);
    Database other = Database::open(f.dir.db_path());
    SqliteNsStore reopened{other};
    CHECK(reopened.find_device(meter_1)->session->f_cnt_up == 7u);

    // With no changes, the hook still runs in a transaction of its own (events without data, e.g. a TX_ACK's).
    bool ran = false;
    CHECK(f.store.commit({}, [&](const Results& results) {
        ran = results.empty();
        f.db.exec("INSERT INTO journal VALUES ('txack')");
    }).empty());
    CHECK(ran);
    CHECK(schwebe::test::query_int(f.db, "SELECT count(*) FROM journal") == 2);
}

TEST_CASE("ns store: a stale uplink is refused and changes nothing while the rest of its batch applies",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    f.add_meter(meter_2, 0x60);
    REQUIRE(f.store.commit({uplink(meter_1, std::nullopt, 7)}) == Results{ChangeResult::applied});
    const DeviceSession before = f.session_of(meter_1);

    const auto results = f.store.commit({
        uplink(meter_1, 6, 9),               // read before 7 was stored: another writer was first
        uplink(meter_1, std::nullopt, 9),    // as if no uplink had been stored
        uplink(meter_1, 7, 9, joined_addr),  // right counter, another address: not this session
        uplink(meter_2, std::nullopt, 1),    // fine
        uplink(unknown, std::nullopt, 1),    // no such device
        uplink(spot_17, std::nullopt, 1),    // no such device either
    });
    CHECK(results == Results{ChangeResult::stale_counter, ChangeResult::stale_counter, ChangeResult::stale_counter,
                             ChangeResult::applied, ChangeResult::not_found, ChangeResult::not_found});
    CHECK(f.session_of(meter_1) == before);
    CHECK(f.session_of(meter_2).f_cnt_up == 1u);
}

TEST_CASE("ns store: an OTAA device without a session gets not_found for its uplinks",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_spot();
    CHECK(f.store.commit({uplink(spot_17, std::nullopt, 1, joined_addr)}) == Results{ChangeResult::not_found});
    CHECK(f.store.commit({reservation(spot_17, 0, joined_addr)}) == Results{ChangeResult::not_found});
}

// ---- Joins ---------------------------------------------------------------------------------------------------------

TEST_CASE("ns store: a DevNonce is accepted once - its reuse changes nothing", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_spot();
    const DeviceSession first = joined_session(joined_addr, 0x30);
    REQUIRE(f.store.commit({join(0x1234, 1, first)}) == Results{ChangeResult::applied});

    auto record = f.store.find_device(spot_17).value();
    CHECK(record.session == first);
    CHECK(record.join_nonce == 1);
    CHECK(record.last_dev_nonce == std::optional<std::uint16_t>{0x1234});

    CHECK(f.store.commit({join(0x1234, 2, joined_session(rejoined_addr, 0x50))}) ==
          Results{ChangeResult::dev_nonce_reused});
    record = f.store.find_device(spot_17).value();
    CHECK(record.session == first);
    CHECK(record.join_nonce == 1);
    CHECK(record.last_dev_nonce == std::optional<std::uint16_t>{0x1234});
    CHECK(f.store.find_by_dev_addr(rejoined_addr).empty());

    // A lower DevNonce never used before is accepted (1.0.2/1.0.3 DevNonces are random); the highest is kept.
    const DeviceSession second = joined_session(rejoined_addr, 0x50);
    CHECK(f.store.commit({join(0x0010, 2, second)}) == Results{ChangeResult::applied});
    record = f.store.find_device(spot_17).value();
    CHECK(record.session == second);
    CHECK(record.join_nonce == 2);
    CHECK(record.last_dev_nonce == std::optional<std::uint16_t>{0x1234});

    CHECK(f.store.commit({JoinCommit{.dev_eui = unknown, .dev_nonce = 1, .join_nonce = 1, .session = first}}) ==
          Results{ChangeResult::not_found});
}

TEST_CASE("ns store: a join replaces the session and drops the confirmed items awaiting an ACK of the old one",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_spot();
    REQUIRE(f.store.commit({join(1, 1, joined_session(joined_addr, 0x30))}) == Results{ChangeResult::applied});
    REQUIRE(f.store.commit({uplink(spot_17, std::nullopt, 3, joined_addr), reservation(spot_17, 0, joined_addr)}) ==
            Results{ChangeResult::applied, ChangeResult::applied});

    const QueueItem awaiting_ack = f.enqueue(spot_17, 10, true);
    const QueueItem fresh_confirmed = f.enqueue(spot_17, 11, true);
    const QueueItem fresh_unconfirmed = f.enqueue(spot_17, 12, false);
    REQUIRE(f.store.commit({QueueItemSent{.id = awaiting_ack.id, .confirmed = true, .f_cnt_down = 0, .attempts = 1}}) ==
            Results{ChangeResult::applied});

    const DeviceSession rejoined = joined_session(rejoined_addr, 0x50);
    REQUIRE(f.store.commit({join(2, 2, rejoined)}) == Results{ChangeResult::applied});

    const auto found = f.store.find_by_dev_addr(rejoined_addr);
    REQUIRE(found.size() == 1);
    CHECK(found[0].device.dev_eui == spot_17);
    CHECK(found[0].session == rejoined);  // counters of the new session, not the old ones
    CHECK(found[0].queue_size == 2);
    CHECK(f.store.find_by_dev_addr(joined_addr).empty());
    CHECK_FALSE(f.store.dev_addr_in_use(joined_addr));
    CHECK(f.store.queue(spot_17) == std::vector<QueueItem>{fresh_confirmed, fresh_unconfirmed});

    // The old session's address no longer takes uplinks or reservations.
    CHECK(f.store.commit({uplink(spot_17, std::nullopt, 1, joined_addr), reservation(spot_17, 5, joined_addr)}) ==
          Results{ChangeResult::stale_counter, ChangeResult::stale_counter});
}

// ---- Downlink counters ---------------------------------------------------------------------------------------------

TEST_CASE("ns store: an FCntDown reservation never moves n_f_cnt_down backwards", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);

    CHECK(f.store.commit({reservation(meter_1, 0)}) == Results{ChangeResult::applied});
    CHECK(f.session_of(meter_1).n_f_cnt_down == 1);
    CHECK(f.session_of(meter_1).mac == reservation(meter_1, 0).mac);

    // A gap is fine (counters are only ever skipped, never reused).
    CHECK(f.store.commit({reservation(meter_1, 5)}) == Results{ChangeResult::applied});
    CHECK(f.session_of(meter_1).n_f_cnt_down == 6);

    CHECK(f.store.commit({reservation(meter_1, 3), reservation(meter_1, 5)}) ==
          Results{ChangeResult::stale_counter, ChangeResult::stale_counter});
    CHECK(f.session_of(meter_1).n_f_cnt_down == 6);

    CHECK(f.store.commit({reservation(meter_1, 6, joined_addr), reservation(unknown, 6)}) ==
          Results{ChangeResult::stale_counter, ChangeResult::not_found});
    CHECK(f.session_of(meter_1).n_f_cnt_down == 6);

    CHECK(f.store.commit({reservation(meter_1, 6)}) == Results{ChangeResult::applied});
    CHECK(f.session_of(meter_1).n_f_cnt_down == 7);

    // The last counter, 2^32 - 1, cannot be handed out: the one after it does not exist.
    constexpr auto last = std::numeric_limits<std::uint32_t>::max();
    CHECK(f.store.commit({reservation(meter_1, last - 1)}) == Results{ChangeResult::applied});
    CHECK(f.session_of(meter_1).n_f_cnt_down == last);
    CHECK(f.store.commit({reservation(meter_1, last)}) == Results{ChangeResult::stale_counter});
    CHECK(f.session_of(meter_1).n_f_cnt_down == last);
}

// ---- Downlink queue ------------------------------------------------------------------------------------------------

TEST_CASE("ns store: queue items go out in the order they were enqueued", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    f.add_meter(meter_2, 0x60);

    const QueueItem a = f.enqueue(meter_1, 20, false);
    const QueueItem other = f.enqueue(meter_2, 1, false);
    const QueueItem b = f.enqueue(meter_1, 3, true);
    const QueueItem c = f.enqueue(meter_1, 223, false);

    CHECK(a.id.size() == 36);
    CHECK(a.id != b.id);
    CHECK(a.dev_eui == meter_1);
    CHECK(a.data == Bytes{20, 0xaa});
    CHECK_FALSE(a.confirmed);
    CHECK(b.confirmed);
    CHECK_FALSE(b.f_cnt_down.has_value());
    CHECK(b.attempts == 0);
    CHECK(f.store.queue(meter_1) == std::vector<QueueItem>{a, b, c});
    CHECK(f.store.queue(meter_2) == std::vector<QueueItem>{other});
    CHECK(f.store.queue(unknown).empty());
    CHECK(f.store.find_device(meter_1)->queue_size == 3);

    // The limits themselves are accepted: f_port 1 and 223, 242 bytes, and no bytes at all.
    CHECK(f.store.enqueue(meter_1, 1, Bytes(242, 0x55), false).ok());
    CHECK(f.store.enqueue(meter_1, 223, Bytes{}, true).ok());
    const auto items = f.store.queue(meter_1);
    REQUIRE(items.size() == 5);
    CHECK(items[3].data.size() == 242);
    CHECK(items[4].data.empty());
}

TEST_CASE("ns store: a refused queue item names its field and is not stored", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);

    const auto no_device = f.store.enqueue(unknown, 10, Bytes{1}, false);
    REQUIRE_FALSE(no_device.ok());
    CHECK_THAT(no_device.error(), StartsWith("dev_eui: no such device") && Contains(unknown.to_string()));

    for (const std::uint8_t f_port : {0, 224, 255}) {
        INFO("f_port " << int{f_port});
        const auto refused = f.store.enqueue(meter_1, f_port, Bytes{1}, false);
        REQUIRE_FALSE(refused.ok());
        CHECK_THAT(refused.error(), StartsWith("f_port:"));
    }

    const auto too_long = f.store.enqueue(meter_1, 10, Bytes(243, 0), false);
    REQUIRE_FALSE(too_long.ok());
    CHECK_THAT(too_long.error(), StartsWith("data:") && Contains("243"));

    CHECK(f.store.queue(meter_1).empty());
}

TEST_CASE("ns store: a sent unconfirmed item is removed, a sent confirmed one records its FCntDown and attempts",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    const QueueItem unconfirmed = f.enqueue(meter_1, 10, false);
    const QueueItem confirmed = f.enqueue(meter_1, 11, true);

    CHECK(f.store.commit({
              QueueItemSent{.id = unconfirmed.id, .confirmed = false, .f_cnt_down = 4, .attempts = 1},
              QueueItemSent{.id = confirmed.id, .confirmed = true, .f_cnt_down = 5, .attempts = 1},
          }) == Results{ChangeResult::applied, ChangeResult::applied});
    auto items = f.store.queue(meter_1);
    REQUIRE(items.size() == 1);
    CHECK(items[0].id == confirmed.id);
    CHECK(items[0].f_cnt_down == 5u);
    CHECK(items[0].attempts == 1);

    // A retry records the new counter and count; the ACK (or giving up) removes it.
    CHECK(f.store.commit({QueueItemSent{.id = confirmed.id, .confirmed = true, .f_cnt_down = 8, .attempts = 2}}) ==
          Results{ChangeResult::applied});
    items = f.store.queue(meter_1);
    REQUIRE(items.size() == 1);
    CHECK(items[0].f_cnt_down == 8u);
    CHECK(items[0].attempts == 2);
    CHECK(f.store.commit({QueueItemRemoved{.id = confirmed.id}}) == Results{ChangeResult::applied});
    CHECK(f.store.queue(meter_1).empty());

    // Items that are gone already.
    CHECK(f.store.commit({
              QueueItemSent{.id = unconfirmed.id, .confirmed = false, .f_cnt_down = 9, .attempts = 1},
              QueueItemSent{.id = confirmed.id, .confirmed = true, .f_cnt_down = 9, .attempts = 3},
              QueueItemRemoved{.id = confirmed.id},
          }) == Results{ChangeResult::not_found, ChangeResult::not_found, ChangeResult::not_found});
}

TEST_CASE("ns store: flushing a queue removes every item of that device only", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    f.add_meter(meter_2, 0x60);
    f.enqueue(meter_1, 1, false);
    f.enqueue(meter_1, 2, true);
    const QueueItem kept = f.enqueue(meter_2, 3, false);

    CHECK(f.store.flush_queue(meter_1) == 2);
    CHECK(f.store.queue(meter_1).empty());
    CHECK(f.store.queue(meter_2) == std::vector<QueueItem>{kept});
    CHECK(f.store.flush_queue(meter_1) == 0);
    CHECK(f.store.flush_queue(unknown) == 0);
}

// ---- Other writers, removal, migration -----------------------------------------------------------------------------

TEST_CASE("ns store: changed_externally sees other connections' writes, not its own",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    CHECK(f.store.changed_externally());  // nothing read yet: everything is new
    CHECK_FALSE(f.store.changed_externally());

    f.add_meter(meter_1, 0x20);  // the same connection
    REQUIRE(f.store.commit({uplink(meter_1, std::nullopt, 1)}) == Results{ChangeResult::applied});
    CHECK_FALSE(f.store.changed_externally());

    {
        // The CLI, in another process, adds a device.
        Database cli = Database::open(f.dir.db_path());
        SqliteDeviceRegistry cli_registry{cli};
        Device d = f.registry.find_device(meter_1).value();
        d.dev_eui = meter_2;
        REQUIRE(cli_registry.add_device(d).ok());
    }
    CHECK(f.store.changed_externally());
    CHECK_FALSE(f.store.changed_externally());
    CHECK(f.store.find_by_dev_addr(meter_addr).size() == 2);
}

TEST_CASE("ns store: removing a device removes its session, join state and queue", "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    f.add_spot();
    f.enqueue(meter_1, 1, false);
    REQUIRE(f.store.commit({join(1, 1, joined_session(joined_addr, 0x30))}) == Results{ChangeResult::applied});
    f.enqueue(spot_17, 1, true);

    REQUIRE(f.registry.remove_device(meter_1));
    REQUIRE(f.registry.remove_device(spot_17));
    CHECK(f.store.find_by_dev_addr(meter_addr).empty());
    CHECK(f.store.find_by_dev_addr(joined_addr).empty());
    CHECK_FALSE(f.store.dev_addr_in_use(meter_addr));
    CHECK(f.store.queue(meter_1).empty());
    CHECK(f.store.queue(spot_17).empty());
    for (const char* table : {"device_sessions", "device_join_state", "device_dev_nonces", "downlink_queue"}) {
        INFO(table);
        CHECK(query_int(f.db, std::string("SELECT COUNT(*) FROM ") + table) == 0);
    }

    // Added again, the OTAA device starts from nothing: no session, and its old DevNonce is not held against it.
    f.add_spot();
    const auto spot = f.store.find_device(spot_17).value();
    CHECK_FALSE(spot.session.has_value());
    CHECK(spot.join_nonce == 0);
    CHECK(f.store.commit({join(1, 1, joined_session(joined_addr, 0x30))}) == Results{ChangeResult::applied});
}

TEST_CASE("ns store: migration 3 gives the ABP devices of a version-2 file their session",
          "[integration][sqlite][ns_store]") {
    TempDir dir;
    Device meter;
    {
        // A file as a binary that knew only migrations 1 and 2 left it, with an ABP and an OTAA device.
        auto db = Database::open(dir.db_path());
        SqliteDeviceRegistry registry{db};
        const auto city = registry.create_application("city").value();
        const auto abp = registry.create_device_profile(abp_profile()).value();
        const auto otaa = registry.create_device_profile(otaa_profile()).value();
        meter = meter_device(meter_1, city.id, abp.id, 0x20);
        REQUIRE(registry.add_device(meter).ok());
        REQUIRE(registry.add_device(spot_device(city.id, otaa.id)).ok());
        db.exec(
            "DROP TABLE api_tokens; DROP TABLE outbox; DROP TABLE gateway_stats; DROP TABLE parking_spots; DROP TABLE readings; DROP TABLE uplinks;"
            "DROP TABLE downlink_queue; DROP TABLE device_dev_nonces; DROP TABLE device_join_state;"
            "DROP TABLE device_sessions; DELETE FROM schema_migrations WHERE version >= 3;");
        REQUIRE(schwebe::sqlite::schema_version(db) == 2);
    }

    auto db = Database::open(dir.db_path());
    CHECK(schwebe::sqlite::schema_version(db) == schwebe::sqlite::latest_schema_version());
    SqliteNsStore store{db};
    const auto records = store.find_by_dev_addr(meter_addr);
    REQUIRE(records.size() == 1);
    CHECK(records[0].device == meter);
    REQUIRE(records[0].session.has_value());
    const DeviceSession& session = *records[0].session;
    CHECK(session.nwk_s_key == *meter.nwk_s_key);
    CHECK(session.app_s_key == *meter.app_s_key);
    CHECK_FALSE(session.f_cnt_up.has_value());
    CHECK(session.n_f_cnt_down == 0);
    CHECK(session.mac == abp_default_mac());  // from the profile
    CHECK_FALSE(store.find_device(spot_17)->session.has_value());

    // The migrated session takes uplinks like any other.
    CHECK(store.commit({uplink(meter_1, std::nullopt, 1)}) == Results{ChangeResult::applied});
    CHECK(store.find_device(meter_1)->session->mac == after_uplink(1));
}

TEST_CASE("ns store: an unreadable MAC state reads as the profile's defaults, logged once",
          "[integration][sqlite][ns_store]") {
    Fixture f;
    f.add_meter(meter_1, 0x20);
    REQUIRE(f.store.commit({uplink(meter_1, std::nullopt, 4)}) == Results{ChangeResult::applied});
    f.db.exec("UPDATE device_sessions SET mac_state = x'09ffff'");

    std::vector<std::string> lines;
    struct CapturedLog {
        explicit CapturedLog(std::vector<std::string>& lines) {
            schwebe::log::set_sink([&lines](std::string_view line) { lines.emplace_back(line); });
        }
        CapturedLog(const CapturedLog&) = delete;
        CapturedLog& operator=(const CapturedLog&) = delete;
        ~CapturedLog() { schwebe::log::set_sink(nullptr); }
    };
    std::optional<schwebe::ns::DeviceRecord> first;
    std::vector<schwebe::ns::DeviceRecord> again;
    {
        const CapturedLog capture(lines);
        first = f.store.find_device(meter_1);
        again = f.store.find_by_dev_addr(meter_addr);
    }

    REQUIRE(first.has_value());
    CHECK(first->session->mac == abp_default_mac());
    CHECK(first->session->f_cnt_up == 4u);
    REQUIRE(again.size() == 1);
    CHECK(again[0].session->mac == abp_default_mac());
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Contains("level=warn") && Contains(meter_1.to_string()));
}
