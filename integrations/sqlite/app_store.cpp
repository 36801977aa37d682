#include "integrations/sqlite/app_store.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/log.hpp"

namespace schwebe::sqlite {

namespace {

SpotStatus spot_status_from(std::string_view text) {
    if (text == "occupied") return SpotStatus::occupied;
    if (text == "free") return SpotStatus::free;
    return SpotStatus::unknown;
}

SystemTime time_column(const Statement& row, int column) {
    const auto text = row.column_text(column);
    const auto time = parse_timestamp(text);
    if (!time) throw Error(0, "sqlite: unreadable time '" + text + "' in " + row.sql());
    return *time;
}

SpotRow spot_from(const Statement& row) {
    return SpotRow{.zone = row.column_text(0),
                   .spot = row.column_text(1),
                   .dev_eui = row.column_text(2),
                   .status = spot_status_from(row.column_text(3)),
                   .since = time_column(row, 4),
                   .last_seen = time_column(row, 5)};
}

}  // namespace

std::string_view to_string(SpotStatus status) noexcept {
    switch (status) {
        case SpotStatus::occupied: return "occupied";
        case SpotStatus::free: return "free";
        case SpotStatus::unknown: return "unknown";
    }
    return "unknown";
}

SqliteAppStore::SqliteAppStore(Database& db)
    : db_(db),
      insert_uplink_(db.prepare(
          "INSERT INTO uplinks (deduplication_id, time, dev_eui, dev_addr, f_cnt, f_port, confirmed, dr, frequency, "
          "data, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")),
      insert_reading_(db.prepare(
          "INSERT INTO readings (uplink_id, dev_eui, quantity, time, value, unit) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      spot_of_device_(db.prepare(
          "SELECT zone, spot, dev_eui, status, since, last_seen FROM parking_spots WHERE dev_eui = ?1")),
      put_spot_(db.prepare("INSERT OR REPLACE INTO parking_spots (zone, spot, dev_eui, status, since, last_seen) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      delete_spot_(db.prepare("DELETE FROM parking_spots WHERE zone = ?1 AND spot = ?2")),
      touch_spot_(db.prepare("UPDATE parking_spots SET last_seen = ?2 WHERE dev_eui = ?1")),
      zone_totals_(db.prepare("SELECT status, count(*) FROM parking_spots WHERE zone = ?1 GROUP BY status")),
      add_outbox_(db.prepare("INSERT INTO outbox (dev_eui, topic, payload, uplink_id, qos, retained, created_at) "
                             "VALUES (?1, ?2, ?3, ?7, ?4, ?5, ?6)")),
      read_outbox_(db.prepare("SELECT o.id, o.dev_eui, o.topic, coalesce(o.payload, u.event), o.qos, o.retained, "
                              "o.uplink_id IS NOT NULL AND u.id IS NULL FROM outbox o LEFT JOIN uplinks u "
                              "ON u.id = o.uplink_id WHERE o.id >= ?1 ORDER BY o.id LIMIT ?2")),
      outbox_depth_(db.prepare("SELECT count(*) FROM outbox")),
      silent_spots_(db.prepare("SELECT zone, spot, dev_eui, status, since, last_seen FROM parking_spots "
                               "WHERE last_seen < ?1 AND status != 'unknown' ORDER BY zone, spot")),
      remove_outbox_(db.prepare("DELETE FROM outbox WHERE id BETWEEN ?1 AND ?2")),
      insert_gateway_stats_(db.prepare(
          "INSERT INTO gateway_stats (gateway_id, time, rx_received, rx_ok, rx_forwarded, ack_ratio, tx_received, "
          "tx_emitted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")),
      // Among the oldest rows by id, those older than the cutoff: a slice reads at most `limit` rows.
      // Never an uplink whose `up` message still waits in the outbox (it is that message's payload).
      delete_old_uplinks_(db.prepare("DELETE FROM uplinks WHERE id IN (SELECT id FROM (SELECT id, time FROM uplinks "
                                     "ORDER BY id LIMIT ?2) WHERE time < ?1 AND id < coalesce((SELECT min(uplink_id) "
                                     "FROM outbox), 9223372036854775807))")),
      // Readings go with their uplink (their own time may be a device's clock): those of uplinks already deleted.
      delete_old_readings_(db.prepare(
          "DELETE FROM readings WHERE id IN (SELECT id FROM (SELECT id, uplink_id FROM readings ORDER BY id LIMIT ?2) "
          "WHERE uplink_id < coalesce((SELECT min(id) FROM uplinks), 9223372036854775807))")),
      delete_old_gateway_stats_(db.prepare("DELETE FROM gateway_stats WHERE id IN (SELECT id FROM (SELECT id, time "
                                           "FROM gateway_stats ORDER BY id LIMIT ?2) WHERE time < ?1)")) {}

std::int64_t SqliteAppStore::insert_uplink(const UplinkRow& row) {
    insert_uplink_.reset();
    insert_uplink_.bind_text(1, row.deduplication_id)
        .bind_text(2, format_timestamp(row.time))
        .bind_text(3, row.dev_eui)
        .bind_text(4, row.dev_addr)
        .bind_int64(5, row.f_cnt)
        .bind_int64(7, row.confirmed ? 1 : 0)
        .bind_int64(8, row.dr)
        .bind_int64(9, row.frequency)
        .bind_blob(10, row.data)
        .bind_text(11, row.event_json);
    if (row.f_port) {
        insert_uplink_.bind_int64(6, *row.f_port);
    } else {
        insert_uplink_.bind_null(6);
    }
    insert_uplink_.step();
    return db_.last_insert_rowid();
}

void SqliteAppStore::insert_reading(const ReadingRow& row) {
    insert_reading_.reset();
    insert_reading_.bind_int64(1, row.uplink_id)
        .bind_text(2, row.dev_eui)
        .bind_text(3, row.quantity)
        .bind_text(4, format_timestamp(row.time))
        .bind_double(5, row.value)
        .bind_text(6, row.unit);
    insert_reading_.step();
}

std::optional<SpotRow> SqliteAppStore::spot_of_device(std::string_view dev_eui) {
    spot_of_device_.reset();
    spot_of_device_.bind_text(1, dev_eui);
    if (!spot_of_device_.step()) return std::nullopt;
    auto spot = spot_from(spot_of_device_);
    spot_of_device_.reset();
    return spot;
}

void SqliteAppStore::put_spot(const SpotRow& row) {
    put_spot_.reset();
    put_spot_.bind_text(1, row.zone)
        .bind_text(2, row.spot)
        .bind_text(3, row.dev_eui)
        .bind_text(4, to_string(row.status))
        .bind_text(5, format_timestamp(row.since))
        .bind_text(6, format_timestamp(row.last_seen));
    put_spot_.step();
}

void SqliteAppStore::delete_spot(std::string_view zone, std::string_view spot) {
    delete_spot_.reset();
    delete_spot_.bind_text(1, zone).bind_text(2, spot);
    delete_spot_.step();
}

void SqliteAppStore::touch_spot(std::string_view dev_eui, SystemTime last_seen) {
    touch_spot_.reset();
    touch_spot_.bind_text(1, dev_eui).bind_text(2, format_timestamp(last_seen));
    touch_spot_.step();
}

ZoneTotals SqliteAppStore::zone_totals(std::string_view zone) {
    ZoneTotals totals;
    zone_totals_.reset();
    zone_totals_.bind_text(1, zone);
    while (zone_totals_.step()) {
        const auto count = zone_totals_.column_int64(1);
        switch (spot_status_from(zone_totals_.column_text(0))) {
            case SpotStatus::occupied: totals.occupied = count; break;
            case SpotStatus::free: totals.free = count; break;
            case SpotStatus::unknown: totals.unknown = count; break;
        }
    }
    return totals;
}

std::int64_t SqliteAppStore::add_outbox(OutboxMessage& message, SystemTime now, std::optional<std::int64_t> uplink_id) {
    add_outbox_.reset();
    add_outbox_.bind_text(1, message.dev_eui)
        .bind_text(2, message.topic)
        .bind_int64(4, message.qos)
        .bind_int64(5, message.retained ? 1 : 0)
        .bind_text(6, format_timestamp(now));
    if (uplink_id) {
        add_outbox_.bind_null(3).bind_int64(7, *uplink_id);
    } else {
        add_outbox_.bind_blob(
                       3, std::span(reinterpret_cast<const std::uint8_t*>(message.payload.data()), message.payload.size()))
            .bind_null(7);
    }
    add_outbox_.step();
    message.id = db_.last_insert_rowid();
    return message.id;
}

std::vector<OutboxMessage> SqliteAppStore::read_outbox(std::int64_t from_id, std::size_t limit) {
    std::vector<OutboxMessage> out;
    read_outbox_.reset();
    read_outbox_.bind_int64(1, from_id).bind_int64(2, static_cast<std::int64_t>(limit));
    while (read_outbox_.step()) {
        if (read_outbox_.column_int64(6) != 0) {
            // Its uplink is gone (retention keeps it; someone deleted it by hand): nothing to publish.
            log::warn("outbox message without its uplink, dropped", {{"id", read_outbox_.column_int64(0)}});
            out.push_back(OutboxMessage{.id = read_outbox_.column_int64(0),
                                        .dev_eui = read_outbox_.column_text(1),
                                        .topic = std::string(),
                                        .payload = std::string(),
                                        .qos = 0,
                                        .retained = false});
            continue;
        }
        const auto payload = read_outbox_.column_blob(3);
        out.push_back(OutboxMessage{.id = read_outbox_.column_int64(0),
                                    .dev_eui = read_outbox_.column_text(1),
                                    .topic = read_outbox_.column_text(2),
                                    .payload = std::string(payload.begin(), payload.end()),
                                    .qos = static_cast<int>(read_outbox_.column_int64(4)),
                                    .retained = read_outbox_.column_int64(5) != 0});
    }
    return out;
}

std::int64_t SqliteAppStore::outbox_depth() {
    outbox_depth_.reset();
    outbox_depth_.step();
    const auto depth = outbox_depth_.column_int64(0);
    outbox_depth_.reset();
    return depth;
}

std::vector<std::string> SqliteAppStore::devices_with_spots() {
    std::vector<std::string> out;
    auto statement = db_.prepare("SELECT dev_eui FROM parking_spots");
    while (statement.step()) out.push_back(statement.column_text(0));
    return out;
}

std::vector<SpotRow> SqliteAppStore::silent_spots(SystemTime before) {
    std::vector<SpotRow> out;
    silent_spots_.reset();
    silent_spots_.bind_text(1, format_timestamp(before));
    while (silent_spots_.step()) out.push_back(spot_from(silent_spots_));
    return out;
}

void SqliteAppStore::remove_outbox(std::span<const std::int64_t> ids) {
    if (ids.empty()) return;
    // Acknowledgements come nearly in id order: one range delete per run of consecutive ids.
    std::vector<std::int64_t> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end());
    Transaction transaction(db_);
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] <= sorted[j] + 1) ++j;
        remove_outbox_.reset();
        remove_outbox_.bind_int64(1, sorted[i]).bind_int64(2, sorted[j]);
        remove_outbox_.step();
        i = j + 1;
    }
    transaction.commit();
}

void SqliteAppStore::insert_gateway_stats(const common::GatewayStats& stats) {
    insert_gateway_stats_.reset();
    insert_gateway_stats_.bind_text(1, stats.gateway_id.to_string())
        .bind_text(2, format_timestamp(stats.received_at))
        .bind_int64(3, stats.rx_received)
        .bind_int64(4, stats.rx_ok)
        .bind_int64(5, stats.rx_forwarded)
        .bind_double(6, stats.ack_ratio)
        .bind_int64(7, stats.tx_received)
        .bind_int64(8, stats.tx_emitted);
    insert_gateway_stats_.step();
}

std::size_t SqliteAppStore::delete_older_than(SystemTime before, std::size_t limit) {
    const std::string cutoff = format_timestamp(before);
    std::size_t deleted = 0;
    Transaction transaction(db_);
    for (Statement* statement : {&delete_old_uplinks_, &delete_old_readings_, &delete_old_gateway_stats_}) {
        if (deleted >= limit) break;
        statement->reset();
        statement->bind_text(1, cutoff).bind_int64(2, static_cast<std::int64_t>(limit - deleted));
        statement->step();
        deleted += static_cast<std::size_t>(db_.changes());
    }
    transaction.commit();
    return deleted;
}

}  // namespace schwebe::sqlite
