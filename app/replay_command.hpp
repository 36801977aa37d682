#pragma once
// `schwebe replay FILE [--server HOST:PORT] [--speed X]`: a capture file's gateway traffic sent to a server again
// (sim/replay.hpp).

#include <boost/asio/ip/udp.hpp>
#include <optional>
#include <string>

#include "common/config.hpp"

namespace schwebe::app {

struct ReplayArgs {
    std::string file;
    std::optional<std::string> server;  ///< default: the configured bridge.udp_bind (0.0.0.0 as 127.0.0.1)
    double speed = 1.0;
    long long linger_ms = 1500;
};

/// HOST:PORT (IPv4, [IPv6]); 0.0.0.0 and :: stand for the loopback address (a server bound to all of them).
[[nodiscard]] std::optional<boost::asio::ip::udp::endpoint> parse_udp_endpoint(const std::string& text);

/// Prints the summary as JSON. Exit 0 done (malformed lines skipped, each reported on stderr), 1 some datagrams
/// could not be sent, 2 invalid input.
int replay_command(const common::Config& config, const ReplayArgs& args);

}  // namespace schwebe::app
