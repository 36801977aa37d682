#include "integrations/mqtt/outbox_publisher.hpp"

#include <algorithm>
#include <utility>

#include "common/log.hpp"

namespace schwebe::mqtt {

OutboxPublisher::OutboxPublisher(boost::asio::io_context& io, Client& client, OutboxStore& store,
                                 common::Metrics& metrics, OutboxPublisherOptions options)
    : io_(io),
      client_(client),
      store_(store),
      options_(options),
      remove_timer_(io),
      watchdog_(io),
      published_total_(metrics.counter("schwebe_mqtt_outbox_published_total", "outbox messages published")),
      acknowledged_total_(
          metrics.counter("schwebe_mqtt_outbox_acknowledged_total", "outbox messages acknowledged by the broker")),
      failed_total_(metrics.counter("schwebe_mqtt_outbox_failed_total",
                                    "outbox deliveries lost with a connection, published again")) {
    // Paho holds back what is published beyond its own in-flight limit until a timer of its own fires: keep the
    // window inside that limit.
    options_.window = std::min<std::size_t>(options_.window,
                                            static_cast<std::size_t>(std::max(1, client_.options().max_inflight)));
    client_.set_connection_handler([this](bool connected) { on_connection(connected); });
    arm_watchdog();
}

void OutboxPublisher::on_connection(bool connected) {
    if (stopped_) return;
    if (connected) {
        log::info("mqtt outbox publishing", {{"server", client_.options().server_uri}});
        restart();
    } else {
        // What is in flight may or may not have arrived: it is published again, from the store, on the next
        // connection. Late acknowledgements still remove their messages.
        ++generation_;
        in_flight_.clear();
        memory_.clear();
        memory_complete_ = false;
    }
}

void OutboxPublisher::restart() {
    ++stats_.restarts;
    ++generation_;
    in_flight_.clear();
    memory_.clear();
    memory_complete_ = false;
    // Acknowledged messages must be gone from the store before it is read again from the start.
    remove_acknowledged();
    cursor_ = 0;
    pump();
}

void OutboxPublisher::offer(std::vector<common::OutboxMessage> messages) {
    if (stopped_ || messages.empty()) return;
    if (memory_complete_) {
        if (memory_.size() + messages.size() > options_.memory_limit) {
            // Too far behind (a slow broker): let the store hold them and read them back when there is room.
            memory_.clear();
            memory_complete_ = false;
        } else {
            for (auto& m : messages) memory_.push_back(std::move(m));
        }
    }
    pump();
}

void OutboxPublisher::pump() {
    while (!stopped_ && client_.connected() && in_flight_.size() < options_.window) {
        if (memory_.empty()) {
            if (memory_complete_) return;  // nothing waiting
            std::vector<common::OutboxMessage> batch;
            try {
                batch = store_.read_outbox(cursor_, options_.read_batch);
            } catch (const std::exception& e) {
                log::error("outbox read failed", {{"error", e.what()}});
                return;  // tried again at the next offer or connection
            }
            ++stats_.read_from_store;
            // Fewer than asked: the store has nothing newer, so from now on committed messages are all offered.
            memory_complete_ = batch.size() < options_.read_batch;
            for (auto& m : batch) memory_.push_back(std::move(m));
            if (memory_.empty()) return;
        }
        common::OutboxMessage& message = memory_.front();
        if (message.id < cursor_) {  // already published in this generation
            memory_.pop_front();
            continue;
        }
        const std::int64_t id = message.id;
        const std::uint64_t generation = generation_;
        const bool accepted =
            client_.publish(std::move(message.topic), std::move(message.payload), message.qos, message.retained,
                            [this, generation, id](bool delivered) { on_done(generation, id, delivered); });
        if (!accepted) {
            if (client_.connected() && in_flight_.size() < static_cast<std::size_t>(client_.options().max_buffered_messages)) {
                // Connected and with room, so the client refused the message itself (an invalid topic): it would
                // block every message behind it for ever. Dropped, loudly.
                log::error("outbox message refused by the MQTT client, dropped",
                           {{"id", id}, {"dev_eui", message.dev_eui}});
                memory_.pop_front();
                acknowledged_.push_back(id);
                schedule_remove();
                continue;
            }
            // Disconnected (the handler has not said so yet): start over from the store once the connection is
            // back.
            memory_.clear();
            memory_complete_ = false;
            return;
        }
        memory_.pop_front();
        in_flight_.emplace(id, true);
        cursor_ = id + 1;
        ++stats_.published;
        published_total_.inc();
    }
}

void OutboxPublisher::on_done(std::uint64_t generation, std::int64_t id, bool delivered) {
    if (delivered) {
        ++stats_.acknowledged;
        acknowledged_total_.inc();
        acknowledged_.push_back(id);
        if (acknowledged_.size() >= options_.remove_batch) {
            remove_acknowledged();
        } else {
            schedule_remove();
        }
    } else {
        ++stats_.failed;
        failed_total_.inc();
    }
    if (generation != generation_) return;
    in_flight_.erase(id);
    if (!delivered && !stopped_) {
        // A lost delivery in the current connection: everything after it goes again, in order.
        if (client_.connected()) {
            restart();
        } else {
            on_connection(false);
        }
        return;
    }
    pump();
}

void OutboxPublisher::schedule_remove() {
    if (remove_scheduled_ || stopped_) return;
    remove_scheduled_ = true;
    remove_timer_.expires_after(options_.remove_interval);
    remove_timer_.async_wait([this](const boost::system::error_code& ec) {
        remove_scheduled_ = false;
        if (!ec) remove_acknowledged();
    });
}

void OutboxPublisher::remove_acknowledged() {
    if (acknowledged_.empty()) return;
    try {
        store_.remove_outbox(acknowledged_);
        acknowledged_.clear();
    } catch (const std::exception& e) {
        // Kept: removed at the next try. Until then a restart would publish them again (at least once).
        log::error("outbox removal failed", {{"error", e.what()}, {"messages", acknowledged_.size()}});
        schedule_remove();
    }
}

void OutboxPublisher::arm_watchdog() {
    watchdog_.expires_after(options_.stall_timeout);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        const std::uint64_t progress = stats_.acknowledged + stats_.failed;
        if (client_.connected() && !in_flight_.empty() && progress == progress_at_last_check_) {
            ++stats_.stalls;
            log::warn("mqtt outbox stalled: publishing again from the store",
                      {{"in_flight", in_flight_.size()}, {"stall_timeout_ms", options_.stall_timeout.count()}});
            restart();
        }
        progress_at_last_check_ = stats_.acknowledged + stats_.failed;
        arm_watchdog();
    });
}

void OutboxPublisher::stop() {
    stopped_ = true;
    watchdog_.cancel();
    remove_timer_.cancel();
    remove_acknowledged();
}

}  // namespace schwebe::mqtt
