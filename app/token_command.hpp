#pragma once
// `schwebe token create|list|revoke`: the HTTP API's tokens in the configured SQLite store. A secret is printed once,
// when it is created; the store keeps only its hash, so no command can print it again.

#include <string>

#include "common/config.hpp"

namespace schwebe::app {

/// Each returns the process exit code and prints its result (JSON with `json`) or a one-line reason on stderr.
/// create: the secret alone on stdout (id and name on stderr), or with `json` {"id","name","created_at","token"}.
int token_create(const common::Config& config, const std::string& name, bool json);
/// id, name, created_at and last_used_at of each token, ordered by name.
int token_list(const common::Config& config, bool json);
/// By id or by name; 1 when there is none.
int token_revoke(const common::Config& config, const std::string& id_or_name);

}  // namespace schwebe::app
