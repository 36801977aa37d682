#pragma once
// The HTTP server of `schwebe serve` (Boost.Beast): connections, limits and timeouts here; what a request means is
// the Handler's (dashboards/api.hpp), a plain function of a Request that answers through a callback, so that it
// can ask the network server's thread and answer later.
//
// Every wait has a deadline (request_timeout), every input a cap (max_body_bytes, header limit, max_connections);
// a request that breaks one gets its JSON error and the connection closes. stop() refuses new connections, lets
// the requests in flight answer, and closes idle and streaming connections.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace schwebe::dashboards {

struct Request {
    std::string method;   ///< "GET", "POST", …
    std::string target;   ///< as sent: path and query
    std::string path;     ///< percent-decoded, without the query
    std::map<std::string, std::string> query;  ///< decoded; a name given twice keeps the last value
    std::string body;
    std::string content_type;
    std::string authorization;
    std::string accept;
};

struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// A JSON error body, {"error": {"code": status, "message": …, "field": …}} (`field` only when one is at fault).
[[nodiscard]] Response error_response(unsigned status, const std::string& message, const std::string& field = {});

/// A server-sent events stream: the handler hands it to the connection, which writes each event as it comes.
/// Events beyond `max_queued` unsent ones close the stream (a client too slow to read loses its stream, never the
/// server its memory).
class EventStream {
public:
    virtual ~EventStream() = default;
    /// Queues `data` as one `data:` event (no line breaks in it). Call on the server's thread.
    virtual void send(const std::string& data) = 0;
    [[nodiscard]] virtual bool open() const = 0;
};

/// What a streaming request gets: called once with the stream (on the server's thread) after its headers went.
using StreamStart = std::function<void(std::shared_ptr<EventStream>)>;

struct Answer {
    Response response;
    StreamStart stream;  ///< set: the response is `text/event-stream` and stays open
};

using Respond = std::function<void(Answer)>;
/// Called on the server's thread; `respond` may be called later, but on the server's thread and at most once.
using Handler = std::function<void(const Request&, Respond)>;

struct HttpOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::size_t max_body_bytes = 16U << 20;
    std::size_t max_header_bytes = 16U << 10;
    std::size_t max_connections = 256;
    std::chrono::milliseconds request_timeout{30'000};  ///< reading a request, waiting for its answer, writing it
    std::chrono::milliseconds idle_timeout{60'000};     ///< a keep-alive connection between requests
    std::chrono::milliseconds stop_timeout{5'000};      ///< stop(): requests in flight get this long
    std::size_t max_queued_events = 1000;
};

class HttpServer {
public:
    /// Binds and listens (throws std::runtime_error naming the address when that fails). Serves on `io`'s threads.
    HttpServer(boost::asio::io_context& io, HttpOptions options, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();
    /// Graceful: no new connections; idle and streaming ones close now, the others after their answer (or at
    /// stop_timeout). `done` runs on the server's thread when every connection is closed.
    void stop(std::function<void()> done = {});
    [[nodiscard]] std::uint16_t port() const;

    struct Stats {
        std::uint64_t requests = 0;
        std::uint64_t refused = 0;       ///< malformed, too large, too slow, too many connections
        std::uint64_t connections = 0;   ///< open now
        std::uint64_t streams = 0;       ///< open event streams now
    };
    [[nodiscard]] Stats stats() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// Percent-decoding of a path or query component ('+' as space only in queries); nullopt for a broken escape.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool query);

}  // namespace schwebe::dashboards
