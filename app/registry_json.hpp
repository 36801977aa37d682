#pragma once
// Device profiles and devices as JSON, for the CLI's --json output and the HTTP API: the same fields in both.
// Keys are write-only: a device's JSON says of each key only whether it is set.

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "integrations/sqlite/device_registry.hpp"
#include "network-server/device_model.hpp"
#include "network-server/store.hpp"

namespace schwebe::app {

[[nodiscard]] nlohmann::ordered_json profile_json(const ns::DeviceProfile& p);

/// A profile's codec as stored: a native codec by name, or a JavaScript codec file by its absolute path (the server
/// may run elsewhere than the command that names it). False with `error` (no field prefix) when neither.
bool resolve_codec(const std::string& given, std::string& stored, std::string& error);

/// Names of applications and profiles by id, for listing devices.
struct Names {
    std::map<std::string, std::string> applications, profiles;
    std::map<std::string, ns::Activation> activations;

    explicit Names(sqlite::SqliteDeviceRegistry& registry);
    [[nodiscard]] std::string application(const std::string& id) const;
    [[nodiscard]] std::string profile(const std::string& id) const;
    [[nodiscard]] std::string activation(const std::string& id) const;
};

/// Everything about a device but its keys, of which only whether each is set.
[[nodiscard]] nlohmann::ordered_json device_json(const ns::Device& d, const Names& names);

/// A downlink queue item, as the HTTP API's queue and `schwebe downlink list --json` show it.
[[nodiscard]] nlohmann::ordered_json queue_item_json(const ns::QueueItem& item);

}  // namespace schwebe::app
