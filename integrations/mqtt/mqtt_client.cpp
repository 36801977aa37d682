#include "integrations/mqtt/mqtt_client.hpp"

#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <mqtt/async_client.h>
#include <boost/asio/post.hpp>

#include "common/log.hpp"

namespace schwebe::mqtt {

namespace {

/// Paho hands a listener the token, and the token the context pointer given with the request: the request's id
/// travels in it (never dereferenced).
void* context_of(std::uint64_t id) noexcept {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));  // NOLINT(performance-no-int-to-ptr)
}
std::uint64_t id_of(void* context) noexcept {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(context));
}

/// Forwards Paho's completion of a request (on a Paho thread) to a function that must only post.
class Listener final : public ::mqtt::iaction_listener {
public:
    using Fn = std::function<void(std::uint64_t id, bool ok)>;
    void set(Fn fn) { fn_ = std::move(fn); }
    void on_success(const ::mqtt::token& t) override { fn_(id_of(t.get_user_context()), true); }
    void on_failure(const ::mqtt::token& t) override { fn_(id_of(t.get_user_context()), false); }

private:
    Fn fn_;
};

std::string random_client_id() {
    std::random_device rd;
    std::uniform_int_distribution<int> nibble(0, 15);
    std::string id = "schwebe-";
    for (int i = 0; i < 12; ++i) id += "0123456789abcdef"[nibble(rd)];
    return id;
}

bool is_tls_uri(std::string_view uri) {
    return uri.starts_with("ssl://") || uri.starts_with("mqtts://");
}

/// A topic to publish on: not empty, no wildcards (MQTT 3.1.1 §4.7.1), no NUL.
bool valid_topic_name(std::string_view topic) {
    return !topic.empty() && topic.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos;
}

/// User handlers run inside Asio handlers, and an exception must not escape into Asio (STYLE.md habit 4): it is
/// counted and logged here.
void call_guarded(std::uint64_t& errors, std::string_view what, const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        ++errors;
        log::error("mqtt handler threw", {{"handler", what}, {"error", e.what()}});
    } catch (...) {
        ++errors;
        log::error("mqtt handler threw", {{"handler", what}});
    }
}

}  // namespace

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
    if (filter.starts_with("$share/")) {
        // $share/{group}/{filter}: the group is a broker matter, the filter is what topics match.
        const auto group_end = filter.find('/', 7);
        if (group_end == std::string_view::npos) return false;
        filter.remove_prefix(group_end + 1);
    }
    // MQTT 3.1.1 §4.7.2: wildcards at the first level do not match topics that start with '$'.
    if (topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#'))) return false;
    while (true) {
        const auto f_end = filter.find('/');
        const auto t_end = topic.find('/');
        const std::string_view f_level = filter.substr(0, f_end);
        const std::string_view t_level = topic.substr(0, t_end);
        if (f_level == "#") return true;  // also matches the parent level: "a/#" matches "a"
        if (f_level != "+" && f_level != t_level) return false;
        if (f_end == std::string_view::npos || t_end == std::string_view::npos) {
            if (f_end == std::string_view::npos && t_end == std::string_view::npos) return true;
            // the topic ended, the filter did not: only "/#" may follow
            return t_end == std::string_view::npos && filter.substr(f_end + 1) == "#";
        }
        filter.remove_prefix(f_end + 1);
        topic.remove_prefix(t_end + 1);
    }
}

struct Client::Impl : std::enable_shared_from_this<Impl> {
    struct Subscription {
        int qos = 1;
        std::shared_ptr<MessageHandler> handler;  // shared: a dispatch in progress keeps it alive
        DoneHandler on_subscribed;                // called once, then empty
    };
    struct SubscribeRequest {
        std::string filter;
        std::uint64_t session = 0;
    };

    Impl(boost::asio::io_context& io_context, Options opts) : io(io_context), options(std::move(opts)) {
        if (options.client_id.empty()) options.client_id = random_client_id();
        ::mqtt::create_options create(MQTTVERSION_3_1_1);
        // Paho buffers publishes while disconnected, also before the first connection; the bound is ours too
        // (see publish()), so Paho's own refusal is only a backstop.
        create.set_send_while_disconnected(options.buffer_while_disconnected, options.buffer_while_disconnected);
        create.set_max_buffered_messages(options.max_buffered_messages);
        create.set_delete_oldest_messages(false);
        try {
            cli = std::make_unique<::mqtt::async_client>(options.server_uri, options.client_id, create);
        } catch (const ::mqtt::exception& e) {
            throw std::invalid_argument("mqtt: cannot use server " + options.server_uri + ": " + e.what());
        }

        connect_options.set_mqtt_version(MQTTVERSION_3_1_1);
        connect_options.set_clean_session(options.clean_session);
        connect_options.set_keep_alive_interval(options.keep_alive);
        connect_options.set_connect_timeout(options.connect_timeout);
        connect_options.set_automatic_reconnect(options.reconnect_min, options.reconnect_max);
        connect_options.set_max_inflight(options.max_inflight);
        if (options.username) connect_options.set_user_name(*options.username);
        if (options.password) connect_options.set_password(*options.password);
        if (is_tls_uri(options.server_uri)) {
            ::mqtt::ssl_options ssl;
            if (!options.tls.ca_file.empty()) ssl.set_trust_store(options.tls.ca_file);
            if (!options.tls.cert_file.empty()) ssl.set_key_store(options.tls.cert_file);
            if (!options.tls.key_file.empty()) ssl.set_private_key(options.tls.key_file);
            ssl.set_enable_server_cert_auth(options.tls.verify_server);
            ssl.set_verify(options.tls.verify_server);
            connect_options.set_ssl(std::move(ssl));
        }
    }

    ~Impl() {
        if (!stopped) shut_down(false);
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    /// Wires Paho's callbacks. They run on Paho threads and only post; what they post holds a weak pointer, so it
    /// does nothing once the client is gone.
    void wire() {
        const std::weak_ptr<Impl> weak = weak_from_this();
        auto& ctx = io;
        // Completions arrive one per message, thousands a second: they are queued and handed over in batches, one
        // post (one wake-up of the io_context's thread) for all that arrive before the thread gets to them.
        publish_listener.set([weak, &ctx](std::uint64_t id, bool ok) {
            const auto self = weak.lock();
            if (!self) return;
            bool first = false;
            {
                const std::lock_guard lock(self->completions_mutex);
                first = self->completions.empty();
                self->completions.emplace_back(id, ok);
            }
            if (!first) return;
            boost::asio::post(ctx, [weak] {
                const auto me = weak.lock();
                if (!me) return;
                std::vector<std::pair<std::uint64_t, bool>> batch;
                {
                    const std::lock_guard lock(me->completions_mutex);
                    batch.swap(me->completions);
                }
                for (const auto& [done_id, done_ok] : batch) me->on_publish_done(done_id, done_ok);
            });
        });
        subscribe_listener.set([weak, &ctx](std::uint64_t id, bool ok) {
            boost::asio::post(ctx, [weak, id, ok] {
                if (auto self = weak.lock()) self->on_subscribe_done(id, ok);
            });
        });
        connect_listener.set([weak, &ctx](std::uint64_t, bool ok) {
            if (ok) return;  // success is reported by the connected handler, reconnects included
            boost::asio::post(ctx, [weak] {
                if (auto self = weak.lock()) self->on_connect_failed();
            });
        });
        cli->set_connected_handler([weak, &ctx](const std::string&) {
            boost::asio::post(ctx, [weak] {
                if (auto self = weak.lock()) self->on_connected();
            });
        });
        cli->set_connection_lost_handler([weak, &ctx](const std::string& cause) {
            boost::asio::post(ctx, [weak, cause] {
                if (auto self = weak.lock()) self->on_connection_lost(cause);
            });
        });
        // `this` is safe here: Paho calls this only while `cli`, a member, exists.
        cli->set_message_callback([this, weak, &ctx](::mqtt::const_message_ptr msg) {
            if (inbound_queued.fetch_add(1, std::memory_order_relaxed) >= options.max_inbound_queue) {
                inbound_queued.fetch_sub(1, std::memory_order_relaxed);
                inbound_dropped.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            boost::asio::post(ctx, [weak, msg = std::move(msg)] {
                if (auto self = weak.lock()) self->on_message(*msg);
            });
        });
    }

    // --- on the io_context ---------------------------------------------------------------------------------------

    void start() {
        if (started || stopped) return;
        started = true;
        log::info("mqtt connecting", {{"server", options.server_uri}, {"client_id", options.client_id}});
        try {
            cli->connect(connect_options, nullptr, connect_listener);
        } catch (const ::mqtt::exception& e) {
            // Only options Paho refuses get here (the broker being down does not): nothing will connect.
            ++stats.connect_failures;
            log::error("mqtt cannot connect", {{"server", options.server_uri}, {"error", e.what()}});
        }
    }

    void on_connect_failed() {
        ++stats.connect_failures;
        log::warn("mqtt connect failed, retrying", {{"server", options.server_uri}});
    }

    void on_connected() {
        if (stopped) return;
        ++stats.connects;
        ++session;
        session_up = true;
        awaiting_suback.clear();
        log::info("mqtt connected", {{"server", options.server_uri}, {"subscriptions", subscriptions.size()}});
        // A clean session starts without subscriptions: make every one again, and report the connection once
        // the broker has answered them all, so that "connected" means "receiving".
        for (const auto& [filter, sub] : subscriptions) {
            if (const auto id = send_subscribe(filter, sub.qos)) awaiting_suback.insert(*id);
        }
        if (awaiting_suback.empty()) set_ready(true);
    }

    void on_connection_lost(const std::string& cause) {
        if (stopped) return;
        ++stats.connections_lost;
        ++session;
        session_up = false;
        awaiting_suback.clear();
        log::warn("mqtt connection lost", {{"server", options.server_uri}, {"cause", cause}});
        set_ready(false);
    }

    void set_ready(bool up) {
        if (ready == up) return;
        ready = up;
        if (connection_handler) call_guarded(stats.handler_errors, "connection", [&] { connection_handler(up); });
    }

    /// The request id, or nullopt when Paho refused it at once (the next reconnect tries again).
    std::optional<std::uint64_t> send_subscribe(const std::string& filter, int qos) {
        const std::uint64_t id = ++next_id;
        subscribe_requests[id] = SubscribeRequest{filter, session};
        try {
            cli->subscribe(filter, qos, context_of(id), subscribe_listener);
            return id;
        } catch (const ::mqtt::exception& e) {
            subscribe_requests.erase(id);
            ++stats.subscribe_failures;
            log::warn("mqtt subscribe refused", {{"filter", filter}, {"error", e.what()}});
            return std::nullopt;
        }
    }

    void on_subscribe_done(std::uint64_t id, bool ok) {
        const auto it = subscribe_requests.find(id);
        if (it == subscribe_requests.end()) return;
        const SubscribeRequest request = std::move(it->second);
        subscribe_requests.erase(it);
        if (!ok) {
            ++stats.subscribe_failures;
            log::warn("mqtt subscribe failed", {{"filter", request.filter}});
        }
        if (const auto sub = subscriptions.find(request.filter);
            sub != subscriptions.end() && sub->second.on_subscribed) {
            auto done = std::exchange(sub->second.on_subscribed, nullptr);
            call_guarded(stats.handler_errors, "subscribed", [&] { done(ok); });
        }
        if (request.session == session && awaiting_suback.erase(id) == 1 && awaiting_suback.empty()) set_ready(true);
    }

    void subscribe(const std::string& filter, int qos, MessageHandler handler, DoneHandler on_subscribed) {
        auto& sub = subscriptions[filter];
        sub.qos = qos;
        sub.handler = std::make_shared<MessageHandler>(std::move(handler));
        sub.on_subscribed = std::move(on_subscribed);
        // Not yet connected (or the connection is not yet reported): on_connected() subscribes it.
        if (session_up && !stopped) send_subscribe(filter, qos);
    }

    void unsubscribe(const std::string& filter) {
        if (subscriptions.erase(filter) == 0) return;
        if (!session_up || stopped) return;
        try {
            cli->unsubscribe(filter);
        } catch (const ::mqtt::exception& e) {
            log::warn("mqtt unsubscribe refused", {{"filter", filter}, {"error", e.what()}});
        }
    }

    bool publish(std::string topic, std::string payload, int qos, bool retained, DoneHandler on_done) {
        if (stopped || !valid_topic_name(topic) || qos < 0 || qos > 2 ||
            pending.size() >= static_cast<std::size_t>(options.max_buffered_messages) ||
            (!options.buffer_while_disconnected && !session_up)) {
            ++stats.publish_rejected;
            return false;
        }
        const std::uint64_t id = ++next_id;
        pending.emplace(id, std::move(on_done));
        try {
            auto msg = ::mqtt::make_message(std::move(topic), std::move(payload), qos, retained);
            cli->publish(std::move(msg), context_of(id), publish_listener);
        } catch (const ::mqtt::exception& e) {
            pending.erase(id);
            ++stats.publish_rejected;
            log::warn("mqtt publish refused", {{"error", e.what()}});
            return false;
        }
        ++stats.published;
        return true;
    }

    void on_publish_done(std::uint64_t id, bool ok) {
        const auto it = pending.find(id);
        if (it == pending.end()) return;  // completed already (by stop())
        DoneHandler done = std::move(it->second);
        pending.erase(it);
        ++(ok ? stats.delivered : stats.delivery_failed);
        if (done) call_guarded(stats.handler_errors, "publish", [&] { done(ok); });
    }

    void on_message(const ::mqtt::message& msg) {
        inbound_queued.fetch_sub(1, std::memory_order_relaxed);
        if (stopped) return;
        const std::string& topic = msg.get_topic();
        std::vector<std::shared_ptr<MessageHandler>> handlers;
        for (const auto& [filter, sub] : subscriptions) {
            if (topic_matches(filter, topic)) handlers.push_back(sub.handler);
        }
        if (handlers.empty()) return;
        ++stats.received;
        const Message m{topic, msg.get_payload_str(), msg.get_qos(), msg.is_retained()};
        for (const auto& h : handlers) call_guarded(stats.handler_errors, "message", [&] { (*h)(m); });
    }

    /// `notify`: complete pending publishes with false and report the disconnection (posted); a destructor does not.
    void shut_down(bool notify) {
        if (stopped) return;
        stopped = true;
        try {
            // Also ends Paho's reconnect attempts when not connected (Paho then answers "disconnected").
            auto token = cli->disconnect(static_cast<int>(options.stop_timeout.count()));
            token->wait_for(options.stop_timeout + std::chrono::milliseconds(500));
        } catch (const ::mqtt::exception&) {
            // Not connected: nothing to wait for.
        }
        try {
            cli->disable_callbacks();
        } catch (const ::mqtt::exception&) {
            // Paho refuses while a (re)connect is in progress. What its callbacks still post finds `stopped` set,
            // or the client gone, and does nothing.
        }
        session_up = false;
        log::info("mqtt stopped", {{"server", options.server_uri}, {"pending", pending.size()}});
        if (!notify) return;
        const bool was_ready = std::exchange(ready, false);
        // Posted behind the completions Paho posted while it disconnected (the io_context runs them in order), so
        // that a message the broker acknowledged during the disconnect completes with true, and only what is still
        // pending then with false.
        boost::asio::post(io, [weak = weak_from_this(), was_ready] {
            auto self = weak.lock();
            if (!self) return;
            std::vector<DoneHandler> undelivered;
            for (auto& [id, done] : self->pending) undelivered.push_back(std::move(done));
            self->stats.delivery_failed += self->pending.size();
            self->pending.clear();
            for (const auto& done : undelivered) {
                if (done) call_guarded(self->stats.handler_errors, "publish", [&] { done(false); });
            }
            if (was_ready && self->connection_handler) {
                call_guarded(self->stats.handler_errors, "connection", [&] { self->connection_handler(false); });
            }
        });
    }

    boost::asio::io_context& io;
    Options options;
    ::mqtt::connect_options connect_options;
    Stats stats;
    ConnectionHandler connection_handler;

    std::map<std::string, Subscription> subscriptions;
    std::map<std::uint64_t, SubscribeRequest> subscribe_requests;
    std::set<std::uint64_t> awaiting_suback;       // this session's re-subscriptions not yet acknowledged
    std::map<std::uint64_t, DoneHandler> pending;  // publishes accepted, not yet completed
    std::mutex completions_mutex;                     // Paho's threads append, the io_context's thread takes
    std::vector<std::pair<std::uint64_t, bool>> completions;
    std::uint64_t next_id = 0;
    std::uint64_t session = 0;  // counts connections and losses: answers from an older connection are stale
    bool started = false;
    bool stopped = false;
    bool session_up = false;  // Paho reported the connection (subscriptions may still be on their way)
    bool ready = false;       // reported to the connection handler

    std::atomic<std::size_t> inbound_queued{0};
    std::atomic<std::uint64_t> inbound_dropped{0};

    // The listeners are declared before the client: Paho may call them until `cli` is destroyed.
    Listener publish_listener;
    Listener subscribe_listener;
    Listener connect_listener;
    std::unique_ptr<::mqtt::async_client> cli;
};

Client::Client(boost::asio::io_context& io, Options options) : impl_(std::make_shared<Impl>(io, std::move(options))) {
    impl_->wire();
}

Client::~Client() {
    impl_->shut_down(false);
}

void Client::start() {
    impl_->start();
}
void Client::stop() {
    impl_->shut_down(true);
}

void Client::subscribe(const std::string& filter, int qos, MessageHandler handler, DoneHandler on_subscribed) {
    impl_->subscribe(filter, qos, std::move(handler), std::move(on_subscribed));
}

void Client::unsubscribe(const std::string& filter) {
    impl_->unsubscribe(filter);
}

bool Client::publish(std::string topic, std::string payload, int qos, bool retained, DoneHandler on_done) {
    return impl_->publish(std::move(topic), std::move(payload), qos, retained, std::move(on_done));
}

bool Client::connected() const noexcept {
    return impl_->ready;
}
void Client::set_connection_handler(ConnectionHandler handler) {
    impl_->connection_handler = std::move(handler);
}
const Options& Client::options() const noexcept {
    return impl_->options;
}

Stats Client::stats() const noexcept {
    Stats s = impl_->stats;
    s.inbound_dropped = impl_->inbound_dropped.load(std::memory_order_relaxed);
    return s;
}

}  // namespace schwebe::mqtt
