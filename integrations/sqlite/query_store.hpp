#pragma once
// What the HTTP API and the dashboards read from the SQLite file: readings as points or per-interval statistics,
// parking zones and spots, the latest uplinks, and each device's last state. Reads only, on one connection of the
// reader's own (the API thread's); WAL lets them run beside the network server's writes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

struct ReadingPoint {
    std::string time;  ///< as stored: RFC 3339 UTC with milliseconds ("2026-12-06T10:15:00.000Z")
    double value = 0;
    std::string unit;
};

struct ReadingBucket {
    std::string start;  ///< RFC 3339 UTC, the interval's start (aligned to multiples of the interval since the epoch)
    std::int64_t count = 0;
    double min = 0;
    double max = 0;
    double mean = 0;
    std::string unit;
};

struct ReadingsQuery {
    std::string dev_eui;   ///< lower-case hex; empty: every device
    std::string quantity;  ///< empty: every quantity
    std::optional<std::string> from;  ///< RFC 3339, inclusive
    std::optional<std::string> to;    ///< RFC 3339, exclusive
    std::size_t limit = 10'000;       ///< at most this many points or buckets (the newest ones when cut)
};

struct ZoneRow {
    std::string zone;
    std::int64_t free = 0;
    std::int64_t occupied = 0;
    std::int64_t unknown = 0;
};

struct SpotState {
    std::string zone;
    std::string spot;
    std::string dev_eui;
    std::string status;  ///< "free", "occupied", "unknown"
    std::string since;
    std::string last_seen;
};

struct UplinkSummary {
    std::int64_t id = 0;
    std::string time;
    std::string dev_eui;
    std::string dev_addr;
    std::uint32_t f_cnt = 0;
    std::optional<std::uint8_t> f_port;
    std::uint8_t dr = 0;
    std::uint32_t frequency = 0;
    std::string event_json;  ///< the stored ChirpStack `up` event
    std::string device_name;  ///< empty when the device is no longer registered
};

struct DeviceState {
    std::string dev_eui;
    std::optional<std::string> last_seen;     ///< time of its latest stored uplink
    std::optional<std::uint32_t> f_cnt;       ///< of that uplink
    std::optional<double> rssi;               ///< best rxInfo of that uplink
    std::optional<double> snr;
    std::optional<double> battery;            ///< latest reading whose quantity starts with "battery"
    std::string battery_unit;
    std::int64_t uplinks = 0;                 ///< stored uplinks of the device
    std::int64_t codec_errors = 0;            ///< of those, the ones whose payload its codec could not decode
};

class SqliteQueryStore {
public:
    explicit SqliteQueryStore(Database& db);

    /// Points in time order (oldest first), at most q.limit (the newest when cut).
    [[nodiscard]] std::vector<ReadingPoint> readings(const ReadingsQuery& q);
    /// Per-interval count/min/max/mean in start order; `interval_s` >= 1. Buckets without readings are left out.
    [[nodiscard]] std::vector<ReadingBucket> reading_buckets(const ReadingsQuery& q, std::int64_t interval_s);
    /// Distinct (dev_eui, quantity, unit) with their number of readings: what a chart can show.
    struct Series {
        std::string dev_eui;
        std::string quantity;
        std::string unit;
        std::int64_t count = 0;
        std::string last_time;
        double last_value = 0;
    };
    [[nodiscard]] std::vector<Series> series();

    /// Every zone with its counts, ordered by zone.
    [[nodiscard]] std::vector<ZoneRow> zones();
    /// The spots of `zone` (every spot when empty), ordered by zone then spot (numerically when both are numbers).
    [[nodiscard]] std::vector<SpotState> spots(const std::string& zone = {});

    /// The latest uplinks, newest first; only those with id > after_id; of one device when dev_eui is set.
    [[nodiscard]] std::vector<UplinkSummary> uplinks(std::size_t limit, std::int64_t after_id = 0,
                                                     const std::string& dev_eui = {});
    /// The last state of every device that has sent an uplink (or of `dev_eui` only), ordered by dev_eui.
    [[nodiscard]] std::vector<DeviceState> device_states(const std::string& dev_eui = {});

private:
    Database& db_;
};

}  // namespace schwebe::sqlite
