#include "integrations/sqlite/query_store.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace schwebe::sqlite {

namespace {

/// The WHERE clause of a readings query, its parameters bound in order from ?1. Built per query (the API's
/// thread, not the hot path) so that SQLite picks the index that fits the filters given.
struct Filter {
    std::string where;
    std::vector<std::string> values;
};

Filter filter_of(const ReadingsQuery& q) {
    Filter f;
    const auto add = [&](const char* clause, const std::string& value) {
        f.where += f.where.empty() ? " WHERE " : " AND ";
        f.where += clause;
        f.where += std::to_string(f.values.size() + 1);
        f.values.push_back(value);
    };
    if (!q.dev_eui.empty()) add("dev_eui = ?", q.dev_eui);
    if (!q.quantity.empty()) add("quantity = ?", q.quantity);
    if (q.from) add("time >= ?", *q.from);
    if (q.to) add("time < ?", *q.to);
    return f;
}

void bind(Statement& s, const Filter& f) {
    for (std::size_t i = 0; i < f.values.size(); ++i) s.bind_text(static_cast<int>(i + 1), f.values[i]);
}

bool is_number(const std::string& s) {
    return !s.empty() && s.size() < 19 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

/// Spot labels in the order people count them: numbers by value (2 before 10), before any other label.
bool spot_less(const std::string& a, const std::string& b) {
    const bool an = is_number(a), bn = is_number(b);
    if (an && bn) return std::stoll(a) < std::stoll(b) || (std::stoll(a) == std::stoll(b) && a < b);
    if (an != bn) return an;
    return a < b;
}

}  // namespace

SqliteQueryStore::SqliteQueryStore(Database& db) : db_(db) {}

std::vector<ReadingPoint> SqliteQueryStore::readings(const ReadingsQuery& q) {
    const Filter f = filter_of(q);
    auto s = db_.prepare("SELECT time, value, unit FROM readings" + f.where + " ORDER BY time DESC, id DESC LIMIT ?" +
                         std::to_string(f.values.size() + 1));
    bind(s, f);
    s.bind_int64(static_cast<int>(f.values.size() + 1), static_cast<std::int64_t>(q.limit));
    std::vector<ReadingPoint> out;
    while (s.step()) out.push_back({s.column_text(0), s.column_double(1), s.column_text(2)});
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<ReadingBucket> SqliteQueryStore::reading_buckets(const ReadingsQuery& q, std::int64_t interval_s) {
    if (interval_s < 1) interval_s = 1;
    const Filter f = filter_of(q);
    const std::string i = std::to_string(interval_s);
    auto s = db_.prepare("SELECT strftime('%Y-%m-%dT%H:%M:%S.000Z', b * " + i +
                         ", 'unixepoch'), n, lo, hi, mean, unit FROM (SELECT unixepoch(time) / " + i +
                         " AS b, COUNT(*) AS n, MIN(value) AS lo, MAX(value) AS hi, AVG(value) AS mean, MIN(unit) AS "
                         "unit FROM readings" +
                         f.where + " GROUP BY b ORDER BY b DESC LIMIT ?" + std::to_string(f.values.size() + 1) +
                         ") ORDER BY b");
    bind(s, f);
    s.bind_int64(static_cast<int>(f.values.size() + 1), static_cast<std::int64_t>(q.limit));
    std::vector<ReadingBucket> out;
    while (s.step()) {
        out.push_back({s.column_text(0), s.column_int64(1), s.column_double(2), s.column_double(3), s.column_double(4),
                       s.column_text(5)});
    }
    return out;
}

std::vector<SqliteQueryStore::Series> SqliteQueryStore::series() {
    // The newest reading of each (device, quantity): the index (dev_eui, quantity, time) serves both.
    auto s = db_.prepare(
        "SELECT r.dev_eui, r.quantity, r.unit, g.n, r.time, r.value FROM "
        "(SELECT dev_eui, quantity, COUNT(*) AS n, MAX(time) AS last FROM readings GROUP BY dev_eui, quantity) g "
        "JOIN readings r ON r.dev_eui = g.dev_eui AND r.quantity = g.quantity AND r.time = g.last "
        "GROUP BY r.dev_eui, r.quantity ORDER BY r.dev_eui, r.quantity");
    std::vector<Series> out;
    while (s.step()) {
        out.push_back(
            {s.column_text(0), s.column_text(1), s.column_text(2), s.column_int64(3), s.column_text(4), s.column_double(5)});
    }
    return out;
}

std::vector<ZoneRow> SqliteQueryStore::zones() {
    auto s = db_.prepare(
        "SELECT zone, SUM(status = 'free'), SUM(status = 'occupied'), SUM(status = 'unknown') FROM parking_spots "
        "GROUP BY zone ORDER BY zone");
    std::vector<ZoneRow> out;
    while (s.step()) out.push_back({s.column_text(0), s.column_int64(1), s.column_int64(2), s.column_int64(3)});
    return out;
}

std::vector<SpotState> SqliteQueryStore::spots(const std::string& zone) {
    auto s = db_.prepare(zone.empty()
                             ? "SELECT zone, spot, dev_eui, status, since, last_seen FROM parking_spots"
                             : "SELECT zone, spot, dev_eui, status, since, last_seen FROM parking_spots WHERE zone = ?1");
    if (!zone.empty()) s.bind_text(1, zone);
    std::vector<SpotState> out;
    while (s.step()) {
        out.push_back(
            {s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_text(4), s.column_text(5)});
    }
    std::sort(out.begin(), out.end(), [](const SpotState& a, const SpotState& b) {
        if (a.zone != b.zone) return a.zone < b.zone;
        return spot_less(a.spot, b.spot);
    });
    return out;
}

std::vector<UplinkSummary> SqliteQueryStore::uplinks(std::size_t limit, std::int64_t after_id,
                                                     const std::string& dev_eui) {
    // The device's name comes along (by its primary key), so a reader needs no list of every device.
    const std::string select =
        "SELECT u.id, u.time, u.dev_eui, u.dev_addr, u.f_cnt, u.f_port, u.dr, u.frequency, u.event, "
        "COALESCE(d.name, '') FROM uplinks u LEFT JOIN devices d ON d.dev_eui = u.dev_eui WHERE u.id > ?1";
    auto s = db_.prepare(select + (dev_eui.empty() ? "" : " AND u.dev_eui = ?3") + " ORDER BY u.id DESC LIMIT ?2");
    s.bind_int64(1, after_id).bind_int64(2, static_cast<std::int64_t>(limit));
    if (!dev_eui.empty()) s.bind_text(3, dev_eui);
    std::vector<UplinkSummary> out;
    while (s.step()) {
        UplinkSummary u;
        u.id = s.column_int64(0);
        u.time = s.column_text(1);
        u.dev_eui = s.column_text(2);
        u.dev_addr = s.column_text(3);
        u.f_cnt = static_cast<std::uint32_t>(s.column_int64(4));
        if (!s.column_is_null(5)) u.f_port = static_cast<std::uint8_t>(s.column_int64(5));
        u.dr = static_cast<std::uint8_t>(s.column_int64(6));
        u.frequency = static_cast<std::uint32_t>(s.column_int64(7));
        u.event_json = s.column_text(8);
        u.device_name = s.column_text(9);
        out.push_back(std::move(u));
    }
    return out;
}

std::vector<DeviceState> SqliteQueryStore::device_states(const std::string& dev_eui) {
    // Per device: its uplink count, and its codec errors: uplinks with a payload (an FPort) but no decoded object
    // while its profile names a codec (the `object` column is NULL only when there is no codec or it failed).
    const std::string where = dev_eui.empty() ? "" : " WHERE u.dev_eui = ?1";
    auto counts = db_.prepare(
        "SELECT u.dev_eui, COUNT(*), MAX(u.id), "
        "SUM(u.f_port IS NOT NULL AND u.f_port > 0 AND u.object IS NULL AND COALESCE(p.codec, '') != '') "
        "FROM uplinks u LEFT JOIN devices d ON d.dev_eui = u.dev_eui "
        "LEFT JOIN device_profiles p ON p.id = d.device_profile_id" +
        where + " GROUP BY u.dev_eui ORDER BY u.dev_eui");
    if (!dev_eui.empty()) counts.bind_text(1, dev_eui);
    auto latest = db_.prepare("SELECT time, f_cnt, rx_info FROM uplinks WHERE id = ?1");
    auto battery = db_.prepare(
        "SELECT value, unit FROM readings WHERE dev_eui = ?1 AND quantity GLOB 'battery*' ORDER BY time DESC, id DESC "
        "LIMIT 1");
    std::vector<DeviceState> out;
    while (counts.step()) {
        DeviceState d;
        d.dev_eui = counts.column_text(0);
        d.uplinks = counts.column_int64(1);
        d.codec_errors = counts.column_int64(3);
        latest.bind_int64(1, counts.column_int64(2));
        if (latest.step()) {
            d.last_seen = latest.column_text(0);
            d.f_cnt = static_cast<std::uint32_t>(latest.column_int64(1));
            const auto rx = nlohmann::json::parse(latest.column_text(2), nullptr, false);
            if (rx.is_array()) {
                for (const auto& r : rx) {
                    if (!r.is_object() || !r.contains("rssi") || !r["rssi"].is_number()) continue;
                    const double rssi = r["rssi"].get<double>();
                    if (!d.rssi || rssi > *d.rssi) {
                        d.rssi = rssi;
                        d.snr = r.contains("snr") && r["snr"].is_number() ? std::optional(r["snr"].get<double>())
                                                                          : std::nullopt;
                    }
                }
            }
        }
        latest.reset();
        battery.bind_text(1, d.dev_eui);
        if (battery.step()) {
            d.battery = battery.column_double(0);
            d.battery_unit = battery.column_text(1);
        }
        battery.reset();
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace schwebe::sqlite
