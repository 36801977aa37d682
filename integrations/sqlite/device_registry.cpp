#include "integrations/sqlite/device_registry.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/uuid.hpp"
#include "integrations/sqlite/device_rows.hpp"
#include "lorawan/bytes.hpp"

namespace schwebe::sqlite {

namespace {

using json = nlohmann::json;
using lorawan::Ok;
using rows::collect;
using rows::first;
using rows::key_hex;
using rows::now_text;
using rows::WriteScope;
using Check = lorawan::Result<Ok, RegistryError>;

// ---- SQL -----------------------------------------------------------------------------------------------------------

constexpr std::string_view insert_application_sql =
    "INSERT INTO applications (id, name, description, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr std::string_view application_columns = "SELECT id, name, description FROM applications ";

constexpr std::string_view insert_profile_sql = R"sql(
INSERT INTO device_profiles (id, name, region, mac_version, activation, f_cnt_mode, adr_enabled, adr_margin_db,
                             rx1_delay_s, rx1_dr_offset, rx2_dr, rx2_frequency_hz, codec, dev_status_interval_s,
                             created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
)sql";
// ?1 dev_eui … ?13 altitude, ?14 the time of the write (created_at of a new row, updated_at of both).
constexpr std::string_view insert_device_sql = R"sql(
INSERT INTO devices (dev_eui, name, application_id, device_profile_id, join_eui, app_key, dev_addr, nwk_s_key,
                     app_s_key, tags, latitude, longitude, altitude, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
)sql";
constexpr std::string_view update_device_sql = R"sql(
UPDATE devices SET name = ?2, application_id = ?3, device_profile_id = ?4, join_eui = ?5, app_key = ?6,
                   dev_addr = ?7, nwk_s_key = ?8, app_s_key = ?9, tags = ?10, latitude = ?11, longitude = ?12,
                   altitude = ?13, updated_at = ?14
WHERE dev_eui = ?1
)sql";

constexpr std::string_view select_session_keys_sql =
    "SELECT dev_addr, nwk_s_key, app_s_key FROM device_sessions WHERE dev_eui = ?1";

std::string with(std::string_view select, std::string_view rest) {
    return std::string(select) + std::string(rest);
}

std::string profile_query(std::string_view rest) {
    return with("SELECT " + std::string(rows::profile_columns) + " FROM device_profiles p ", rest);
}

std::string device_query(std::string_view rest) {
    return with("SELECT " + std::string(rows::device_columns) + " FROM devices d ", rest);
}

/// What makes an ABP session the same session: its address and keys, as stored.
using SessionIdentity = std::array<std::string, 3>;

SessionIdentity read_session_identity(const Statement& row) {
    return {row.column_text(0), row.column_text(1), row.column_text(2)};
}

// ---- Reading rows back ---------------------------------------------------------------------------------------------

ns::Application read_application(const Statement& row) {
    return ns::Application{.id = row.column_text(0), .name = row.column_text(1), .description = row.column_text(2)};
}

ns::DeviceProfile read_profile(const Statement& row) {
    return rows::read_profile(row);
}

ns::Device read_device(const Statement& row) {
    return rows::read_device(row);
}

std::string tags_to_json(const std::map<std::string, std::string>& tags) {
    json j = json::object();  // an empty map is stored as "{}", not as null
    for (const auto& [key, value] : tags) j[key] = value;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- Binding -------------------------------------------------------------------------------------------------------

template <class T, class ToText>
void bind_optional(Statement& statement, int index, const std::optional<T>& value, ToText to_text) {
    if (value) {
        statement.bind_text(index, to_text(*value));
    } else {
        statement.bind_null(index);
    }
}

void bind_device(Statement& statement, const ns::Device& d, const std::string& now) {
    statement.bind_text(1, d.dev_eui.to_string())
        .bind_text(2, d.name)
        .bind_text(3, d.application_id)
        .bind_text(4, d.device_profile_id);
    bind_optional(statement, 5, d.join_eui, [](const lorawan::Eui64& e) { return e.to_string(); });
    bind_optional(statement, 6, d.app_key, key_hex<lorawan::AppKeyRole>);
    bind_optional(statement, 7, d.dev_addr, [](const lorawan::DevAddr& a) { return a.to_string(); });
    bind_optional(statement, 8, d.nwk_s_key, key_hex<lorawan::NwkSKeyRole>);
    bind_optional(statement, 9, d.app_s_key, key_hex<lorawan::AppSKeyRole>);
    statement.bind_text(10, tags_to_json(d.tags));
    if (d.location) {
        statement.bind_double(11, d.location->latitude)
            .bind_double(12, d.location->longitude)
            .bind_double(13, d.location->altitude);
    } else {
        statement.bind_null(11).bind_null(12).bind_null(13);
    }
    statement.bind_text(14, now);
}

// ---- Validation ----------------------------------------------------------------------------------------------------

RegistryError field_error(std::string_view field, const std::string& reason) {
    return std::string(field) + ": " + reason;
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

Check check_range(std::string_view field, std::int64_t value, std::int64_t min, std::int64_t max) {
    if (value >= min && value <= max) return Ok{};
    return field_error(
        field, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(value));
}

/// The checks of a device that need nothing but the device and its profile.
Check validate_device(const ns::Device& d, const ns::DeviceProfile& profile) {
    if (d.name.empty()) return field_error("name", "must not be empty");
    for (const auto& [key, value] : d.tags) {
        if (key.empty()) return field_error("tags", "a tag key must not be empty");
    }
    if (d.location) {
        const auto& l = *d.location;
        if (!std::isfinite(l.latitude) || l.latitude < -90 || l.latitude > 90) {
            return field_error("latitude", "must be -90..90, got " + number_text(l.latitude));
        }
        if (!std::isfinite(l.longitude) || l.longitude < -180 || l.longitude > 180) {
            return field_error("longitude", "must be -180..180, got " + number_text(l.longitude));
        }
        if (!std::isfinite(l.altitude)) return field_error("altitude", "must be a finite number");
    }

    // The keys must be those of the profile's activation, and only those: a device never holds both a root key
    // and a static session, so the server cannot pick the wrong one.
    const std::string why = "profile '" + profile.name + "' is " + std::string(ns::to_string(profile.activation));
    if (profile.activation == ns::Activation::otaa) {
        if (!d.join_eui) return field_error("join_eui", "required for an OTAA device (" + why + ")");
        if (!d.app_key) return field_error("app_key", "required for an OTAA device (" + why + ")");
        if (d.dev_addr) return field_error("dev_addr", "not allowed on an OTAA device (" + why + ")");
        if (d.nwk_s_key) return field_error("nwk_s_key", "not allowed on an OTAA device (" + why + ")");
        if (d.app_s_key) return field_error("app_s_key", "not allowed on an OTAA device (" + why + ")");
    } else {
        if (!d.dev_addr) return field_error("dev_addr", "required for an ABP device (" + why + ")");
        if (!d.nwk_s_key) return field_error("nwk_s_key", "required for an ABP device (" + why + ")");
        if (!d.app_s_key) return field_error("app_s_key", "required for an ABP device (" + why + ")");
        if (d.join_eui) return field_error("join_eui", "not allowed on an ABP device (" + why + ")");
        if (d.app_key) return field_error("app_key", "not allowed on an ABP device (" + why + ")");
    }
    return Ok{};
}

}  // namespace

SqliteDeviceRegistry::SqliteDeviceRegistry(Database& db)
    : db_(db),
      insert_application_(db.prepare(insert_application_sql)),
      select_application_by_id_(db.prepare(with(application_columns, "WHERE id = ?1"))),
      select_application_by_name_(db.prepare(with(application_columns, "WHERE name = ?1"))),
      select_applications_(db.prepare(with(application_columns, "ORDER BY name"))),
      insert_profile_(db.prepare(insert_profile_sql)),
      select_profile_by_id_(db.prepare(profile_query("WHERE id = ?1"))),
      select_profile_by_name_(db.prepare(profile_query("WHERE name = ?1"))),
      select_profiles_(db.prepare(profile_query("ORDER BY name"))),
      insert_device_(db.prepare(insert_device_sql)),
      update_device_(db.prepare(update_device_sql)),
      delete_device_(db.prepare("DELETE FROM devices WHERE dev_eui = ?1")),
      select_device_(db.prepare(device_query("WHERE dev_eui = ?1"))),
      select_devices_(db.prepare(device_query("ORDER BY dev_eui"))),
      select_devices_by_application_(db.prepare(device_query("WHERE application_id = ?1 ORDER BY dev_eui"))),
      select_devices_by_dev_addr_(db.prepare(device_query("WHERE dev_addr = ?1 ORDER BY dev_eui"))),
      select_session_keys_(db.prepare(select_session_keys_sql)),
      upsert_session_(db.prepare(rows::upsert_session_sql)),
      delete_session_(db.prepare("DELETE FROM device_sessions WHERE dev_eui = ?1")),
      delete_awaiting_ack_(db.prepare(rows::delete_awaiting_ack_sql)),
      rng_(std::random_device{}()) {}

// ---- Applications --------------------------------------------------------------------------------------------------

lorawan::Result<ns::Application, RegistryError> SqliteDeviceRegistry::create_application(
    const std::string& name, const std::string& description) {
    if (name.empty()) return field_error("name", "must not be empty");
    WriteScope scope(db_);
    if (find_application_by_name(name)) return field_error("name", "an application '" + name + "' already exists");
    ns::Application application{.id = new_id(), .name = name, .description = description};
    insert_application_.reset();
    insert_application_.bind_text(1, application.id)
        .bind_text(2, application.name)
        .bind_text(3, application.description)
        .bind_text(4, now_text());
    insert_application_.step();
    scope.commit();
    return application;
}

std::optional<ns::Application> SqliteDeviceRegistry::find_application_by_id(std::string_view id) {
    select_application_by_id_.reset();
    select_application_by_id_.bind_text(1, id);
    return first(select_application_by_id_, read_application);
}

std::optional<ns::Application> SqliteDeviceRegistry::find_application_by_name(std::string_view name) {
    select_application_by_name_.reset();
    select_application_by_name_.bind_text(1, name);
    return first(select_application_by_name_, read_application);
}

std::vector<ns::Application> SqliteDeviceRegistry::list_applications() {
    select_applications_.reset();
    return collect(select_applications_, read_application);
}

// ---- Device profiles -----------------------------------------------------------------------------------------------

lorawan::Result<Ok, RegistryError> SqliteDeviceRegistry::validate(const ns::DeviceProfile& p) {
    if (p.name.empty()) return field_error("name", "must not be empty");
    // The only region this server implements (lorawan/eu868.hpp).
    if (p.region != "EU868") return field_error("region", "only EU868 is supported, got '" + p.region + "'");
    if (ns::to_string(p.mac_version) == "unknown") return field_error("mac_version", "must be 1.0.2, 1.0.3 or 1.0.4");
    if (ns::to_string(p.activation) == "unknown") return field_error("activation", "must be otaa or abp");
    if (ns::to_string(p.f_cnt_mode) == "unknown") return field_error("f_cnt_mode", "must be strict or relaxed");
    // ChirpStack's installation margin is 10 dB; more than 30 dB would keep every device at SF12.
    if (!std::isfinite(p.adr_margin_db) || p.adr_margin_db < 0 || p.adr_margin_db > 30) {
        return field_error("adr_margin_db", "must be 0..30 dB, got " + number_text(p.adr_margin_db));
    }
    // RxTimingSetupReq carries 1..15 s (0 means 1); LoRaWAN 1.0.4 §5.7.
    if (auto c = check_range("rx1_delay_s", p.rx1_delay_s, 1, 15); !c) return c;
    // EU868 RX1DROffset 0..5 and data rates DR0..DR7 (RP002-1.0.3 §2.4.7).
    if (auto c = check_range("rx1_dr_offset", p.rx1_dr_offset, 0, 5); !c) return c;
    if (auto c = check_range("rx2_dr", p.rx2_dr, 0, 7); !c) return c;
    // The EU868 band, 863..870 MHz.
    if (auto c = check_range("rx2_frequency_hz", p.rx2_frequency_hz, 863'000'000, 870'000'000); !c) return c;
    for (const char ch : p.codec) {
        if (static_cast<unsigned char>(ch) < 0x20) return field_error("codec", "must not hold control characters");
    }
    if (p.dev_status_interval.count() < 0) {
        return field_error("dev_status_interval",
                           "must not be negative, got " + std::to_string(p.dev_status_interval.count()) + " s");
    }
    return Ok{};
}

lorawan::Result<ns::DeviceProfile, RegistryError> SqliteDeviceRegistry::create_device_profile(
    ns::DeviceProfile profile) {
    if (auto valid = validate(profile); !valid) return valid.error();
    WriteScope scope(db_);
    if (find_device_profile_by_name(profile.name)) {
        return field_error("name", "a device profile '" + profile.name + "' already exists");
    }
    profile.id = new_id();
    insert_profile_.reset();
    insert_profile_.bind_text(1, profile.id)
        .bind_text(2, profile.name)
        .bind_text(3, profile.region)
        .bind_text(4, ns::to_string(profile.mac_version))
        .bind_text(5, ns::to_string(profile.activation))
        .bind_text(6, ns::to_string(profile.f_cnt_mode))
        .bind_int64(7, profile.adr_enabled ? 1 : 0)
        .bind_double(8, profile.adr_margin_db)
        .bind_int64(9, profile.rx1_delay_s)
        .bind_int64(10, profile.rx1_dr_offset)
        .bind_int64(11, profile.rx2_dr)
        .bind_int64(12, profile.rx2_frequency_hz)
        .bind_text(13, profile.codec)
        .bind_int64(14, profile.dev_status_interval.count())
        .bind_text(15, now_text());
    insert_profile_.step();
    scope.commit();
    return profile;
}

std::optional<ns::DeviceProfile> SqliteDeviceRegistry::find_device_profile_by_id(std::string_view id) {
    select_profile_by_id_.reset();
    select_profile_by_id_.bind_text(1, id);
    return first(select_profile_by_id_, read_profile);
}

std::optional<ns::DeviceProfile> SqliteDeviceRegistry::find_device_profile_by_name(std::string_view name) {
    select_profile_by_name_.reset();
    select_profile_by_name_.bind_text(1, name);
    return first(select_profile_by_name_, read_profile);
}

std::vector<ns::DeviceProfile> SqliteDeviceRegistry::list_device_profiles() {
    select_profiles_.reset();
    return collect(select_profiles_, read_profile);
}

// ---- Devices -------------------------------------------------------------------------------------------------------

lorawan::Result<Ok, RegistryError> SqliteDeviceRegistry::add_device(const ns::Device& device) {
    return write_device(device, /*is_new=*/true);
}

lorawan::Result<Ok, RegistryError> SqliteDeviceRegistry::validate(const ns::Device& device,
                                                                  const ns::DeviceProfile& profile) {
    return validate_device(device, profile);
}

lorawan::Result<Ok, RegistryError> SqliteDeviceRegistry::update_device(const ns::Device& device) {
    return write_device(device, /*is_new=*/false);
}

lorawan::Result<Ok, RegistryError> SqliteDeviceRegistry::write_device(const ns::Device& device, bool is_new) {
    // Under the write lock from the first look-up: the profile, the application and the dev_eui checked here are
    // still so when the row is written.
    WriteScope scope(db_);
    const auto profile = find_device_profile_by_id(device.device_profile_id);
    if (!profile) return field_error("device_profile_id", "no device profile '" + device.device_profile_id + "'");
    if (!find_application_by_id(device.application_id)) {
        return field_error("application_id", "no application '" + device.application_id + "'");
    }
    if (auto valid = validate_device(device, *profile); !valid) return valid.error();

    const std::string dev_eui = device.dev_eui.to_string();
    const auto previous = find_device(device.dev_eui);
    if (is_new && previous) return field_error("dev_eui", "a device " + dev_eui + " already exists");
    if (!is_new && !previous) return field_error("dev_eui", "no device " + dev_eui);

    const std::string now = now_text();
    Statement& statement = is_new ? insert_device_ : update_device_;
    statement.reset();
    bind_device(statement, device, now);
    statement.step();
    keep_session_in_step(device, *profile, previous, now);
    scope.commit();
    return Ok{};
}

void SqliteDeviceRegistry::keep_session_in_step(const ns::Device& device, const ns::DeviceProfile& profile,
                                                const std::optional<ns::Device>& previous, const std::string& now) {
    const std::string dev_eui = device.dev_eui.to_string();
    if (profile.activation == ns::Activation::otaa) {
        // An OTAA device's session comes from its joins and stays through edits; one left from its ABP days holds
        // keys the device no longer has.
        if (previous && previous->dev_addr) {
            delete_session_.reset();
            delete_session_.bind_text(1, dev_eui);
            delete_session_.step();
        }
        return;
    }

    // ABP: the session is the device's address and keys. The same ones keep their counters and MAC state (an edit
    // of the name must not reset the counters, which would let old frames be replayed); new ones start afresh.
    select_session_keys_.reset();
    select_session_keys_.bind_text(1, dev_eui);
    const auto stored = first(select_session_keys_, read_session_identity);
    const SessionIdentity wanted{device.dev_addr->to_string(), key_hex(*device.nwk_s_key), key_hex(*device.app_s_key)};
    if (stored == wanted) return;

    const ns::DeviceSession session{
        .dev_addr = *device.dev_addr,
        .nwk_s_key = *device.nwk_s_key,
        .app_s_key = *device.app_s_key,
        .f_cnt_up = std::nullopt,
        .n_f_cnt_down = 0,
        .mac = rows::default_mac_state(profile),
    };
    upsert_session_.reset();
    rows::bind_session(upsert_session_, device.dev_eui, session, now);
    upsert_session_.step();
    delete_awaiting_ack_.reset();
    delete_awaiting_ack_.bind_text(1, dev_eui);
    delete_awaiting_ack_.step();
}

bool SqliteDeviceRegistry::remove_device(const lorawan::Eui64& dev_eui) {
    delete_device_.reset();
    delete_device_.bind_text(1, dev_eui.to_string());
    delete_device_.step();
    return db_.changes() > 0;
}

std::optional<ns::Device> SqliteDeviceRegistry::find_device(const lorawan::Eui64& dev_eui) {
    select_device_.reset();
    select_device_.bind_text(1, dev_eui.to_string());
    return first(select_device_, read_device);
}

std::vector<ns::Device> SqliteDeviceRegistry::list_devices(const std::optional<std::string>& application_id) {
    if (!application_id) {
        select_devices_.reset();
        return collect(select_devices_, read_device);
    }
    select_devices_by_application_.reset();
    select_devices_by_application_.bind_text(1, *application_id);
    return collect(select_devices_by_application_, read_device);
}

std::vector<ns::Device> SqliteDeviceRegistry::find_by_dev_addr(const lorawan::DevAddr& dev_addr) {
    select_devices_by_dev_addr_.reset();
    select_devices_by_dev_addr_.bind_text(1, dev_addr.to_string());
    return collect(select_devices_by_dev_addr_, read_device);
}

std::string SqliteDeviceRegistry::new_id() { return common::uuid_v4(rng_); }

}  // namespace schwebe::sqlite
