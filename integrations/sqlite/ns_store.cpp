#include "integrations/sqlite/ns_store.hpp"

#include <chrono>
#include <limits>
#include <utility>
#include <variant>

#include "common/log.hpp"
#include "common/uuid.hpp"
#include "integrations/sqlite/device_rows.hpp"

namespace schwebe::sqlite {

namespace {

using rows::bad_row;
using rows::small_int;

// ---- SQL -----------------------------------------------------------------------------------------------------------

/// A device with everything one uplink needs; the session and join state columns are NULL when there are none.
std::string record_query(std::string_view where) {
    return "SELECT " + std::string(rows::device_columns) + ", " + std::string(rows::profile_columns) + R"sql(,
       a.name, s.dev_addr, s.nwk_s_key, s.app_s_key, s.f_cnt_up, s.n_f_cnt_down, s.mac_state, j.join_nonce,
       j.last_dev_nonce, (SELECT COUNT(*) FROM downlink_queue q WHERE q.dev_eui = d.dev_eui)
FROM devices d
JOIN device_profiles p ON p.id = d.device_profile_id
JOIN applications a ON a.id = d.application_id
LEFT JOIN device_sessions s ON s.dev_eui = d.dev_eui
LEFT JOIN device_join_state j ON j.dev_eui = d.dev_eui
)sql" + std::string(where);
}
enum RecordColumn : int {
    rc_device = 0,
    rc_profile = rows::device_column_count,
    rc_application_name = rc_profile + rows::profile_column_count,
    rc_dev_addr,
    rc_nwk_s_key,
    rc_app_s_key,
    rc_f_cnt_up,
    rc_n_f_cnt_down,
    rc_mac_state,
    rc_join_nonce,
    rc_last_dev_nonce,
    rc_queue_size,
};

// The counter conditions of store.hpp: an uplink applies only over the f_cnt_up it was checked against (IS: NULL
// before the first uplink), a reservation only when n_f_cnt_down has not passed it; both only while the session
// still has the address the caller used.
constexpr std::string_view update_uplink_sql = R"sql(
UPDATE device_sessions SET f_cnt_up = ?1, mac_state = ?2, updated_at = ?3
WHERE dev_eui = ?4 AND dev_addr = ?5 AND f_cnt_up IS ?6
)sql";
constexpr std::string_view reserve_f_cnt_down_sql = R"sql(
UPDATE device_sessions SET n_f_cnt_down = ?1 + 1, mac_state = ?2, updated_at = ?3
WHERE dev_eui = ?4 AND dev_addr = ?5 AND n_f_cnt_down <= ?1
)sql";

// The JoinNonce and the highest DevNonce never go down (ns_store.hpp).
constexpr std::string_view upsert_join_state_sql = R"sql(
INSERT INTO device_join_state (dev_eui, join_nonce, last_dev_nonce) VALUES (?1, ?2, ?3)
ON CONFLICT (dev_eui) DO UPDATE SET join_nonce = MAX(join_nonce, excluded.join_nonce),
                                    last_dev_nonce = MAX(COALESCE(last_dev_nonce, 0), excluded.last_dev_nonce)
)sql";

// seq: one more than the highest in the table, computed inside the INSERT, so items go out in the order they came
// whoever inserted them.
constexpr std::string_view insert_queue_item_sql = R"sql(
INSERT INTO downlink_queue (id, seq, dev_eui, f_port, data, confirmed, created_at)
VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM downlink_queue), ?2, ?3, ?4, ?5, ?6)
)sql";
constexpr std::string_view select_queue_sql = R"sql(
SELECT id, dev_eui, f_port, data, confirmed, created_at, f_cnt_down, attempts
FROM downlink_queue WHERE dev_eui = ?1 ORDER BY seq
)sql";
enum QueueColumn : int {
    qc_id,
    qc_dev_eui,
    qc_f_port,
    qc_data,
    qc_confirmed,
    qc_created_at,
    qc_f_cnt_down,
    qc_attempts
};

/// The largest FRMPayload of EU868, at DR7 (RP002-1.0.3 §2.4.6: N = 242).
constexpr std::size_t max_frm_payload = 242;

ns::ChangeResult applied_if(std::int64_t changed) {
    return changed > 0 ? ns::ChangeResult::applied : ns::ChangeResult::not_found;
}

ns::QueueItem read_queue_item(const Statement& row) {
    constexpr std::string_view table = "downlink_queue";
    ns::QueueItem item;
    item.id = row.column_text(qc_id);
    item.dev_eui = rows::read_dev_eui(row, qc_dev_eui, table);
    item.f_port = small_int<std::uint8_t>(row, qc_f_port, table, item.id, "f_port", 255);
    item.data = row.column_blob(qc_data);
    item.confirmed = row.column_int64(qc_confirmed) != 0;
    const auto created_at = parse_timestamp(row.column_text(qc_created_at));
    if (!created_at) bad_row(table, item.id, "created_at", "not an RFC 3339 time");
    item.created_at = *created_at;
    if (!row.column_is_null(qc_f_cnt_down)) {
        item.f_cnt_down = small_int<std::uint32_t>(row, qc_f_cnt_down, table, item.id, "f_cnt_down", UINT32_MAX);
    }
    item.attempts = small_int<std::uint8_t>(row, qc_attempts, table, item.id, "attempts", 255);
    return item;
}

}  // namespace

SqliteNsStore::SqliteNsStore(Database& db)
    : db_(db),
      select_records_by_dev_addr_(db.prepare(record_query("WHERE s.dev_addr = ?1 ORDER BY d.dev_eui"))),
      select_record_(db.prepare(record_query("WHERE d.dev_eui = ?1"))),
      select_dev_addr_in_use_(db.prepare("SELECT 1 FROM device_sessions WHERE dev_addr = ?1 LIMIT 1")),
      select_device_exists_(db.prepare("SELECT 1 FROM devices WHERE dev_eui = ?1")),
      select_session_exists_(db.prepare("SELECT 1 FROM device_sessions WHERE dev_eui = ?1")),
      update_uplink_(db.prepare(update_uplink_sql)),
      insert_dev_nonce_(
          db.prepare("INSERT OR IGNORE INTO device_dev_nonces (dev_eui, dev_nonce, used_at) VALUES (?1, ?2, ?3)")),
      upsert_join_state_(db.prepare(upsert_join_state_sql)),
      upsert_session_(db.prepare(rows::upsert_session_sql)),
      delete_awaiting_ack_(db.prepare(rows::delete_awaiting_ack_sql)),
      reserve_f_cnt_down_(db.prepare(reserve_f_cnt_down_sql)),
      delete_queue_item_(db.prepare("DELETE FROM downlink_queue WHERE id = ?1")),
      update_queue_item_sent_(db.prepare("UPDATE downlink_queue SET f_cnt_down = ?2, attempts = ?3 WHERE id = ?1")),
      insert_queue_item_(db.prepare(insert_queue_item_sql)),
      select_queue_(db.prepare(select_queue_sql)),
      delete_queue_(db.prepare("DELETE FROM downlink_queue WHERE dev_eui = ?1")),
      rng_(std::random_device{}()) {}

// ---- Reading -------------------------------------------------------------------------------------------------------

std::vector<ns::DeviceRecord> SqliteNsStore::find_by_dev_addr(const lorawan::DevAddr& dev_addr) {
    select_records_by_dev_addr_.reset();
    select_records_by_dev_addr_.bind_text(1, dev_addr.to_string());
    return rows::collect(select_records_by_dev_addr_, [this](const Statement& row) { return read_record(row); });
}

std::optional<ns::DeviceRecord> SqliteNsStore::find_device(const lorawan::Eui64& dev_eui) {
    select_record_.reset();
    select_record_.bind_text(1, dev_eui.to_string());
    return rows::first(select_record_, [this](const Statement& row) { return read_record(row); });
}

bool SqliteNsStore::changed_externally() {
    const std::int64_t version = db_.data_version();
    const bool changed = last_data_version_ != version;
    last_data_version_ = version;
    return changed;
}

bool SqliteNsStore::dev_addr_in_use(const lorawan::DevAddr& dev_addr) {
    select_dev_addr_in_use_.reset();
    select_dev_addr_in_use_.bind_text(1, dev_addr.to_string());
    return rows::exists(select_dev_addr_in_use_);
}

ns::DeviceRecord SqliteNsStore::read_record(const Statement& row) {
    constexpr std::string_view table = "device_sessions";
    ns::DeviceRecord record;
    record.device = rows::read_device(row, rc_device);
    record.profile = rows::read_profile(row, rc_profile);
    record.application_name = row.column_text(rc_application_name);
    const std::string dev_eui = record.device.dev_eui.to_string();

    if (const auto dev_addr = rows::read_dev_addr(row, rc_dev_addr, table, dev_eui)) {
        const auto nwk_s_key = rows::read_key<lorawan::NwkSKey>(row, rc_nwk_s_key, table, dev_eui, "nwk_s_key");
        const auto app_s_key = rows::read_key<lorawan::AppSKey>(row, rc_app_s_key, table, dev_eui, "app_s_key");
        if (!nwk_s_key || !app_s_key) bad_row(table, dev_eui, "keys", "missing");
        ns::DeviceSession session;
        session.dev_addr = *dev_addr;
        session.nwk_s_key = *nwk_s_key;
        session.app_s_key = *app_s_key;
        if (!row.column_is_null(rc_f_cnt_up)) {
            session.f_cnt_up = small_int<std::uint32_t>(row, rc_f_cnt_up, table, dev_eui, "f_cnt_up", UINT32_MAX);
        }
        session.n_f_cnt_down =
            small_int<std::uint32_t>(row, rc_n_f_cnt_down, table, dev_eui, "n_f_cnt_down", UINT32_MAX);
        session.mac = read_mac_state(row, rc_mac_state, record.profile, dev_eui);
        record.session = std::move(session);
    }
    if (!row.column_is_null(rc_join_nonce)) {
        record.join_nonce =
            small_int<std::uint32_t>(row, rc_join_nonce, "device_join_state", dev_eui, "join_nonce", UINT32_MAX);
    }
    if (!row.column_is_null(rc_last_dev_nonce)) {
        record.last_dev_nonce =
            small_int<std::uint16_t>(row, rc_last_dev_nonce, "device_join_state", dev_eui, "last_dev_nonce", 0xffff);
    }
    record.queue_size = static_cast<std::size_t>(row.column_int64(rc_queue_size));
    return record;
}

ns::MacState SqliteNsStore::read_mac_state(const Statement& row, int column, const ns::DeviceProfile& profile,
                                           const std::string& dev_eui) {
    const auto bytes = row.column_blob(column);
    // Empty: a session that no uplink has changed since migration 3 created it (migrations.cpp).
    if (bytes.empty()) return rows::default_mac_state(profile);
    if (auto mac = ns::decode_mac_state(bytes)) return std::move(*mac);
    // Not worth refusing the device over: the MAC state is what the network believes, and the next LinkADRReq
    // and answers bring it back in line. Logged once per device, not on every uplink.
    if (unreadable_mac_state_logged_.insert(dev_eui).second) {
        log::warn("unreadable mac_state, using the profile's defaults",
                  {{"dev_eui", dev_eui}, {"bytes", bytes.size()}, {"version", static_cast<unsigned>(bytes[0])}});
    }
    return rows::default_mac_state(profile);
}

// ---- Commit --------------------------------------------------------------------------------------------------------

std::vector<ns::ChangeResult> SqliteNsStore::commit(const std::vector<ns::Change>& changes,
                                                   const BeforeCommit& before_commit) {
    std::vector<ns::ChangeResult> results;
    if (changes.empty() && !before_commit) return results;
    results.reserve(changes.size());
    Transaction transaction(db_);
    const std::string now = rows::now_text();
    for (const auto& change : changes) {
        results.push_back(std::visit([&](const auto& c) { return apply(c, now); }, change));
    }
    if (before_commit) before_commit(results);
    transaction.commit();
    return results;
}

ns::ChangeResult SqliteNsStore::apply(const ns::UplinkCommit& change, const std::string& now) {
    update_uplink_.reset();
    update_uplink_.bind_int64(1, change.f_cnt_up)
        .bind_blob(2, ns::encode(change.mac))
        .bind_text(3, now)
        .bind_text(4, change.dev_eui.to_string())
        .bind_text(5, change.dev_addr.to_string());
    if (change.previous_f_cnt_up) {
        update_uplink_.bind_int64(6, *change.previous_f_cnt_up);
    } else {
        update_uplink_.bind_null(6);
    }
    if (rows::run(db_, update_uplink_) > 0) return ns::ChangeResult::applied;
    return session_refusal(change.dev_eui);
}

ns::ChangeResult SqliteNsStore::apply(const ns::JoinCommit& change, const std::string& now) {
    if (!device_exists(change.dev_eui)) return ns::ChangeResult::not_found;
    const std::string dev_eui = change.dev_eui.to_string();

    // LoRaWAN 1.0.2/1.0.3 §6.2.4: a DevNonce once accepted is never accepted again for the device.
    insert_dev_nonce_.reset();
    insert_dev_nonce_.bind_text(1, dev_eui).bind_int64(2, change.dev_nonce).bind_text(3, now);
    if (rows::run(db_, insert_dev_nonce_) == 0) return ns::ChangeResult::dev_nonce_reused;

    upsert_join_state_.reset();
    upsert_join_state_.bind_text(1, dev_eui).bind_int64(2, change.join_nonce).bind_int64(3, change.dev_nonce);
    upsert_join_state_.step();

    upsert_session_.reset();
    rows::bind_session(upsert_session_, change.dev_eui, change.session, now);
    upsert_session_.step();

    delete_awaiting_ack_.reset();
    delete_awaiting_ack_.bind_text(1, dev_eui);
    delete_awaiting_ack_.step();
    return ns::ChangeResult::applied;
}

ns::ChangeResult SqliteNsStore::apply(const ns::FCntDownReservation& change, const std::string& now) {
    // 2^32 - 1 is the last counter: n_f_cnt_down cannot hold the one after it (ns_store.hpp).
    if (change.f_cnt_down == std::numeric_limits<std::uint32_t>::max()) return session_refusal(change.dev_eui);
    reserve_f_cnt_down_.reset();
    reserve_f_cnt_down_.bind_int64(1, change.f_cnt_down)
        .bind_blob(2, ns::encode(change.mac))
        .bind_text(3, now)
        .bind_text(4, change.dev_eui.to_string())
        .bind_text(5, change.dev_addr.to_string());
    if (rows::run(db_, reserve_f_cnt_down_) > 0) return ns::ChangeResult::applied;
    return session_refusal(change.dev_eui);
}

ns::ChangeResult SqliteNsStore::apply(const ns::QueueItemSent& change, const std::string& /*now*/) {
    if (!change.confirmed) {
        delete_queue_item_.reset();
        delete_queue_item_.bind_text(1, change.id);
        return applied_if(rows::run(db_, delete_queue_item_));
    }
    update_queue_item_sent_.reset();
    update_queue_item_sent_.bind_text(1, change.id).bind_int64(2, change.f_cnt_down).bind_int64(3, change.attempts);
    return applied_if(rows::run(db_, update_queue_item_sent_));
}

ns::ChangeResult SqliteNsStore::apply(const ns::QueueItemRemoved& change, const std::string& /*now*/) {
    delete_queue_item_.reset();
    delete_queue_item_.bind_text(1, change.id);
    return applied_if(rows::run(db_, delete_queue_item_));
}

ns::ChangeResult SqliteNsStore::session_refusal(const lorawan::Eui64& dev_eui) {
    select_session_exists_.reset();
    select_session_exists_.bind_text(1, dev_eui.to_string());
    return rows::exists(select_session_exists_) ? ns::ChangeResult::stale_counter : ns::ChangeResult::not_found;
}

bool SqliteNsStore::device_exists(const lorawan::Eui64& dev_eui) {
    select_device_exists_.reset();
    select_device_exists_.bind_text(1, dev_eui.to_string());
    return rows::exists(select_device_exists_);
}

// ---- Downlink queue ------------------------------------------------------------------------------------------------

lorawan::Result<ns::QueueItem, ns::QueueError> SqliteNsStore::enqueue(const lorawan::Eui64& dev_eui,
                                                                      std::uint8_t f_port, lorawan::ByteView data,
                                                                      bool confirmed) {
    // LoRaWAN 1.0.4 §4.3.2: FPort 0 carries MAC commands, 224 is the test protocol's, 225..255 are reserved.
    if (f_port < 1 || f_port > 223) {
        return ns::QueueError(
            "f_port: must be 1..223 (0 is reserved for MAC commands, 224..255 for the test "
            "protocol and future use), got " +
            std::to_string(f_port));
    }
    if (data.size() > max_frm_payload) {
        return ns::QueueError("data: at most " + std::to_string(max_frm_payload) +
                              " bytes (the largest EU868 FRMPayload), got " + std::to_string(data.size()));
    }

    rows::WriteScope scope(db_);
    if (!device_exists(dev_eui)) return ns::QueueError("dev_eui: no such device " + dev_eui.to_string());

    // Microseconds: what format_timestamp keeps, so the item returned equals the item read back.
    const auto created_at = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    ns::QueueItem item{
        .id = common::uuid_v4(rng_),
        .dev_eui = dev_eui,
        .f_port = f_port,
        .data = lorawan::Bytes(data.begin(), data.end()),
        .confirmed = confirmed,
        .created_at = created_at,
        .f_cnt_down = std::nullopt,
        .attempts = 0,
    };
    insert_queue_item_.reset();
    insert_queue_item_.bind_text(1, item.id)
        .bind_text(2, dev_eui.to_string())
        .bind_int64(3, item.f_port)
        .bind_blob(4, item.data)
        .bind_int64(5, item.confirmed ? 1 : 0)
        .bind_text(6, format_timestamp(item.created_at));
    insert_queue_item_.step();
    scope.commit();
    return item;
}

std::vector<ns::QueueItem> SqliteNsStore::queue(const lorawan::Eui64& dev_eui) {
    select_queue_.reset();
    select_queue_.bind_text(1, dev_eui.to_string());
    return rows::collect(select_queue_, read_queue_item);
}

std::size_t SqliteNsStore::flush_queue(const lorawan::Eui64& dev_eui) {
    delete_queue_.reset();
    delete_queue_.bind_text(1, dev_eui.to_string());
    return static_cast<std::size_t>(rows::run(db_, delete_queue_));
}

}  // namespace schwebe::sqlite
