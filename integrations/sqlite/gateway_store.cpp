#include "integrations/sqlite/gateway_store.hpp"

#include <sqlite3.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace schwebe::sqlite {

namespace {

using nlohmann::json;

// Column positions of select_all_, in the order of its SELECT list.
enum Column : int {
    col_gateway_id,
    col_name,
    col_latitude,
    col_longitude,
    col_altitude,
    col_tags,
    col_registered,
    col_first_seen,
    col_last_seen,
    col_frames_received,
    col_last_stats,
};

constexpr std::string_view select_all_sql = R"sql(
SELECT gateway_id, name, latitude, longitude, altitude, tags, registered, first_seen, last_seen, frames_received,
       last_stats
FROM gateways ORDER BY gateway_id
)sql";

// The seen-state columns are not in the SET list: an operator re-registering a gateway keeps its history.
constexpr std::string_view upsert_registered_sql = R"sql(
INSERT INTO gateways (gateway_id, name, latitude, longitude, altitude, tags, registered)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
ON CONFLICT (gateway_id) DO UPDATE SET
    name = excluded.name,
    latitude = excluded.latitude,
    longitude = excluded.longitude,
    altitude = excluded.altitude,
    tags = excluded.tags,
    registered = 1
)sql";

constexpr std::string_view delete_one_sql = "DELETE FROM gateways WHERE gateway_id = ?1";

// ?1 gateway_id, ?2 last_seen, ?3 frames_received_delta, ?4 last_stats or NULL, ?5..?7 reported location or NULLs.
// In DO UPDATE a bare column name is the stored value, `excluded.` the one this activity would have inserted.
constexpr std::string_view upsert_activity_sql = R"sql(
INSERT INTO gateways (gateway_id, first_seen, last_seen, frames_received, last_stats, latitude, longitude, altitude)
VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (gateway_id) DO UPDATE SET
    frames_received = frames_received + excluded.frames_received,
    first_seen = COALESCE(first_seen, excluded.first_seen),
    last_seen = excluded.last_seen,
    last_stats = COALESCE(excluded.last_stats, last_stats),
    latitude = CASE WHEN registered = 0 AND excluded.latitude IS NOT NULL THEN excluded.latitude ELSE latitude END,
    longitude = CASE WHEN registered = 0 AND excluded.latitude IS NOT NULL THEN excluded.longitude ELSE longitude END,
    altitude = CASE WHEN registered = 0 AND excluded.latitude IS NOT NULL THEN excluded.altitude ELSE altitude END
)sql";

/// A stored value that this code cannot read back: written by hand, or by another tool, in the wrong form.
[[noreturn]] void bad_row(const std::string& gateway_id, std::string_view column, std::string_view detail) {
    throw Error(SQLITE_MISMATCH,
                "sqlite: gateways row " + gateway_id + ": bad " + std::string(column) + ": " + std::string(detail));
}

common::SystemTime parse_time_or_throw(const std::string& text, const std::string& gateway_id, std::string_view what) {
    const auto time = parse_timestamp(text);
    if (!time) bad_row(gateway_id, what, "not an RFC 3339 time: " + text);
    return *time;
}

json location_to_json(const common::Location& location) {
    return json{{"latitude", location.latitude}, {"longitude", location.longitude}, {"altitude", location.altitude}};
}

/// A number that may be missing or null (nlohmann writes a non-finite double as null) reads as zero.
template <class T>
T number_or_zero(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return T{};
    return it->get<T>();
}

common::Location location_from_json(const json& j) {
    return common::Location{
        .latitude = number_or_zero<double>(j, "latitude"),
        .longitude = number_or_zero<double>(j, "longitude"),
        .altitude = number_or_zero<double>(j, "altitude"),
    };
}

std::string stats_to_json(const common::GatewayStats& stats) {
    json j{
        {"gateway_id", stats.gateway_id.to_string()}, {"received_at", format_timestamp(stats.received_at)},
        {"rx_received", stats.rx_received},           {"rx_ok", stats.rx_ok},
        {"rx_forwarded", stats.rx_forwarded},         {"ack_ratio", stats.ack_ratio},
        {"tx_received", stats.tx_received},           {"tx_emitted", stats.tx_emitted},
    };
    if (stats.time) j["time"] = format_timestamp(*stats.time);
    if (stats.location) j["location"] = location_to_json(*stats.location);
    return j.dump();
}

common::GatewayStats stats_from_json(const std::string& text, const std::string& gateway_id) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) bad_row(gateway_id, "last_stats", "not a JSON object");
    common::GatewayStats stats;

    const auto id_it = j.find("gateway_id");
    const auto id =
        id_it != j.end() && id_it->is_string() ? common::Eui64::from_hex(id_it->get<std::string>()) : std::nullopt;
    if (!id) bad_row(gateway_id, "last_stats", "no gateway_id");
    stats.gateway_id = *id;

    const auto received_it = j.find("received_at");
    if (received_it == j.end() || !received_it->is_string()) bad_row(gateway_id, "last_stats", "no received_at");
    stats.received_at = parse_time_or_throw(received_it->get<std::string>(), gateway_id, "last_stats.received_at");

    if (const auto it = j.find("time"); it != j.end() && !it->is_null()) {
        if (!it->is_string()) bad_row(gateway_id, "last_stats", "time is not a string");
        stats.time = parse_time_or_throw(it->get<std::string>(), gateway_id, "last_stats.time");
    }
    if (const auto it = j.find("location"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) bad_row(gateway_id, "last_stats", "location is not an object");
        stats.location = location_from_json(*it);
    }
    stats.rx_received = number_or_zero<std::uint32_t>(j, "rx_received");
    stats.rx_ok = number_or_zero<std::uint32_t>(j, "rx_ok");
    stats.rx_forwarded = number_or_zero<std::uint32_t>(j, "rx_forwarded");
    stats.ack_ratio = number_or_zero<double>(j, "ack_ratio");
    stats.tx_received = number_or_zero<std::uint32_t>(j, "tx_received");
    stats.tx_emitted = number_or_zero<std::uint32_t>(j, "tx_emitted");
    return stats;
}

std::string tags_to_json(const std::map<std::string, std::string>& tags) {
    // An empty map must be stored as an object, "{}", not as nlohmann's default for an empty container.
    json j = json::object();
    for (const auto& [key, value] : tags) j[key] = value;
    // replace: a tag that is not valid UTF-8 is stored with U+FFFD rather than failing the whole save.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::map<std::string, std::string> tags_from_json(const std::string& text, const std::string& gateway_id) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) bad_row(gateway_id, "tags", "not a JSON object");
    std::map<std::string, std::string> tags;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) bad_row(gateway_id, "tags", "value of \"" + key + "\" is not a string");
        tags.emplace(key, value.get<std::string>());
    }
    return tags;
}

void bind_location(Statement& statement, int first_index, const std::optional<common::Location>& location) {
    if (location) {
        statement.bind_double(first_index, location->latitude)
            .bind_double(first_index + 1, location->longitude)
            .bind_double(first_index + 2, location->altitude);
    } else {
        statement.bind_null(first_index).bind_null(first_index + 1).bind_null(first_index + 2);
    }
}

std::optional<std::string> optional_text(const Statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_text(column);
}

bridge::GatewayRecord read_record(const Statement& row) {
    const std::string id_text = row.column_text(col_gateway_id);
    const auto id = common::Eui64::from_hex(id_text);
    if (!id) bad_row(id_text, "gateway_id", "not 16 hex digits");

    bridge::GatewayRecord record;
    record.gateway_id = *id;
    record.name = row.column_text(col_name);
    // A location needs both coordinates; a missing altitude is sea level, as a Semtech stat without `alti` is.
    if (!row.column_is_null(col_latitude) && !row.column_is_null(col_longitude)) {
        record.location = common::Location{
            .latitude = row.column_double(col_latitude),
            .longitude = row.column_double(col_longitude),
            .altitude = row.column_is_null(col_altitude) ? 0.0 : row.column_double(col_altitude),
        };
    }
    record.tags = tags_from_json(row.column_text(col_tags), id_text);
    record.registered = row.column_int64(col_registered) != 0;
    if (const auto text = optional_text(row, col_first_seen)) {
        record.first_seen = parse_time_or_throw(*text, id_text, "first_seen");
    }
    if (const auto text = optional_text(row, col_last_seen)) {
        record.last_seen = parse_time_or_throw(*text, id_text, "last_seen");
    }
    record.frames_received = static_cast<std::uint64_t>(row.column_int64(col_frames_received));
    if (const auto text = optional_text(row, col_last_stats)) record.last_stats = stats_from_json(*text, id_text);
    return record;
}

}  // namespace

SqliteGatewayStore::SqliteGatewayStore(Database& db)
    : db_(db),
      select_all_(db.prepare(select_all_sql)),
      upsert_registered_(db.prepare(upsert_registered_sql)),
      delete_one_(db.prepare(delete_one_sql)),
      upsert_activity_(db.prepare(upsert_activity_sql)),
      data_version_(db.data_version()) {}

std::vector<bridge::GatewayRecord> SqliteGatewayStore::load_gateways() {
    std::vector<bridge::GatewayRecord> records;
    select_all_.reset();
    try {
        while (select_all_.step()) records.push_back(read_record(select_all_));
    } catch (...) {
        select_all_.reset();  // a bad row leaves the query mid-way; do not keep its read snapshot
        throw;
    }
    return records;
}

void SqliteGatewayStore::save_registered_gateway(const bridge::GatewayRecord& gateway) {
    upsert_registered_.reset();
    upsert_registered_.bind_text(1, gateway.gateway_id.to_string()).bind_text(2, gateway.name);
    bind_location(upsert_registered_, 3, gateway.location);
    upsert_registered_.bind_text(6, tags_to_json(gateway.tags));
    upsert_registered_.step();
}

bool SqliteGatewayStore::remove_gateway(const common::Eui64& gateway_id) {
    delete_one_.reset();
    delete_one_.bind_text(1, gateway_id.to_string());
    delete_one_.step();
    return db_.changes() > 0;
}

void SqliteGatewayStore::record_activity(const std::vector<bridge::GatewayActivity>& activity) {
    if (activity.empty()) return;
    // One transaction: a flush costs one commit, not one per gateway, and lands entirely or not at all.
    Transaction transaction(db_);
    for (const auto& item : activity) {
        upsert_activity_.reset();
        upsert_activity_.bind_text(1, item.gateway_id.to_string())
            .bind_text(2, format_timestamp(item.last_seen))
            .bind_int64(3, static_cast<std::int64_t>(item.frames_received_delta));
        if (item.last_stats) {
            upsert_activity_.bind_text(4, stats_to_json(*item.last_stats));
        } else {
            upsert_activity_.bind_null(4);
        }
        bind_location(upsert_activity_, 5, item.reported_location);
        upsert_activity_.step();
    }
    transaction.commit();
}

bool SqliteGatewayStore::changed_externally() {
    const std::int64_t version = db_.data_version();
    const bool changed = version != data_version_;
    data_version_ = version;
    return changed;
}

}  // namespace schwebe::sqlite
