#pragma once
// `schwebe replay FILE [--server HOST:PORT] [--speed X]`: a capture file's gateway traffic sent to a server again
// (sim/replay.hpp).

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

/// Prints the summary as JSON. Exit 0 done (malformed lines skipped, each reported on stderr), 1 some datagrams
/// could not be sent, 2 invalid input.
int replay_command(const common::Config& config, const ReplayArgs& args);

}  // namespace schwebe::app
