#pragma once
// `schwebe serve`: builds the components named in --components from the configuration and runs them on one
// io_context until SIGINT or SIGTERM.

#include <string>
#include <vector>

#include "common/config.hpp"

namespace schwebe::app {

/// Returns the process exit code; start-up errors (an address in use, an unreadable database, a bad setting) are
/// printed as one line and give 1.
int serve(const common::Config& config, const std::vector<std::string>& components);

}  // namespace schwebe::app
