#include "integrations/sqlite/migrations.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

namespace {

// Version 1: the gateway registry (gateway-bridge/gateway_store.hpp). Gateways the operator added are
// `registered`; the others were seen while the bridge accepts unknown gateways. Their location is the registered
// one, else the last one the gateway reported. Times are format_timestamp() text; tags a JSON object of strings;
// last_stats the JSON of common::GatewayStats (snake_case keys, RFC 3339 times).
constexpr std::string_view migration_1_gateways = R"sql(
CREATE TABLE gateways (
    gateway_id      TEXT PRIMARY KEY NOT NULL
                    CHECK (length(gateway_id) = 16 AND gateway_id NOT GLOB '*[^0-9a-f]*'),
    name            TEXT NOT NULL DEFAULT '',
    latitude        REAL,
    longitude       REAL,
    altitude        REAL,
    tags            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
    registered      INTEGER NOT NULL DEFAULT 0 CHECK (registered IN (0, 1)),
    first_seen      TEXT,
    last_seen       TEXT,
    frames_received INTEGER NOT NULL DEFAULT 0 CHECK (frames_received >= 0),
    last_stats      TEXT CHECK (last_stats IS NULL OR json_valid(last_stats))
);
)sql";

// Version 2: applications, device profiles and devices (network-server/device_model.hpp). Ids of applications and
// profiles are lower-case UUIDs; EUIs, DevAddrs and keys lower-case hex (keys only ever read by the server, never
// shown). A device holds the OTAA root keys or the ABP session, as its profile's activation says; the store checks
// that pairing (integrations/sqlite/device_registry.cpp), the schema only each value's form. Several devices may
// share a DevAddr, hence a plain index. Sessions and frame counters come in a later migration.
constexpr std::string_view migration_2_devices = R"sql(
CREATE TABLE applications (
    id          TEXT PRIMARY KEY NOT NULL
                CHECK (length(id) = 36 AND id NOT GLOB '*[^0-9a-f-]*'),
    name        TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE device_profiles (
    id                    TEXT PRIMARY KEY NOT NULL
                          CHECK (length(id) = 36 AND id NOT GLOB '*[^0-9a-f-]*'),
    name                  TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    region                TEXT NOT NULL DEFAULT 'EU868',
    mac_version           TEXT NOT NULL CHECK (mac_version IN ('1.0.2', '1.0.3', '1.0.4')),
    activation            TEXT NOT NULL CHECK (activation IN ('otaa', 'abp')),
    f_cnt_mode            TEXT NOT NULL DEFAULT 'strict' CHECK (f_cnt_mode IN ('strict', 'relaxed')),
    adr_enabled           INTEGER NOT NULL DEFAULT 1 CHECK (adr_enabled IN (0, 1)),
    adr_margin_db         REAL NOT NULL DEFAULT 10,
    rx1_delay_s           INTEGER NOT NULL DEFAULT 1 CHECK (rx1_delay_s BETWEEN 1 AND 15),
    rx1_dr_offset         INTEGER NOT NULL DEFAULT 0 CHECK (rx1_dr_offset BETWEEN 0 AND 5),
    rx2_dr                INTEGER NOT NULL DEFAULT 0 CHECK (rx2_dr BETWEEN 0 AND 7),
    rx2_frequency_hz      INTEGER NOT NULL DEFAULT 869525000 CHECK (rx2_frequency_hz > 0),
    codec                 TEXT NOT NULL DEFAULT '',
    dev_status_interval_s INTEGER NOT NULL DEFAULT 86400 CHECK (dev_status_interval_s >= 0),
    created_at            TEXT NOT NULL
);

CREATE TABLE devices (
    dev_eui           TEXT PRIMARY KEY NOT NULL
                      CHECK (length(dev_eui) = 16 AND dev_eui NOT GLOB '*[^0-9a-f]*'),
    name              TEXT NOT NULL CHECK (length(name) > 0),
    application_id    TEXT NOT NULL REFERENCES applications (id),
    device_profile_id TEXT NOT NULL REFERENCES device_profiles (id),
    join_eui          TEXT CHECK (join_eui IS NULL OR (length(join_eui) = 16 AND join_eui NOT GLOB '*[^0-9a-f]*')),
    app_key           TEXT CHECK (app_key IS NULL OR (length(app_key) = 32 AND app_key NOT GLOB '*[^0-9a-f]*')),
    dev_addr          TEXT CHECK (dev_addr IS NULL OR (length(dev_addr) = 8 AND dev_addr NOT GLOB '*[^0-9a-f]*')),
    nwk_s_key         TEXT CHECK (nwk_s_key IS NULL OR (length(nwk_s_key) = 32 AND nwk_s_key NOT GLOB '*[^0-9a-f]*')),
    app_s_key         TEXT CHECK (app_s_key IS NULL OR (length(app_s_key) = 32 AND app_s_key NOT GLOB '*[^0-9a-f]*')),
    tags              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
    latitude          REAL,
    longitude         REAL,
    altitude          REAL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX devices_dev_addr ON devices (dev_addr);
CREATE INDEX devices_application_id ON devices (application_id);
)sql";

// Version 3: what the network server keeps per device (network-server/store.hpp, integrations/sqlite/ns_store.cpp).
//   device_sessions   the current session: an ABP device's from the moment it is added (device_registry.cpp), an
//                     OTAA device's from its first join. f_cnt_up NULL: no uplink accepted yet. mac_state is
//                     ns::encode(MacState); an empty BLOB stands for the default MacState with the RX settings of
//                     the device's profile (the migration cannot call encode(), so it writes that for the ABP
//                     devices already there).
//   device_join_state the last JoinNonce sent and the highest DevNonce accepted, created on the first join.
//   device_dev_nonces every DevNonce accepted for the device: LoRaWAN 1.0.2/1.0.3 forbid reusing one (§6.2.4).
//   downlink_queue    application payloads in the order they were enqueued (seq, one more than the highest when
//                     inserted); f_cnt_down is set once a confirmed item went out and awaits its ACK.
// Times are format_timestamp() text; strftime's '%f' gives milliseconds, padded to the same microsecond width.
constexpr std::string_view migration_3_network_server = R"sql(
CREATE TABLE device_sessions (
    dev_eui      TEXT PRIMARY KEY NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
    dev_addr     TEXT NOT NULL CHECK (length(dev_addr) = 8 AND dev_addr NOT GLOB '*[^0-9a-f]*'),
    nwk_s_key    TEXT NOT NULL CHECK (length(nwk_s_key) = 32 AND nwk_s_key NOT GLOB '*[^0-9a-f]*'),
    app_s_key    TEXT NOT NULL CHECK (length(app_s_key) = 32 AND app_s_key NOT GLOB '*[^0-9a-f]*'),
    f_cnt_up     INTEGER CHECK (f_cnt_up IS NULL OR f_cnt_up BETWEEN 0 AND 4294967295),
    n_f_cnt_down INTEGER NOT NULL DEFAULT 0 CHECK (n_f_cnt_down BETWEEN 0 AND 4294967295),
    mac_state    BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE INDEX device_sessions_dev_addr ON device_sessions (dev_addr);

CREATE TABLE device_join_state (
    dev_eui        TEXT PRIMARY KEY NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
    join_nonce     INTEGER NOT NULL DEFAULT 0 CHECK (join_nonce BETWEEN 0 AND 4294967295),
    last_dev_nonce INTEGER CHECK (last_dev_nonce IS NULL OR last_dev_nonce BETWEEN 0 AND 65535)
);

CREATE TABLE device_dev_nonces (
    dev_eui   TEXT NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
    dev_nonce INTEGER NOT NULL CHECK (dev_nonce BETWEEN 0 AND 65535),
    used_at   TEXT NOT NULL,
    PRIMARY KEY (dev_eui, dev_nonce)
);

CREATE TABLE downlink_queue (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36 AND id NOT GLOB '*[^0-9a-f-]*'),
    seq        INTEGER NOT NULL UNIQUE,
    dev_eui    TEXT NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
    f_port     INTEGER NOT NULL CHECK (f_port BETWEEN 1 AND 223),
    data       BLOB NOT NULL CHECK (length(data) <= 242),
    confirmed  INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
    created_at TEXT NOT NULL,
    f_cnt_down INTEGER CHECK (f_cnt_down IS NULL OR f_cnt_down BETWEEN 0 AND 4294967295),
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 255)
);

CREATE INDEX downlink_queue_dev_eui_seq ON downlink_queue (dev_eui, seq);

INSERT INTO device_sessions (dev_eui, dev_addr, nwk_s_key, app_s_key, f_cnt_up, n_f_cnt_down, mac_state, created_at,
                             updated_at)
SELECT dev_eui, dev_addr, nwk_s_key, app_s_key, NULL, 0, x'',
       strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
FROM devices
WHERE dev_addr IS NOT NULL AND nwk_s_key IS NOT NULL AND app_s_key IS NOT NULL;
)sql";

// Version 4: what the applications see (integrations/application_sink.cpp, integrations/sqlite/app_store.cpp).
//   uplinks        every data uplink delivered to the application: decrypted data and `event`, the ChirpStack `up`
//                  JSON as published, from which `object` (the decoded payload; NULL when the profile has no codec or
//                  the codec failed) and `rx_info` (the rxInfo array) are read as columns of their own.
//   readings       the normalized values a codec found in an uplink (decoders/codec.hpp), indexed for one device's
//                  and for one quantity's time range; booleans are 0/1.
//   parking_spots  one row per spot (device tags `zone` and `spot`): its status, since when, and when its sensor
//                  was last heard. Zone totals are counted from these rows, so they cannot drift from them.
//   gateway_stats  the stats each gateway reports (every 30 s by default), kept for the retention period.
//   outbox         MQTT messages not yet acknowledged by the broker, written in the transaction of the data they
//                  describe, published in id order and deleted on the broker's acknowledgement. AUTOINCREMENT: ids
//                  only grow, so id order is the order of the events also across restarts. An `up` message has no
//                  payload of its own: it is the `event` of uplink `uplink_id` (written once, not twice).
// Retention (storage.retention_days) deletes old uplinks with their readings, and old gateway_stats; never outbox
// rows. Rows are inserted in time order, so retention walks the tables from their lowest id (no time index to keep
// up on every insert).
// deduplication_id is a UUID made by the network server, unique by construction: not indexed (the hot path pays for
// every index).
constexpr std::string_view migration_4_application = R"sql(
CREATE TABLE uplinks (
    id               INTEGER PRIMARY KEY,
    deduplication_id TEXT NOT NULL,
    time             TEXT NOT NULL,
    dev_eui          TEXT NOT NULL,
    dev_addr         TEXT NOT NULL,
    f_cnt            INTEGER NOT NULL,
    f_port           INTEGER,
    confirmed        INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
    dr               INTEGER NOT NULL,
    frequency        INTEGER NOT NULL,
    data             BLOB NOT NULL,
    event            TEXT NOT NULL,
    object           TEXT GENERATED ALWAYS AS (json_extract(event, '$.object')) VIRTUAL,
    rx_info          TEXT GENERATED ALWAYS AS (json_extract(event, '$.rxInfo')) VIRTUAL
);

CREATE INDEX uplinks_dev_eui_time ON uplinks (dev_eui, time);

CREATE TABLE readings (
    id        INTEGER PRIMARY KEY,
    uplink_id INTEGER NOT NULL,
    dev_eui   TEXT NOT NULL,
    quantity  TEXT NOT NULL,
    time      TEXT NOT NULL,
    value     REAL NOT NULL,
    unit      TEXT NOT NULL
);

CREATE INDEX readings_dev_eui_quantity_time ON readings (dev_eui, quantity, time);
CREATE INDEX readings_quantity_time ON readings (quantity, time);

CREATE TABLE parking_spots (
    zone      TEXT NOT NULL,
    spot      TEXT NOT NULL,
    dev_eui   TEXT NOT NULL UNIQUE,
    status    TEXT NOT NULL CHECK (status IN ('occupied', 'free', 'unknown')),
    since     TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (zone, spot)
);

CREATE INDEX parking_spots_last_seen ON parking_spots (last_seen);

CREATE TABLE gateway_stats (
    id         INTEGER PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    time       TEXT NOT NULL,
    rx_received INTEGER NOT NULL,
    rx_ok      INTEGER NOT NULL,
    rx_forwarded INTEGER NOT NULL,
    ack_ratio  REAL NOT NULL,
    tx_received INTEGER NOT NULL,
    tx_emitted INTEGER NOT NULL
);

CREATE INDEX gateway_stats_gateway_id_time ON gateway_stats (gateway_id, time);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dev_eui    TEXT NOT NULL,
    topic      TEXT NOT NULL,
    payload    BLOB,
    uplink_id  INTEGER CHECK ((payload IS NULL) = (uplink_id IS NOT NULL)),
    qos        INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
    retained   INTEGER NOT NULL CHECK (retained IN (0, 1)),
    created_at TEXT NOT NULL
);
)sql";

// API tokens (token_store.hpp): only the SHA-256 of each secret is kept.
constexpr std::string_view migration_5_api_tokens = R"sql(
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
)sql";

// Append new migrations at the end of this list, never in between (see migrations.hpp).
constexpr std::string_view migrations[] = {
    migration_1_gateways,
    migration_2_devices,
    migration_3_network_server,
    migration_4_application,
    migration_5_api_tokens,
};

std::runtime_error migration_error(const Database& db, const std::string& what) {
    return std::runtime_error("sqlite: " + db.path().string() + ": " + what);
}

}  // namespace

std::span<const std::string_view> schema_migrations() noexcept {
    return migrations;
}

int latest_schema_version() noexcept {
    return static_cast<int>(std::size(migrations));
}

int schema_version(Database& db) {
    auto exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
    const bool has_table = exists.step();
    exists.reset();
    if (!has_table) return 0;
    auto max_version = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    max_version.step();
    const auto version = max_version.column_int64(0);
    max_version.reset();
    return static_cast<int>(version);
}

void apply_migrations(Database& db, std::span<const std::string_view> migrations_to_apply) {
    const int latest = static_cast<int>(migrations_to_apply.size());
    int current = 0;
    try {
        db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)");
        current = schema_version(db);
    } catch (const Error& e) {
        throw migration_error(db, std::string("cannot read the schema version: ") + e.what());
    }
    if (current > latest) {
        // Written by a newer Schwebe: its tables may mean things this binary would misread or overwrite.
        throw migration_error(db, "schema version " + std::to_string(current) + " is newer than version " +
                                      std::to_string(latest) + ", the newest this binary knows; use a newer schwebe");
    }

    for (int version = current + 1; version <= latest; ++version) {
        try {
            Transaction transaction(db);
            // Checked again under the write lock: another process opening the same new file may have been first.
            auto applied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
            applied.bind_int64(1, version);
            const bool already = applied.step();
            applied.reset();
            if (already) continue;

            db.exec(std::string(migrations_to_apply[static_cast<std::size_t>(version - 1)]));
            auto record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
            record.bind_int64(1, version).bind_text(2, format_timestamp(std::chrono::system_clock::now()));
            record.step();
            transaction.commit();
        } catch (const Error& e) {
            throw migration_error(db, "migration " + std::to_string(version) + " failed: " + e.what());
        }
    }
}

}  // namespace schwebe::sqlite
