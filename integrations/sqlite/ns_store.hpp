#pragma once
// The network server's storage (network-server/store.hpp) on SQLite: sessions, join state, DevNonces and the
// downlink queue of migration 3, read together with the devices, profiles and applications of migration 2.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "integrations/sqlite/database.hpp"
#include "network-server/store.hpp"

namespace schwebe::sqlite {

/// ns::NsStore on one SQLite connection.
///
/// commit() runs the whole batch in one BEGIN IMMEDIATE transaction of its own (so it must not be called inside
/// one the caller holds open on `db`); every counter update in it is a conditional UPDATE, so a second writer on
/// the same file (the CLI, another process) can never move a counter backwards. Failures of SQLite itself, and
/// rows that cannot be read back (written by something else in the wrong form), throw sqlite::Error; a failed
/// commit() applies nothing.
///
/// Two readings of the contract worth knowing:
///   - An FCntDownReservation of 2^32 - 1, the last downlink counter, is refused as stale_counter: the next counter
///     would not fit DeviceSession::n_f_cnt_down, and handing the last one out again would reuse a keystream. The
///     session is exhausted; the device must join again (ABP: be given new keys).
///   - A JoinCommit never lowers the stored JoinNonce or the highest DevNonce: both keep the larger of the stored
///     and the new value, so the next JoinNonce is never one already sent.
/// A stored MAC state that is empty (the ABP sessions migration 3 created) or unreadable is read as the default MAC
/// state with the profile's RX settings; an unreadable one is logged once per device.
class SqliteNsStore final : public ns::NsStore {
public:
    /// `db` must outlive the store and be used from the same thread. The statements are prepared here, so a
    /// database without the tables of migration 3 fails at construction.
    explicit SqliteNsStore(Database& db);

    std::vector<ns::DeviceRecord> find_by_dev_addr(const lorawan::DevAddr& dev_addr) override;
    std::optional<ns::DeviceRecord> find_device(const lorawan::Eui64& dev_eui) override;
    /// Compares `PRAGMA data_version` with the value of the last call: only commits of other connections change it.
    /// The first call returns true.
    bool changed_externally() override;
    bool dev_addr_in_use(const lorawan::DevAddr& dev_addr) override;

    std::vector<ns::ChangeResult> commit(const std::vector<ns::Change>& changes,
                                         const BeforeCommit& before_commit = {}) override;

    /// The error starts with the field at fault: "dev_eui: no such device …", "f_port: …", "data: …". Runs in the
    /// caller's transaction when one is open on `db`.
    lorawan::Result<ns::QueueItem, ns::QueueError> enqueue(const lorawan::Eui64& dev_eui, std::uint8_t f_port,
                                                           lorawan::ByteView data, bool confirmed) override;
    std::vector<ns::QueueItem> queue(const lorawan::Eui64& dev_eui) override;
    std::size_t flush_queue(const lorawan::Eui64& dev_eui) override;

private:
    ns::DeviceRecord read_record(const Statement& row);
    ns::MacState read_mac_state(const Statement& row, int column, const ns::DeviceProfile& profile,
                                const std::string& dev_eui);

    ns::ChangeResult apply(const ns::UplinkCommit& change, const std::string& now);
    ns::ChangeResult apply(const ns::JoinCommit& change, const std::string& now);
    ns::ChangeResult apply(const ns::FCntDownReservation& change, const std::string& now);
    ns::ChangeResult apply(const ns::QueueItemSent& change, const std::string& now);
    ns::ChangeResult apply(const ns::QueueItemRemoved& change, const std::string& now);
    /// Why a conditional session update changed nothing: the session moved on, or there is none.
    ns::ChangeResult session_refusal(const lorawan::Eui64& dev_eui);
    bool device_exists(const lorawan::Eui64& dev_eui);

    Database& db_;
    Statement select_records_by_dev_addr_;
    Statement select_record_;
    Statement select_dev_addr_in_use_;
    Statement select_device_exists_;
    Statement select_session_exists_;
    Statement update_uplink_;
    Statement insert_dev_nonce_;
    Statement upsert_join_state_;
    Statement upsert_session_;
    Statement delete_awaiting_ack_;
    Statement reserve_f_cnt_down_;
    Statement delete_queue_item_;
    Statement update_queue_item_sent_;
    Statement insert_queue_item_;
    Statement select_queue_;
    Statement delete_queue_;
    std::optional<std::int64_t> last_data_version_;
    std::set<std::string> unreadable_mac_state_logged_;  ///< dev_euis
    std::mt19937_64 rng_;
};

}  // namespace schwebe::sqlite
