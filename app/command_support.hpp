#pragma once
// What the store subcommands (gateway, device, token, downlink) share: a refusal as one line on stderr, and the
// configured store opened for one command.

#include <exception>
#include <iostream>
#include <string>

#include "common/config.hpp"
#include "integrations/sqlite/database.hpp"

namespace schwebe::app {

/// "schwebe: REASON" on stderr; exit code 1.
inline int fail(const std::string& reason) {
    std::cerr << "schwebe: " << reason << '\n';
    return 1;
}

/// Opens the configured store, makes a `Store` on it and runs `f(store)`; any exception becomes a one-line reason.
template <class Store, class F>
int with_store(const common::Config& config, F&& f) {
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        Store store{db};
        return f(store);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace schwebe::app
