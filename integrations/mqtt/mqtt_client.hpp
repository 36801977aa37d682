#pragma once
/// An asynchronous MQTT 3.1.1 client over Paho MQTT C++, shaped for one io_context (STYLE.md habit 6).
///
/// Paho runs its own threads; they never touch Schwebe state. Each Paho callback only posts a small closure onto
/// the io_context, so every user callback (message handlers, publish completions, the connection handler) runs
/// there, in the order Paho reported the events. The client's own methods are meant to be called on the
/// io_context's thread as well, like an Asio socket's.
///
/// Bounds, and what happens at each:
/// - publishes accepted and not yet completed (buffered while disconnected, queued, or in flight):
///   `max_buffered_messages`; beyond it publish() returns false and nothing is queued;
/// - messages received from the broker and not yet handled on the io_context: `max_inbound_queue`; beyond it a
///   message is dropped and counted in Stats::inbound_dropped (Paho has acknowledged it already: QoS 1 is
///   at-least-once towards this client, not towards its handlers, when the io_context falls that far behind);
/// - QoS 1 messages in flight on the connection: `max_inflight` (Paho queues the rest).
///
/// When the broker is down, start() still returns at once; Paho keeps connecting with a back-off between
/// `reconnect_min` and `reconnect_max`, publishes wait in the bounded buffer and go out, in order, once the
/// connection is up; subscriptions are made again after every (re)connect.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace schwebe::mqtt {

/// TLS material, used when the server URI is `ssl://` or `mqtts://`. Empty paths are left out (the system's
/// trust store is used when `ca_file` is empty).
struct TlsOptions {
    std::string ca_file;
    std::string cert_file;  ///< client certificate (PEM), for brokers that authenticate clients by certificate
    std::string key_file;   ///< its private key (PEM)
    bool verify_server = true;
};

struct Options {
    std::string server_uri = "tcp://127.0.0.1:1883";
    std::string client_id;  ///< empty: "schwebe-" and 12 random hex digits
    std::optional<std::string> username;
    std::optional<std::string> password;
    TlsOptions tls;
    int qos = 1;  ///< what callers publish and subscribe with unless they say otherwise
    std::chrono::seconds keep_alive{30};
    bool clean_session = true;
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds reconnect_min{1};
    std::chrono::seconds reconnect_max{30};
    int max_inflight = 100;
    int max_buffered_messages = 10'000;
    /// false: publish() refuses while disconnected, and nothing published before a connection loss is sent again
    /// on the next connection (the outbox publisher resends from its own store, in order, instead).
    bool buffer_while_disconnected = true;
    std::size_t max_inbound_queue = 10'000;
    std::chrono::milliseconds stop_timeout{2'000};  ///< how long stop() lets in-flight messages finish
};

struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retained = false;
};

/// What the client has done since it was made.
struct Stats {
    std::uint64_t connects = 0;          ///< successful connections, the first and every reconnect
    std::uint64_t connect_failures = 0;  ///< connection attempts that failed (Paho keeps trying)
    std::uint64_t connections_lost = 0;
    std::uint64_t published = 0;         ///< publishes accepted
    std::uint64_t delivered = 0;         ///< acknowledged by the broker (QoS 1) or written (QoS 0)
    std::uint64_t delivery_failed = 0;   ///< lost with the connection, refused, or still pending at stop()
    std::uint64_t publish_rejected = 0;  ///< publish() returned false: buffer full, stopped, or invalid
    std::uint64_t received = 0;          ///< messages handed to subscription handlers
    std::uint64_t inbound_dropped = 0;   ///< received while the inbound queue was full
    std::uint64_t subscribe_failures = 0;
    std::uint64_t handler_errors = 0;  ///< exceptions thrown by user handlers, caught here
};

/// True when `topic` matches the subscription `filter` (MQTT 3.1.1 §4.7: `+` one level, `#` the rest; topics
/// starting with `$` match no filter starting with a wildcard). A `$share/{group}/` prefix is ignored.
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

class Client {
public:
    using MessageHandler = std::function<void(const Message&)>;
    /// `delivered`: acknowledged by the broker (QoS 1), written to the connection (QoS 0); false when it was lost.
    using DoneHandler = std::function<void(bool delivered)>;
    /// true once connected and every subscription is acknowledged; false when the connection is lost.
    using ConnectionHandler = std::function<void(bool connected)>;

    /// Throws std::invalid_argument for options Paho refuses (a malformed URI, an unknown scheme): a start-up
    /// error. Nothing connects before start().
    Client(boost::asio::io_context& io, Options options);
    /// Stops (see stop()), without calling any handler.
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Starts connecting in the background and returns at once. Once only: a client is not restarted after stop().
    void start();
    /// Disconnects, letting in-flight messages finish for at most `stop_timeout`; blocks for at most that long.
    /// Publishes not delivered by then complete with false (posted, so after stop() returns). Final.
    void stop();

    /// Remembers the subscription and makes it now if connected, and again after every reconnect. A second
    /// subscribe() with the same filter replaces the handler. `on_subscribed` (optional) is called once, with the
    /// broker's first answer to it.
    void subscribe(const std::string& filter, int qos, MessageHandler handler, DoneHandler on_subscribed = {});
    /// Forgets the subscription: no handler is called for it any more, even for messages already received.
    void unsubscribe(const std::string& filter);

    /// Queues a message. False when it cannot be accepted (buffer full, stopped, invalid topic): `on_done` is then
    /// never called. Otherwise `on_done` (optional) is called exactly once on the io_context.
    [[nodiscard]] bool publish(std::string topic, std::string payload, int qos, bool retained,
                               DoneHandler on_done = {});

    /// As the connection handler last reported it.
    [[nodiscard]] bool connected() const noexcept;
    void set_connection_handler(ConnectionHandler handler);

    [[nodiscard]] const Options& options() const noexcept;
    [[nodiscard]] Stats stats() const noexcept;

private:
    struct Impl;
    // Shared, and watched through weak pointers by what Paho posts: a completion that arrives after the client is
    // gone finds nothing and does nothing.
    std::shared_ptr<Impl> impl_;
};

}  // namespace schwebe::mqtt
