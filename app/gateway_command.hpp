#pragma once
// `schwebe gateway add|list|remove`: the gateway registry in the configured SQLite store. A running server picks
// the change up at its next store check (bridge.store_flush_interval_s).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"

namespace schwebe::app {

struct GatewayAddArgs {
    std::string gateway_id;
    std::string name;
    std::optional<double> latitude, longitude, altitude;
    std::vector<std::string> tags;  ///< "key=value"
};

/// Each returns the process exit code and prints its result (JSON with `json`) or a one-line reason on stderr.
int gateway_add(const common::Config& config, const GatewayAddArgs& args);
int gateway_list(const common::Config& config, bool json);
int gateway_remove(const common::Config& config, const std::string& gateway_id);

}  // namespace schwebe::app
