#pragma once
// Capture files (README, "Capture and replay"): the gateway traffic a server received, one JSON object per line,
// as `schwebe serve` records it (bridge.capture_file) and `schwebe replay` sends it again.
//
//   {"schwebe_capture":1,"started":"2026-11-21T14:00:00.000000Z"}                     first line: format version
//   {"time":"2026-11-21T14:00:00.123456Z","gateway_id":"0016c001f153a14c","from":"127.0.0.1:40001","data":"AgAB…"}
//
// `time` is when the datagram was read (UTC, microseconds); `gateway_id` the EUI of its header (null when the
// datagram is too short to have one, as malformed ones may be); `from` the address it came from (a gateway's
// PUSH_DATA and PULL_DATA come from its two sockets); `data` the datagram as received, base64. Every datagram is
// recorded before it is parsed, the malformed ones too.

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "common/messages.hpp"
#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"

namespace schwebe::bridge {

struct CaptureRecord {
    std::chrono::system_clock::time_point time;
    std::optional<common::Eui64> gateway_id;
    std::string from;  ///< "host:port"
    lorawan::Bytes data;
    bool operator==(const CaptureRecord&) const = default;
};

/// The line of a record (without the newline).
[[nodiscard]] std::string capture_line(const CaptureRecord& record);
/// A record from a line; the header line and blank lines give nullopt; anything else malformed, the reason.
[[nodiscard]] lorawan::Result<std::optional<CaptureRecord>, std::string> parse_capture_line(std::string_view line);
/// The gateway EUI of a Semtech datagram's header (bytes 4..11), when it has one.
[[nodiscard]] std::optional<common::Eui64> datagram_gateway_id(lorawan::ByteView datagram);

/// Appends records to a capture file. Lines are buffered and written by flush() (the bridge flushes after each
/// batch of datagrams it reads): a crash loses at most the batch under way.
class CaptureWriter {
public:
    /// Opens (creates or appends to) the file and writes the header line; throws std::runtime_error when it
    /// cannot (a start-up error).
    explicit CaptureWriter(const std::string& path);
    void record(lorawan::ByteView datagram, std::string_view from, std::chrono::system_clock::time_point time);
    /// False once a write failed (a full disk): the capture has stopped there; the bridge goes on.
    bool flush();
    [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

private:
    std::ofstream out_;
    std::string path_;
    std::uint64_t records_ = 0;
    bool failed_ = false;
};

}  // namespace schwebe::bridge
