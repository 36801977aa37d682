#include "dashboards/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <list>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/log.hpp"

namespace schwebe::dashboards {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

Response error_response(unsigned status, const std::string& message, const std::string& field) {
    nlohmann::json error{{"code", status}, {"message", message}};
    if (!field.empty()) error["field"] = field;
    Response r;
    r.status = status;
    r.body = nlohmann::json{{"error", error}}.dump();
    return r;
}

std::optional<std::string> percent_decode(std::string_view text, bool query) {
    std::string out;
    out.reserve(text.size());
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex(text[i + 1]);
            const int lo = hex(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && query) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

namespace {

/// Splits a request target into its decoded path and query; false for a broken escape.
bool parse_target(std::string_view target, Request& request) {
    const auto question = target.find('?');
    auto path = percent_decode(target.substr(0, question), false);
    if (!path) return false;
    request.path = std::move(*path);
    if (question == std::string_view::npos) return true;
    std::string_view rest = target.substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!name || !value) return false;
        request.query[*name] = std::move(*value);
    }
    return true;
}

}  // namespace

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
    asio::io_context& io;
    HttpOptions options;
    Handler handler;
    tcp::acceptor acceptor;
    std::list<std::weak_ptr<Session>> sessions;
    bool stopping = false;
    std::function<void()> on_stopped;
    asio::steady_timer stop_timer;
    Stats stats;

    Impl(asio::io_context& io_, HttpOptions o, Handler h)
        : io(io_), options(std::move(o)), handler(std::move(h)), acceptor(io_), stop_timer(io_) {}

    void accept();
    void session_closed();
    void maybe_done();
};

class Session final : public std::enable_shared_from_this<Session>, public EventStream {
public:
    Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
        : stream_(std::move(socket)), server_(std::move(server)) {}

    ~Session() override { server_->session_closed(); }

    void start() { do_read(); }

    /// Closes at once when idle or streaming; otherwise after the answer in flight.
    void shut_down() {
        closing_ = true;
        if (!busy_ || streaming_) close();
    }
    void close() {
        if (closed_) return;
        closed_ = true;
        if (streaming_) --server_->stats.streams;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

    // EventStream
    void send(const std::string& data) override {
        if (closed_ || !streaming_) return;
        if (events_.size() >= server_->options.max_queued_events) {
            log::warn("event stream closed: the client reads too slowly", {{"queued", events_.size()}});
            close();
            return;
        }
        events_.push_back("data: " + data + "\n\n");
        if (events_.size() == 1) write_event();
    }
    [[nodiscard]] bool open() const override { return !closed_ && streaming_; }

private:
    void do_read() {
        if (closing_) return close();
        parser_.emplace();
        parser_->body_limit(server_->options.max_body_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
        stream_.expires_after(first_ ? server_->options.request_timeout : server_->options.idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        first_ = false;
        if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || closed_) return close();
        if (ec) {
            if (ec == beast::error::timeout && buffer_.size() == 0 && !parser_->got_some()) return close();
            ++server_->stats.refused;
            unsigned status = 400;
            std::string message = "malformed request: " + ec.message();
            if (ec == http::error::body_limit) {
                status = 413;
                message = "request body larger than " + std::to_string(server_->options.max_body_bytes) + " bytes";
            } else if (ec == http::error::header_limit) {
                status = 431;
                message = "request headers larger than " + std::to_string(server_->options.max_header_bytes) + " bytes";
            } else if (ec == beast::error::timeout) {
                status = 408;
                message = "request not received within " +
                          std::to_string(server_->options.request_timeout.count()) + " ms";
            }
            keep_alive_ = false;
            return write(error_response(status, message), 11);
        }
        auto& req = parser_->get();
        ++server_->stats.requests;
        keep_alive_ = req.keep_alive();
        version_ = req.version();
        Request request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        if (!parse_target(std::string_view(request.target), request)) {
            return write(error_response(400, "malformed percent-escape in the request target"), version_);
        }
        request.body = std::move(req.body());
        request.content_type = std::string(req[http::field::content_type]);
        request.authorization = std::string(req[http::field::authorization]);
        request.accept = std::string(req[http::field::accept]);
        head_ = req.method() == http::verb::head;
        busy_ = true;
        stream_.expires_after(server_->options.request_timeout);
        // The handler may answer later (from another thread's work, posted back here): the answer keeps the
        // session alive until it is given or dropped; a connection closed meanwhile drops it (on_answer).
        auto answered = std::make_shared<bool>(false);
        try {
            server_->handler(request, [self = shared_from_this(), answered](Answer answer) {
                if (*answered) return;
                *answered = true;
                self->on_answer(std::move(answer));
            });
        } catch (const std::exception& e) {
            log::error("HTTP handler failed", {{"target", request.target}, {"error", e.what()}});
            if (!*answered) {
                *answered = true;
                on_answer(Answer{error_response(500, "internal error"), {}});
            }
        }
    }

    void on_answer(Answer answer) {
        if (closed_) return;
        if (answer.stream) {
            streaming_ = true;
            ++server_->stats.streams;
            stream_.expires_never();
            auto head = std::make_shared<std::string>(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n: stream open\n\n");
            asio::async_write(stream_, asio::buffer(*head),
                              [self = shared_from_this(), head, start = std::move(answer.stream)](
                                  beast::error_code ec, std::size_t) {
                                  if (ec) return self->close();
                                  if (self->closing_) return self->close();
                                  start(self);
                                  self->watch_for_close();
                              });
            return;
        }
        write(std::move(answer.response), version_);
    }

    /// A streaming client sends nothing more; a read that ends means it went away.
    void watch_for_close() {
        auto sink = std::make_shared<std::array<char, 256>>();
        stream_.socket().async_read_some(asio::buffer(*sink), [self = shared_from_this(), sink](beast::error_code ec,
                                                                                               std::size_t) {
            if (ec) return self->close();
            self->watch_for_close();
        });
    }

    void write_event() {
        if (closed_ || events_.empty()) return;
        asio::async_write(stream_.socket(), asio::buffer(events_.front()),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->events_.pop_front();
                              self->write_event();
                          });
    }

    void write(Response r, unsigned version) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
        res->set(http::field::server, "schwebe");
        res->set(http::field::content_type, r.content_type);
        res->set(http::field::cache_control, "no-store");
        for (const auto& [name, value] : r.headers) res->set(name, value);
        res->body() = std::move(r.body);
        res->keep_alive(keep_alive_ && !closing_ && !server_->stopping);
        res->prepare_payload();
        if (head_) res->body().clear();
        stream_.expires_after(server_->options.request_timeout);
        if (head_) {
            auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*res);
            http::async_write_header(stream_, *serializer,
                                     [self = shared_from_this(), res, serializer](beast::error_code ec, std::size_t) {
                                         self->on_write(ec, res->keep_alive());
                                     });
            return;
        }
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            self->on_write(ec, res->keep_alive());
        });
    }

    void on_write(beast::error_code ec, bool keep_alive) {
        busy_ = false;
        head_ = false;
        if (ec || !keep_alive) return close();
        do_read();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<HttpServer::Impl> server_;
    std::deque<std::string> events_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool busy_ = false;
    bool head_ = false;
    bool first_ = true;
    bool closing_ = false;
    bool closed_ = false;
    bool streaming_ = false;
};

void HttpServer::Impl::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopping) return;
        if (ec) {
            if (ec != asio::error::operation_aborted) {
                log::warn("HTTP accept failed", {{"error", ec.message()}});
                self->accept();
            }
            return;
        }
        std::erase_if(self->sessions, [](const auto& w) { return w.expired(); });
        if (self->stats.connections >= self->options.max_connections) {
            ++self->stats.refused;
            // One short answer, then the socket goes.
            auto body = std::make_shared<std::string>(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                "Retry-After: 1\r\nContent-Length: 77\r\n\r\n"
                "{\"error\":{\"code\":503,\"message\":\"too many connections, try again shortly\"}}\n");
            auto s = std::make_shared<tcp::socket>(std::move(socket));
            asio::async_write(*s, asio::buffer(*body), [s, body](beast::error_code, std::size_t) {
                beast::error_code ignored;
                s->shutdown(tcp::socket::shutdown_both, ignored);
                s->close(ignored);
            });
            self->accept();
            return;
        }
        ++self->stats.connections;
        auto session = std::make_shared<Session>(std::move(socket), self);
        self->sessions.push_back(session);
        session->start();
        self->accept();
    });
}

void HttpServer::Impl::session_closed() {
    --stats.connections;
    if (stopping) {
        // After the destructor of the session: posted so that the list no longer holds it.
        asio::post(io, [self = shared_from_this()] { self->maybe_done(); });
    }
}

void HttpServer::Impl::maybe_done() {
    if (!stopping || stats.connections > 0 || !on_stopped) return;
    stop_timer.cancel();
    auto done = std::move(on_stopped);
    on_stopped = nullptr;
    done();
}

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {
    const std::string where = impl_->options.host + ":" + std::to_string(impl_->options.port);
    try {
        const tcp::endpoint endpoint(asio::ip::make_address(impl_->options.host), impl_->options.port);
        impl_->acceptor.open(endpoint.protocol());
        impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
        impl_->acceptor.bind(endpoint);
        impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const std::exception& e) {
        throw std::runtime_error("api.bind: cannot listen on " + where + ": " + e.what());
    }
}

HttpServer::~HttpServer() {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& w : impl_->sessions) {
        if (auto s = w.lock()) s->close();
    }
}

void HttpServer::start() {
    impl_->accept();
}

void HttpServer::stop(std::function<void()> done) {
    auto& s = *impl_;
    s.stopping = true;
    s.on_stopped = done ? std::move(done) : [] {};
    beast::error_code ec;
    s.acceptor.close(ec);
    for (auto& w : s.sessions) {
        if (auto session = w.lock()) session->shut_down();
    }
    s.stop_timer.expires_after(s.options.stop_timeout);
    s.stop_timer.async_wait([impl = impl_](const beast::error_code& e) {
        if (e) return;
        for (auto& w : impl->sessions) {
            if (auto session = w.lock()) session->close();
        }
        if (impl->on_stopped) {
            auto finish = std::move(impl->on_stopped);
            impl->on_stopped = nullptr;
            finish();
        }
    });
    asio::post(s.io, [impl = impl_] { impl->maybe_done(); });
}

std::uint16_t HttpServer::port() const {
    beast::error_code ec;
    const auto endpoint = impl_->acceptor.local_endpoint(ec);
    return ec ? impl_->options.port : endpoint.port();
}

HttpServer::Stats HttpServer::stats() const {
    return impl_->stats;
}

}  // namespace schwebe::dashboards
