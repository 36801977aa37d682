#pragma once
// `schwebe replay FILE`: sends a capture file's datagrams (gateway-bridge/capture.hpp) to a server again, with the
// timing they were received with (or faster), each from a socket of its own per original sender address, so that
// a gateway's PUSH_DATA and PULL_DATA come from two sockets as they did. The server's PULL_RESPs are answered with
// a TX_ACK as the gateway would; the capture's own TX_ACKs are not sent (their tokens belong to the recorded run).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway-bridge/capture.hpp"

namespace schwebe::sim {

struct ReplayOptions {
    boost::asio::ip::udp::endpoint server;
    double speed = 1.0;  ///< 2: twice as fast as recorded; 0: as fast as possible
    std::chrono::milliseconds linger{1500};  ///< after the last datagram, for acknowledgements and downlinks
};

struct ReplaySummary {
    std::uint64_t datagrams_sent = 0;
    std::uint64_t tx_acks_skipped = 0;  ///< the capture's own TX_ACKs
    std::uint64_t push_acks = 0;
    std::uint64_t pull_acks = 0;
    std::uint64_t pull_resps = 0;       ///< downlinks the server sent
    std::uint64_t tx_acks_sent = 0;     ///< our answers to them
    std::uint64_t senders = 0;          ///< sockets opened, one per original sender address
    std::uint64_t send_errors = 0;      ///< datagrams the system refused to send
    std::string first_send_error;
};

/// The records of a capture file. Malformed lines (a partial last line after a crash, say) are skipped; each is
/// reported as "line N: reason" in `problems`. Throws std::runtime_error when the file cannot be read.
struct CaptureFile {
    std::vector<bridge::CaptureRecord> records;
    std::vector<std::string> problems;
};
[[nodiscard]] CaptureFile read_capture_file(const std::string& path);

/// Sends the records in order and returns when the last one is sent and `linger` has passed. `progress` (may be
/// empty) is called after each record with the count of records done so far.
ReplaySummary replay(const std::vector<bridge::CaptureRecord>& records, const ReplayOptions& options,
                     const std::function<void(std::uint64_t)>& progress = {});

}  // namespace schwebe::sim
