#pragma once
// The application side of the SQLite file (migration 4): uplinks, readings, parking spots, gateway statistics and
// the MQTT outbox. One connection, one thread (database.hpp). The writes that belong to an uplink run inside the
// network server's commit transaction (ns::EventSink::stage), so they take no transaction of their own; the
// maintenance calls (outbox removal, parking sweep, retention, gateway stats) open their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/messages.hpp"
#include "common/outbox.hpp"
#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

using SystemTime = std::chrono::system_clock::time_point;

struct UplinkRow {
    std::string deduplication_id;
    SystemTime time;
    std::string dev_eui;
    std::string dev_addr;
    std::uint32_t f_cnt = 0;
    std::optional<std::uint8_t> f_port;
    bool confirmed = false;
    std::uint8_t dr = 0;
    std::uint32_t frequency = 0;
    std::span<const std::uint8_t> data;
    std::string_view event_json;  ///< the ChirpStack `up` event; `object` and `rx_info` are read from it
};

struct ReadingRow {
    std::int64_t uplink_id = 0;
    std::string dev_eui;
    std::string quantity;
    SystemTime time;
    double value = 0;
    std::string unit;
};

enum class SpotStatus : std::uint8_t { unknown, free, occupied };
[[nodiscard]] std::string_view to_string(SpotStatus status) noexcept;

struct SpotRow {
    std::string zone;
    std::string spot;
    std::string dev_eui;
    SpotStatus status = SpotStatus::unknown;
    SystemTime since;
    SystemTime last_seen;
    bool operator==(const SpotRow&) const = default;
};

struct ZoneTotals {
    std::int64_t free = 0;
    std::int64_t occupied = 0;
    std::int64_t unknown = 0;
    [[nodiscard]] std::int64_t total() const noexcept { return free + occupied + unknown; }
};

using OutboxMessage = common::OutboxMessage;

class SqliteAppStore final : public common::OutboxStore {
public:
    /// `db` must outlive the store and be used on the same thread.
    explicit SqliteAppStore(Database& db);
    [[nodiscard]] Database& database() noexcept { return db_; }

    // ---- inside the caller's transaction ----
    /// Returns the row id (for readings).
    std::int64_t insert_uplink(const UplinkRow& row);
    void insert_reading(const ReadingRow& row);
    [[nodiscard]] std::optional<SpotRow> spot_of_device(std::string_view dev_eui);
    /// Inserts or replaces the spot (zone, spot).
    void put_spot(const SpotRow& row);
    void delete_spot(std::string_view zone, std::string_view spot);
    void touch_spot(std::string_view dev_eui, SystemTime last_seen);
    [[nodiscard]] ZoneTotals zone_totals(std::string_view zone);
    /// Appends a message; sets and returns its id. With `uplink_id`, the payload is not stored: it is that
    /// uplink's `event` (the message must be that event).
    std::int64_t add_outbox(OutboxMessage& message, SystemTime now, std::optional<std::int64_t> uplink_id = {});

    // ---- reads ----
    /// Up to `limit` messages with id >= `from_id`, in id order.
    [[nodiscard]] std::vector<OutboxMessage> read_outbox(std::int64_t from_id, std::size_t limit) override;
    [[nodiscard]] std::int64_t outbox_depth();
    [[nodiscard]] std::vector<std::string> devices_with_spots();
    /// Spots not yet unknown whose sensor was last heard before `before`.
    [[nodiscard]] std::vector<SpotRow> silent_spots(SystemTime before);

    // ---- own transactions ----
    /// Deletes the delivered messages.
    void remove_outbox(std::span<const std::int64_t> ids) override;
    void insert_gateway_stats(const common::GatewayStats& stats);
    /// Deletes at most `limit` rows in one short transaction: the oldest uplinks older than `before` (in id order,
    /// which is time order), the readings of uplinks no longer there, and gateway stats older than `before`. Returns
    /// how many rows went; called again while it returns `limit`, so that ingestion runs in between (it shares the
    /// thread).
    std::size_t delete_older_than(SystemTime before, std::size_t limit);

private:
    Database& db_;
    Statement insert_uplink_;
    Statement insert_reading_;
    Statement spot_of_device_;
    Statement put_spot_;
    Statement delete_spot_;
    Statement touch_spot_;
    Statement zone_totals_;
    Statement add_outbox_;
    Statement read_outbox_;
    Statement outbox_depth_;
    Statement silent_spots_;
    Statement remove_outbox_;
    Statement insert_gateway_stats_;
    Statement delete_old_uplinks_;
    Statement delete_old_readings_;
    Statement delete_old_gateway_stats_;
};

}  // namespace schwebe::sqlite
