#pragma once
// How the network server's pipelines reach storage (DESIGN.md, Layout: "reach I/O only through small interfaces").
// The SQLite adapter is integrations/sqlite/ns_store.hpp; a PostgreSQL one would implement the same calls with
// conditional UPDATEs (DESIGN.md, Beyond one machine).
//
// Crash safety rests on two rules that every implementation keeps:
//   - commit() applies a batch all or nothing, durably, before the caller emits any event or sends any downlink
//     the batch describes;
//   - the counter updates in it are conditional on the value the caller read, so a second writer (another
//     instance, an operator's edit) can never move a counter backwards; a lost condition is reported, not applied.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"
#include "network-server/device_model.hpp"
#include "network-server/session.hpp"

namespace schwebe::ns {

/// A device with its profile, its application's name and its session: everything one uplink needs.
struct DeviceRecord {
    Device device;
    DeviceProfile profile;
    std::string application_name;
    std::optional<DeviceSession> session;  ///< none for an OTAA device that has not joined
    // OTAA state (LoRaWAN 1.0.4 §6.2.4, §6.2.5)
    std::uint32_t join_nonce = 0;                 ///< the last JoinNonce sent; the next join uses join_nonce + 1
    std::optional<std::uint16_t> last_dev_nonce;  ///< the highest DevNonce accepted (1.0.4 wants it to increase)
    std::size_t queue_size = 0;                   ///< items in the downlink queue when read
};

/// An application payload waiting for the device's next receive window.
struct QueueItem {
    std::string id;  ///< UUID
    lorawan::Eui64 dev_eui;
    std::uint8_t f_port = 1;  ///< 1..223
    lorawan::Bytes data;      ///< plaintext
    bool confirmed = false;
    std::chrono::system_clock::time_point created_at;
    /// Set once a confirmed item went out: the FCntDown it was sent with, awaiting the device's ACK.
    std::optional<std::uint32_t> f_cnt_down;
    std::uint8_t attempts = 0;  ///< transmissions so far (confirmed items are retried)
    bool operator==(const QueueItem&) const = default;
};

// ---- the changes one batch commits ----

/// A data uplink accepted: the new counter and MAC state. Applied only when the stored f_cnt_up is still
/// `previous_f_cnt_up` and the session still has `dev_addr`.
struct UplinkCommit {
    lorawan::Eui64 dev_eui;
    lorawan::DevAddr dev_addr;
    std::optional<std::uint32_t> previous_f_cnt_up;
    std::uint32_t f_cnt_up = 0;
    MacState mac;
};

/// A join-request accepted: records the DevNonce (refused when already recorded for the device), sets the JoinNonce
/// and replaces the session; confirmed queue items awaiting an ACK of the old session are dropped.
struct JoinCommit {
    lorawan::Eui64 dev_eui;
    std::uint16_t dev_nonce = 0;
    std::uint32_t join_nonce = 0;
    DeviceSession session;
};

/// FCntDown `f_cnt_down` is used (about to be sent): n_f_cnt_down becomes f_cnt_down + 1. Applied only when the
/// stored n_f_cnt_down is not above f_cnt_down and the session still has `dev_addr`.
struct FCntDownReservation {
    lorawan::Eui64 dev_eui;
    lorawan::DevAddr dev_addr;
    std::uint32_t f_cnt_down = 0;
    MacState mac;  ///< with the requests this downlink carries marked pending
};

/// A queue item went out (TX_ACK OK): an unconfirmed one is removed; a confirmed one records its FCntDown and
/// attempts and stays until acknowledged.
struct QueueItemSent {
    std::string id;
    bool confirmed = false;
    std::uint32_t f_cnt_down = 0;
    std::uint8_t attempts = 0;
};

/// A queue item is finished with: acknowledged, out of retries, or impossible to send (too large).
struct QueueItemRemoved {
    std::string id;
};

using Change = std::variant<UplinkCommit, JoinCommit, FCntDownReservation, QueueItemSent, QueueItemRemoved>;

/// What commit() did with each change, in order: applied, or refused because its condition no longer held.
enum class ChangeResult : std::uint8_t { applied, stale_counter, dev_nonce_reused, not_found };

/// Why a queue write was refused: starts with the field at fault, e.g. "f_port: 0 is reserved for MAC commands".
using QueueError = std::string;

class NsStore {
public:
    virtual ~NsStore() = default;

    /// Devices whose current session has `dev_addr` (several may share one), ordered by dev_eui.
    virtual std::vector<DeviceRecord> find_by_dev_addr(const lorawan::DevAddr& dev_addr) = 0;
    /// The device with `dev_eui`, with or without a session.
    virtual std::optional<DeviceRecord> find_device(const lorawan::Eui64& dev_eui) = 0;
    /// True when the store may have been changed by someone else (the CLI, the API, another process) since the
    /// last call: records read before must be read again.
    virtual bool changed_externally() = 0;
    /// True when `dev_addr` is the address of some session (to allocate unused addresses first).
    virtual bool dev_addr_in_use(const lorawan::DevAddr& dev_addr) = 0;

    /// Called inside the transaction once every change is applied, with their results, before it commits: the
    /// events of the batch are written beside its data there (EventSink::stage). Throwing rolls it all back.
    using BeforeCommit = std::function<void(const std::vector<ChangeResult>&)>;

    /// Applies `changes` in one transaction, durable when it returns. Throws when storage itself fails (or
    /// `before_commit` throws); nothing of the batch is then applied. With no changes and no hook it does nothing.
    virtual std::vector<ChangeResult> commit(const std::vector<Change>& changes,
                                             const BeforeCommit& before_commit = {}) = 0;

    // The downlink queue: the internal API behind MQTT command/down, the REST API and the CLI.

    /// Appends an item (a fresh id, created now); refused for an unknown device, f_port outside 1..223 or more
    /// than 242 bytes (the largest EU868 FRMPayload).
    virtual lorawan::Result<QueueItem, QueueError> enqueue(const lorawan::Eui64& dev_eui, std::uint8_t f_port,
                                                          lorawan::ByteView data, bool confirmed) = 0;
    /// The device's items in the order they go out.
    virtual std::vector<QueueItem> queue(const lorawan::Eui64& dev_eui) = 0;
    /// Removes every item of the device; returns how many.
    virtual std::size_t flush_queue(const lorawan::Eui64& dev_eui) = 0;
};

}  // namespace schwebe::ns
