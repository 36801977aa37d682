#pragma once
// Internal to integrations/sqlite: what the device registry (device_registry.cpp) and the network server's store
// (ns_store.cpp) share about the tables of migrations 2 and 3: reading device and profile rows back, the text form
// of keys and times, and write transactions. Not part of any component's interface.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "integrations/sqlite/database.hpp"
#include "lorawan/bytes.hpp"
#include "lorawan/types.hpp"
#include "network-server/device_model.hpp"
#include "network-server/session.hpp"

namespace schwebe::sqlite::rows {

// ---- Transactions --------------------------------------------------------------------------------------------------

/// A transaction of its own, or none when the caller already holds one open on the connection.
class WriteScope {
public:
    explicit WriteScope(Database& db) {
        if (!db.in_transaction()) own_.emplace(db);
    }
    void commit() {
        if (own_) own_->commit();
    }

private:
    std::optional<Transaction> own_;
};

inline std::string now_text() {
    return format_timestamp(std::chrono::system_clock::now());
}

// ---- Statements ----------------------------------------------------------------------------------------------------

/// A stored value that this code cannot read back: written by hand, or by another tool, in the wrong form.
[[noreturn]] inline void bad_row(std::string_view table, const std::string& key, std::string_view column,
                                 std::string_view detail) {
    throw Error(SQLITE_MISMATCH, "sqlite: " + std::string(table) + " row " + key + ": bad " + std::string(column) +
                                     ": " + std::string(detail));
}

/// Runs `statement` (bound already) to its end and reads each row with `read`; a bad row leaves no snapshot open.
template <class Read>
auto collect(Statement& statement, Read read) {
    std::vector<decltype(read(statement))> out;
    try {
        while (statement.step()) out.push_back(read(statement));
    } catch (...) {
        statement.reset();
        throw;
    }
    return out;
}

template <class Read>
auto first(Statement& statement, Read read) -> std::optional<decltype(read(statement))> {
    auto all = collect(statement, read);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

/// Runs a statement that returns no rows (INSERT, UPDATE, DELETE), bound already, and returns the rows it changed.
inline std::int64_t run(Database& db, Statement& statement) {
    statement.step();
    return db.changes();
}

/// True when a query, bound already, yields at least one row.
inline bool exists(Statement& statement) {
    const bool found = statement.step();
    statement.reset();
    return found;
}

// ---- Keys ----------------------------------------------------------------------------------------------------------

/// The one place a key becomes text: its column.
template <class Role>
std::string key_hex(const lorawan::Key<Role>& key) {
    return lorawan::to_hex(key.bytes());
}

/// A key column: NULL when absent, else 32 hex digits.
template <class Key>
std::optional<Key> read_key(const Statement& row, int column, std::string_view table, const std::string& dev_eui,
                            std::string_view name) {
    if (row.column_is_null(column)) return std::nullopt;
    const auto key = Key::from_hex(row.column_text(column));
    if (!key) bad_row(table, dev_eui, name, "not 32 hex digits");  // the value itself is never repeated
    return key;
}

/// A DevAddr column: NULL when absent, else 8 hex digits.
inline std::optional<lorawan::DevAddr> read_dev_addr(const Statement& row, int column, std::string_view table,
                                                     const std::string& dev_eui) {
    if (row.column_is_null(column)) return std::nullopt;
    auto dev_addr = lorawan::DevAddr::from_hex(row.column_text(column));
    if (!dev_addr) bad_row(table, dev_eui, "dev_addr", "not 8 hex digits");
    return dev_addr;
}

// ---- Device profiles -----------------------------------------------------------------------------------------------

/// The columns read_profile reads, in its order, of device_profiles as `p`.
constexpr std::string_view profile_columns = R"sql(
p.id, p.name, p.region, p.mac_version, p.activation, p.f_cnt_mode, p.adr_enabled, p.adr_margin_db, p.rx1_delay_s,
p.rx1_dr_offset, p.rx2_dr, p.rx2_frequency_hz, p.codec, p.dev_status_interval_s)sql";
enum ProfileColumn : int {
    pc_id,
    pc_name,
    pc_region,
    pc_mac_version,
    pc_activation,
    pc_f_cnt_mode,
    pc_adr_enabled,
    pc_adr_margin_db,
    pc_rx1_delay_s,
    pc_rx1_dr_offset,
    pc_rx2_dr,
    pc_rx2_frequency_hz,
    pc_codec,
    pc_dev_status_interval_s,
    profile_column_count,
};

template <class T>
T small_int(const Statement& row, int column, std::string_view table, const std::string& key, std::string_view name,
            std::int64_t max) {
    const auto value = row.column_int64(column);
    if (value < 0 || value > max) bad_row(table, key, name, "out of range: " + std::to_string(value));
    return static_cast<T>(value);
}

/// The profile in the columns of `profile_columns` starting at column `at`.
inline ns::DeviceProfile read_profile(const Statement& row, int at = 0) {
    constexpr std::string_view table = "device_profiles";
    ns::DeviceProfile p;
    p.id = row.column_text(at + pc_id);
    p.name = row.column_text(at + pc_name);
    p.region = row.column_text(at + pc_region);
    const auto mac_version = ns::mac_version_from_string(row.column_text(at + pc_mac_version));
    if (!mac_version) bad_row(table, p.id, "mac_version", row.column_text(at + pc_mac_version));
    p.mac_version = *mac_version;
    const auto activation = ns::activation_from_string(row.column_text(at + pc_activation));
    if (!activation) bad_row(table, p.id, "activation", row.column_text(at + pc_activation));
    p.activation = *activation;
    const auto f_cnt_mode = ns::f_cnt_mode_from_string(row.column_text(at + pc_f_cnt_mode));
    if (!f_cnt_mode) bad_row(table, p.id, "f_cnt_mode", row.column_text(at + pc_f_cnt_mode));
    p.f_cnt_mode = *f_cnt_mode;
    p.adr_enabled = row.column_int64(at + pc_adr_enabled) != 0;
    p.adr_margin_db = row.column_double(at + pc_adr_margin_db);
    p.rx1_delay_s = small_int<std::uint8_t>(row, at + pc_rx1_delay_s, table, p.id, "rx1_delay_s", 255);
    p.rx1_dr_offset = small_int<std::uint8_t>(row, at + pc_rx1_dr_offset, table, p.id, "rx1_dr_offset", 255);
    p.rx2_dr = small_int<std::uint8_t>(row, at + pc_rx2_dr, table, p.id, "rx2_dr", 255);
    p.rx2_frequency_hz =
        small_int<std::uint32_t>(row, at + pc_rx2_frequency_hz, table, p.id, "rx2_frequency_hz", UINT32_MAX);
    p.codec = row.column_text(at + pc_codec);
    p.dev_status_interval = std::chrono::seconds{row.column_int64(at + pc_dev_status_interval_s)};
    return p;
}

/// The MAC state of a session that no uplink or downlink has changed yet: the defaults of session.hpp with the RX
/// settings of the profile, which the device was configured with (ABP) or the join-accept gave it (OTAA).
inline ns::MacState default_mac_state(const ns::DeviceProfile& profile) {
    ns::MacState mac;
    mac.rx1_delay_s = profile.rx1_delay_s;
    mac.rx1_dr_offset = profile.rx1_dr_offset;
    mac.rx2_dr = profile.rx2_dr;
    mac.rx2_frequency_hz = profile.rx2_frequency_hz;
    return mac;
}

// ---- Devices -------------------------------------------------------------------------------------------------------

/// The columns read_device reads, in its order, of devices as `d`.
constexpr std::string_view device_columns = R"sql(
d.dev_eui, d.name, d.application_id, d.device_profile_id, d.join_eui, d.app_key, d.dev_addr, d.nwk_s_key,
d.app_s_key, d.tags, d.latitude, d.longitude, d.altitude)sql";
enum DeviceColumn : int {
    dc_dev_eui,
    dc_name,
    dc_application_id,
    dc_device_profile_id,
    dc_join_eui,
    dc_app_key,
    dc_dev_addr,
    dc_nwk_s_key,
    dc_app_s_key,
    dc_tags,
    dc_latitude,
    dc_longitude,
    dc_altitude,
    device_column_count,
};

inline std::map<std::string, std::string> tags_from_json(const std::string& text, const std::string& dev_eui) {
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) bad_row("devices", dev_eui, "tags", "not a JSON object");
    std::map<std::string, std::string> tags;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) bad_row("devices", dev_eui, "tags", "value of \"" + key + "\" is not a string");
        tags.emplace(key, value.get<std::string>());
    }
    return tags;
}

/// The dev_eui column, which every device row starts with.
inline lorawan::Eui64 read_dev_eui(const Statement& row, int column, std::string_view table) {
    const std::string text = row.column_text(column);
    const auto dev_eui = lorawan::Eui64::from_hex(text);
    if (!dev_eui) bad_row(table, text, "dev_eui", "not 16 hex digits");
    return *dev_eui;
}

/// The device in the columns of `device_columns` starting at column `at`.
inline ns::Device read_device(const Statement& row, int at = 0) {
    constexpr std::string_view table = "devices";
    const std::string id_text = row.column_text(at + dc_dev_eui);

    ns::Device d;
    d.dev_eui = read_dev_eui(row, at + dc_dev_eui, table);
    d.name = row.column_text(at + dc_name);
    d.application_id = row.column_text(at + dc_application_id);
    d.device_profile_id = row.column_text(at + dc_device_profile_id);
    if (!row.column_is_null(at + dc_join_eui)) {
        d.join_eui = lorawan::Eui64::from_hex(row.column_text(at + dc_join_eui));
        if (!d.join_eui) bad_row(table, id_text, "join_eui", "not 16 hex digits");
    }
    d.app_key = read_key<lorawan::AppKey>(row, at + dc_app_key, table, id_text, "app_key");
    d.dev_addr = read_dev_addr(row, at + dc_dev_addr, table, id_text);
    d.nwk_s_key = read_key<lorawan::NwkSKey>(row, at + dc_nwk_s_key, table, id_text, "nwk_s_key");
    d.app_s_key = read_key<lorawan::AppSKey>(row, at + dc_app_s_key, table, id_text, "app_s_key");
    d.tags = tags_from_json(row.column_text(at + dc_tags), id_text);
    // A location needs both coordinates; a missing altitude is sea level, as for gateways.
    if (!row.column_is_null(at + dc_latitude) && !row.column_is_null(at + dc_longitude)) {
        d.location = common::Location{
            .latitude = row.column_double(at + dc_latitude),
            .longitude = row.column_double(at + dc_longitude),
            .altitude = row.column_is_null(at + dc_altitude) ? 0.0 : row.column_double(at + dc_altitude),
        };
    }
    return d;
}

// ---- Sessions ------------------------------------------------------------------------------------------------------

/// A new session of the device, created now, replacing the one it had: ?1 dev_eui, ?2 dev_addr, ?3 nwk_s_key,
/// ?4 app_s_key, ?5 f_cnt_up, ?6 n_f_cnt_down, ?7 mac_state, ?8 the time (bind_session binds them).
constexpr std::string_view upsert_session_sql = R"sql(
INSERT INTO device_sessions (dev_eui, dev_addr, nwk_s_key, app_s_key, f_cnt_up, n_f_cnt_down, mac_state, created_at,
                             updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
ON CONFLICT (dev_eui) DO UPDATE SET dev_addr = excluded.dev_addr, nwk_s_key = excluded.nwk_s_key,
                                    app_s_key = excluded.app_s_key, f_cnt_up = excluded.f_cnt_up,
                                    n_f_cnt_down = excluded.n_f_cnt_down, mac_state = excluded.mac_state,
                                    created_at = excluded.created_at, updated_at = excluded.updated_at
)sql";

/// Confirmed items that went out in the session being replaced: the ACK they await cannot come in the new one.
constexpr std::string_view delete_awaiting_ack_sql =
    "DELETE FROM downlink_queue WHERE dev_eui = ?1 AND f_cnt_down IS NOT NULL";

inline void bind_session(Statement& statement, const lorawan::Eui64& dev_eui, const ns::DeviceSession& session,
                         const std::string& now) {
    statement.bind_text(1, dev_eui.to_string())
        .bind_text(2, session.dev_addr.to_string())
        .bind_text(3, key_hex(session.nwk_s_key))
        .bind_text(4, key_hex(session.app_s_key));
    if (session.f_cnt_up) {
        statement.bind_int64(5, *session.f_cnt_up);
    } else {
        statement.bind_null(5);
    }
    statement.bind_int64(6, session.n_f_cnt_down).bind_blob(7, ns::encode(session.mac)).bind_text(8, now);
}

}  // namespace schwebe::sqlite::rows
