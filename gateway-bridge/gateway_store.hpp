#pragma once
// Where the gateway registry keeps its state between runs. The bridge reaches storage only through this
// interface; the SQLite adapter (integrations/sqlite) implements it, tests may fake it.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/messages.hpp"

namespace schwebe::bridge {

struct GatewayRecord {
    common::Eui64 gateway_id;
    std::string name;                          ///< empty for an unknown gateway
    std::optional<common::Location> location;  ///< registered location, else the last one the gateway reported
    std::map<std::string, std::string> tags;
    bool registered = false;  ///< added by an operator (as opposed to seen while the policy is `accept`)
    std::optional<common::SystemTime> first_seen;
    std::optional<common::SystemTime> last_seen;
    std::uint64_t frames_received = 0;        ///< rxpk accepted from this gateway, all time
    std::optional<common::GatewayStats> last_stats;
    bool operator==(const GatewayRecord&) const = default;
};

/// What the registry learnt about one gateway since the last flush.
struct GatewayActivity {
    common::Eui64 gateway_id;
    common::SystemTime last_seen;
    std::uint64_t frames_received_delta = 0;
    std::optional<common::GatewayStats> last_stats;
    std::optional<common::Location> reported_location;  ///< from stat, used unless the gateway is registered
};

/// Every method may throw (the SQLite adapter throws sqlite::Error, a std::runtime_error): callers at the edge of
/// the bridge catch, log and retry at the next flush.
class GatewayStore {
public:
    virtual ~GatewayStore() = default;
    /// Every gateway, registered or seen.
    virtual std::vector<GatewayRecord> load_gateways() = 0;
    /// Adds or replaces an operator's gateway (name, location, tags; registered = true). Seen-state is kept.
    virtual void save_registered_gateway(const GatewayRecord& gateway) = 0;
    /// Removes a gateway; false if there was none.
    virtual bool remove_gateway(const common::Eui64& gateway_id) = 0;
    /// Records activity of many gateways in one transaction; a gateway not in the store is added as unregistered.
    virtual void record_activity(const std::vector<GatewayActivity>& activity) = 0;
    /// True when another process (the CLI) changed the store since the last call: the registry then reloads.
    virtual bool changed_externally() = 0;
};

}  // namespace schwebe::bridge
