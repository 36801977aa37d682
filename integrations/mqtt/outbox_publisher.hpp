#pragma once
// Delivers the outbox to the broker: in id order, at least once, each message removed from the store only after
// the broker acknowledged it (QoS 1) or it was written to the connection (QoS 0).
//
//   committed batch ──offer()──► memory (when caught up) ─┐
//   store (after a restart, an outage, an overflow) ──────┴─► publish, at most `window` unacknowledged
//                                                              └─► acknowledged: remove from the store (batched)
//
// Order: one connection, publishes in id order; after a connection loss or a failed delivery everything not yet
// acknowledged is published again from the store, oldest first. So each device's events arrive in order, and a
// message can arrive twice only when its acknowledgement was lost with a connection.
//
// The client must be made with `buffer_while_disconnected = false`, so that Paho never sends on a new connection
// what was published on an old one behind this publisher's back.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/metrics.hpp"
#include "common/outbox.hpp"
#include "integrations/mqtt/mqtt_client.hpp"

namespace schwebe::mqtt {

using OutboxStore = common::OutboxStore;

struct OutboxPublisherOptions {
    std::size_t window = 1'000;        ///< published and not yet acknowledged, at most
    std::size_t read_batch = 500;      ///< messages read from the store at a time
    std::size_t memory_limit = 20'000; ///< committed messages kept in memory for the fast path
    std::size_t remove_batch = 500;    ///< acknowledged ids removed in one transaction...
    std::chrono::milliseconds remove_interval{20};  ///< ...or after this long
    /// Connected, with messages in flight and not one acknowledgement for this long: publish again from the store
    /// (a client that lost track of them must not stall the outbox for ever).
    std::chrono::milliseconds stall_timeout{10'000};
};

class OutboxPublisher {
public:
    /// Takes over the client's connection handler.
    OutboxPublisher(boost::asio::io_context& io, Client& client, OutboxStore& store, common::Metrics& metrics,
                    OutboxPublisherOptions options = {});
    OutboxPublisher(const OutboxPublisher&) = delete;
    OutboxPublisher& operator=(const OutboxPublisher&) = delete;

    /// Messages just committed to the store, in id order. Kept in memory when nothing older is waiting in the store
    /// (so the fast path never reads back what it has just written); otherwise left to be read from the store.
    void offer(std::vector<common::OutboxMessage> messages);
    /// Removes what was acknowledged so far (the rest stays in the store for the next start).
    void stop();

    struct Stats {
        std::uint64_t published = 0;
        std::uint64_t acknowledged = 0;
        std::uint64_t failed = 0;    ///< deliveries lost (a connection loss): published again
        std::uint64_t restarts = 0;  ///< times publishing started again from the store
        std::uint64_t read_from_store = 0;
        std::uint64_t stalls = 0;  ///< restarts because nothing was acknowledged for stall_timeout
    };
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t unacknowledged() const noexcept { return in_flight_.size(); }

private:
    void on_connection(bool connected);
    void restart();
    void pump();
    void on_done(std::uint64_t generation, std::int64_t id, bool delivered);
    void schedule_remove();
    void arm_watchdog();
    void remove_acknowledged();

    boost::asio::io_context& io_;
    Client& client_;
    OutboxStore& store_;
    OutboxPublisherOptions options_;
    boost::asio::steady_timer remove_timer_;
    boost::asio::steady_timer watchdog_;
    std::uint64_t progress_at_last_check_ = 0;
    bool remove_scheduled_ = false;
    bool stopped_ = false;

    std::uint64_t generation_ = 0;  ///< changes at each restart: older completions only count when delivered
    std::int64_t cursor_ = 0;       ///< every id below it was published in this generation (or acknowledged)
    /// True when `memory_` holds every stored message with id >= cursor_: publish from it, not from the store.
    bool memory_complete_ = false;
    std::deque<common::OutboxMessage> memory_;
    std::map<std::int64_t, bool> in_flight_;  ///< this generation's unacknowledged ids
    std::vector<std::int64_t> acknowledged_;  ///< to remove from the store
    Stats stats_;
    common::Counter& published_total_;
    common::Counter& acknowledged_total_;
    common::Counter& failed_total_;
};

}  // namespace schwebe::mqtt
