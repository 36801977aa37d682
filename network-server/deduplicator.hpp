#pragma once
// Deduplication of gateway copies (DESIGN.md, Processing rules): the same PHYPayload on the same frequency and
// modulation, heard by several gateways (or antennas), is one uplink. The first copy opens a window (200 ms by
// default); every copy inside it adds its rx metadata; when the window closes the set is processed once. Copies that
// arrive after that, within a cooldown (1 s), are late: dropped and counted, never processed again. Time is a
// parameter: the caller runs a timer on next_deadline().

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/messages.hpp"

namespace schwebe::ns {

/// One uplink with the reception of every gateway that heard it.
struct UplinkFrameSet {
    std::string deduplication_id;  ///< UUID, as ChirpStack's `deduplicationId`
    common::Bytes phy_payload;
    common::TxInfo tx_info;
    std::vector<common::RxInfo> rx_infos;  ///< in order of arrival
};

class Deduplicator {
public:
    using SteadyTime = std::chrono::steady_clock::time_point;

    struct Options {
        std::chrono::milliseconds window{200};
        std::chrono::milliseconds cooldown{1000};
        std::size_t max_pending = 100'000;  ///< frames collecting copies at once; beyond, new frames are refused
    };

    enum class Outcome : std::uint8_t {
        first_copy,  ///< opened a new set
        copy_added,  ///< joined the set of an earlier copy
        late_copy,   ///< its set was already processed: dropped
        overloaded,  ///< max_pending sets are open: dropped
    };

    explicit Deduplicator(Options options, std::uint64_t id_seed = std::random_device{}());

    Outcome add(common::UplinkFrame frame, SteadyTime now);
    /// Sets whose window has closed by `now`, in the order their first copies arrived.
    std::vector<UplinkFrameSet> take_ready(SteadyTime now);
    /// When the next window closes; nullopt when no set is open.
    [[nodiscard]] std::optional<SteadyTime> next_deadline() const;
    [[nodiscard]] std::size_t open_sets() const { return open_.size(); }

private:
    struct Key {
        common::Bytes phy_payload;
        std::uint32_t frequency_hz = 0;
        common::Modulation modulation;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };
    struct Open {
        UplinkFrameSet set;
        SteadyTime deadline;
    };

    void expire_recent(SteadyTime now);
    std::string new_id();

    Options options_;
    std::unordered_map<Key, Open, KeyHash> open_;
    std::deque<Key> open_order_;  // the window is the same for all, so arrival order is deadline order
    std::unordered_map<Key, SteadyTime, KeyHash> recent_;  // processed sets and when their cooldown ends
    std::deque<std::pair<Key, SteadyTime>> recent_order_;
    std::mt19937_64 rng_;
};

}  // namespace schwebe::ns
