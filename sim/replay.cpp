#include "sim/replay.hpp"

#include <boost/asio/steady_timer.hpp>
#include <array>
#include <fstream>
#include <stdexcept>

namespace schwebe::sim {

namespace asio = boost::asio;
using udp = asio::ip::udp;

CaptureFile read_capture_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    CaptureFile file;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        auto record = bridge::parse_capture_line(line);
        if (!record) {
            file.problems.push_back("line " + std::to_string(number) + ": " + record.error());
            continue;
        }
        if (*record) file.records.push_back(std::move(**record));
    }
    return file;
}

namespace {

/// One original sender: a socket, and the gateway it spoke for (the EUI its TX_ACKs carry).
struct Sender {
    Sender(asio::io_context& io, const udp& protocol) : socket(io, udp::endpoint(protocol, 0)) {}
    udp::socket socket;
    std::optional<common::Eui64> gateway_id;
    std::array<std::uint8_t, 65536> buffer{};
    udp::endpoint from;
};

class Replay {
public:
    Replay(const std::vector<bridge::CaptureRecord>& records, const ReplayOptions& options,
           const std::function<void(std::uint64_t)>& progress)
        : records_(records), options_(options), progress_(progress), timer_(io_) {}

    ReplaySummary run() {
        start_ = std::chrono::steady_clock::now();
        send_due();
        io_.run();
        return summary_;
    }

private:
    Sender& sender_for(const bridge::CaptureRecord& record) {
        auto& sender = senders_[record.from];
        if (!sender) {
            sender = std::make_unique<Sender>(io_, options_.server.protocol());
            ++summary_.senders;
            receive(*sender);
        }
        if (record.gateway_id) sender->gateway_id = record.gateway_id;
        return *sender;
    }

    void receive(Sender& s) {
        s.socket.async_receive_from(asio::buffer(s.buffer), s.from, [this, &s](auto ec, std::size_t n) {
            if (ec) return;  // cancelled at the end
            on_datagram(s, n);
            receive(s);
        });
    }

    void on_datagram(Sender& s, std::size_t n) {
        if (n < 4) return;
        switch (s.buffer[3]) {
            case 0x01: ++summary_.push_acks; break;
            case 0x04: ++summary_.pull_acks; break;
            case 0x03: {
                // PULL_RESP: answer as the gateway's forwarder does, TX_ACK with its token and "NONE".
                ++summary_.pull_resps;
                std::vector<std::uint8_t> ack{s.buffer[0], s.buffer[1], s.buffer[2], 0x05};
                const auto eui = s.gateway_id.value_or(common::Eui64{}).bytes();
                ack.insert(ack.end(), eui.begin(), eui.end());
                const std::string json = R"({"txpk_ack":{"error":"NONE"}})";
                ack.insert(ack.end(), json.begin(), json.end());
                boost::system::error_code ec;
                s.socket.send_to(asio::buffer(ack), options_.server, 0, ec);
                if (!ec) ++summary_.tx_acks_sent;
                break;
            }
            default: break;
        }
    }

    std::chrono::steady_clock::time_point due(const bridge::CaptureRecord& record) const {
        if (options_.speed <= 0) return start_;
        const auto since = std::chrono::duration<double>(record.time - records_.front().time) / options_.speed;
        return start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(since);
    }

    void send_due() {
        const auto now = std::chrono::steady_clock::now();
        // A burst at a time as fast as possible goes in slices, so that acknowledgements are read in between.
        for (std::size_t slice = 0; next_ < records_.size() && slice < 256; ++slice) {
            const auto& record = records_[next_];
            if (due(record) > now) break;
            ++next_;
            Sender& sender = sender_for(record);
            if (record.data.size() >= 4 && record.data[3] == 0x05) {
                ++summary_.tx_acks_skipped;
            } else {
                boost::system::error_code ec;
                sender.socket.send_to(asio::buffer(record.data), options_.server, 0, ec);
                if (ec) {
                    ++summary_.send_errors;
                    if (summary_.first_send_error.empty()) summary_.first_send_error = ec.message();
                } else {
                    ++summary_.datagrams_sent;
                }
            }
            if (progress_) progress_(next_);
        }
        if (next_ < records_.size()) {
            timer_.expires_at(std::max(now, due(records_[next_])));
        } else {
            timer_.expires_after(options_.linger);
        }
        timer_.async_wait([this, finished = next_ >= records_.size()](auto ec) {
            if (ec) return;
            if (finished) {
                for (auto& [from, sender] : senders_) sender->socket.close();
                return;
            }
            send_due();
        });
    }

    const std::vector<bridge::CaptureRecord>& records_;
    ReplayOptions options_;
    std::function<void(std::uint64_t)> progress_;
    asio::io_context io_;
    asio::steady_timer timer_;
    std::map<std::string, std::unique_ptr<Sender>> senders_;
    std::chrono::steady_clock::time_point start_;
    std::size_t next_ = 0;
    ReplaySummary summary_;
};

}  // namespace

ReplaySummary replay(const std::vector<bridge::CaptureRecord>& records, const ReplayOptions& options,
                     const std::function<void(std::uint64_t)>& progress) {
    if (records.empty()) return {};
    Replay r(records, options, progress);
    return r.run();
}

}  // namespace schwebe::sim
