#pragma once
// The REST API, /metrics and the dashboard's files behind the HTTP server (dashboards/http_server.hpp): what each
// request means. It runs on the API's own thread with its own SQLite connection; what belongs to the network
// server's thread (queueing a downlink, rendering the metrics, reloading codecs) goes there through the hooks.
//
// Reads need no token, except the token list; writes, and anything that touches keys, need
// `Authorization: Bearer <token>` of a token made by `schwebe token create` (stored hashed).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dashboards/http_server.hpp"
#include "integrations/sqlite/database.hpp"
#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"
#include "network-server/store.hpp"

namespace schwebe::app {

struct ApiHooks {
    /// Renders /metrics; calls `done` (on any thread) with the text.
    std::function<void(std::function<void(std::string)> done)> render_metrics;
    /// Queues a downlink where the network server counts it; unset: straight into the store.
    std::function<void(lorawan::Eui64 dev_eui, std::uint8_t f_port, lorawan::Bytes data, bool confirmed,
                       std::function<void(lorawan::Result<ns::QueueItem, ns::QueueError>)> done)>
        enqueue;
    /// A device profile was added: its codec should be loaded.
    std::function<void()> profiles_changed;
};

struct ApiOptions {
    std::chrono::seconds gateway_offline_after{300};
    std::chrono::milliseconds stream_poll{500};  ///< how often new uplinks are looked for while a stream is open
    std::size_t max_stream_clients = 64;
};

class Api {
public:
    /// `db` is the API thread's connection; `io` that thread's io_context.
    Api(boost::asio::io_context& io, sqlite::Database& db, ApiOptions options, ApiHooks hooks);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    void handle(const dashboards::Request& request, dashboards::Respond respond);
    /// Ends the live streams' polling (the server closes their connections).
    void stop();

    struct Counters {
        std::atomic<std::uint64_t> requests{0};
        std::atomic<std::uint64_t> client_errors{0};  ///< 4xx, authentication refusals among them
        std::atomic<std::uint64_t> unauthorized{0};   ///< 401 and 403
        std::atomic<std::uint64_t> server_errors{0};  ///< 5xx
        std::atomic<std::uint64_t> stream_events{0};
    };
    /// Read from any thread (the metrics gauges).
    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
    Counters counters_;
};

}  // namespace schwebe::app
