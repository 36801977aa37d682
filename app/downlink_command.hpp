#pragma once
// `schwebe downlink enqueue|list|flush`: a device's downlink queue in the configured SQLite store, checked as the
// HTTP API checks it (POST/GET/DELETE /api/devices/{dev_eui}/queue). A running network server sends the items at
// the device's next uplink.

#include <string>

#include "common/config.hpp"

namespace schwebe::app {

struct DownlinkEnqueueArgs {
    std::string dev_eui;
    long long f_port = 0;  ///< 1..223; wide, so that an out-of-range value is refused here, not wrapped
    std::string hex;       ///< the plaintext FRMPayload
    bool confirmed = false;
};

/// Each returns the process exit code and prints its result (JSON with `json`) or a one-line reason on stderr
/// naming the option at fault.
int downlink_enqueue(const common::Config& config, const DownlinkEnqueueArgs& args);
/// The device's items in the order they go out.
int downlink_list(const common::Config& config, const std::string& dev_eui, bool json);
int downlink_flush(const common::Config& config, const std::string& dev_eui);

}  // namespace schwebe::app
