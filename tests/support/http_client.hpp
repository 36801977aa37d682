#pragma once
// A small HTTP/1.1 client over a real loopback TCP connection, for the tests of Schwebe's HTTP API: one request
// per connection (Connection: close), the answer read to its end. Written against the wire format, not Beast, so
// that a test sees the bytes the server really sends (status line, headers, chunked bodies).

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace schwebe::test {

struct HttpReply {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  ///< names in lower case
    std::string body;

    [[nodiscard]] nlohmann::json json() const {
        auto j = nlohmann::json::parse(body, nullptr, false);
        if (j.is_discarded()) throw std::runtime_error("answer is not JSON: " + body.substr(0, 200));
        return j;
    }
    [[nodiscard]] std::string header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

namespace detail {

inline std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline std::string dechunk(const std::string& body) {
    std::string out;
    std::size_t pos = 0;
    while (pos < body.size()) {
        const auto eol = body.find("\r\n", pos);
        if (eol == std::string::npos) throw std::runtime_error("chunked body without a size line end");
        const std::size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
        if (size == 0) break;
        out.append(body, eol + 2, size);
        pos = eol + 2 + size + 2;
    }
    return out;
}

}  // namespace detail

/// Sends `raw` as it is (a whole request, or deliberately a broken one) and reads the answer until the server
/// closes the connection. Blocking, with a receive time limit so that a server that never answers fails the test
/// instead of hanging it.
inline HttpReply http_raw(std::uint16_t port, const std::string& raw, int timeout_s = 30) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{timeout_s, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    boost::system::error_code ec;
    boost::asio::write(socket, boost::asio::buffer(raw), ec);  // the server may close early (413): read anyway
    std::string in;
    char buf[65536];
    for (;;) {
        const auto n = socket.read_some(boost::asio::buffer(buf), ec);
        in.append(buf, n);
        if (ec) break;
    }
    if (ec != boost::asio::error::eof && ec != boost::asio::error::connection_reset && in.empty()) {
        throw std::runtime_error("no HTTP answer: " + ec.message());
    }
    HttpReply reply;
    const auto head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) throw std::runtime_error("no complete HTTP head in: " + in.substr(0, 200));
    const std::string head = in.substr(0, head_end);
    const auto first_eol = head.find("\r\n");
    const std::string status_line = head.substr(0, first_eol);
    if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
        throw std::runtime_error("bad status line: " + status_line);
    }
    reply.status = static_cast<unsigned>(std::stoul(status_line.substr(9, 3)));
    std::size_t pos = first_eol == std::string::npos ? head.size() : first_eol + 2;
    while (pos < head.size()) {
        auto eol = head.find("\r\n", pos);
        if (eol == std::string::npos) eol = head.size();
        const std::string line = head.substr(pos, eol - pos);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            reply.headers[detail::lower(line.substr(0, colon))] = value;
        }
        pos = eol + 2;
    }
    reply.body = in.substr(head_end + 4);
    if (detail::lower(reply.header("transfer-encoding")) == "chunked") reply.body = detail::dechunk(reply.body);
    return reply;
}

inline HttpReply http(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body = {}, const std::vector<std::string>& headers = {}) {
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& h : headers) raw += h + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT") raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    return http_raw(port, raw);
}

}  // namespace schwebe::test
