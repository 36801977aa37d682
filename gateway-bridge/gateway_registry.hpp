#pragma once
// What the bridge knows of each gateway: registered or merely seen, where to send its downlinks (the address of
// its latest PULL_DATA), whether it is online, what it last reported, and how fast it may talk. No I/O: time is a
// parameter and persistence goes through GatewayStore.

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/messages.hpp"
#include "gateway-bridge/gateway_store.hpp"

namespace schwebe::bridge {

enum class GatewayPolicy : std::uint8_t {
    accept,     ///< any gateway; unknown ones are listed (persisted as unregistered)
    allowlist,  ///< registered gateways only
};

struct RegistryOptions {
    GatewayPolicy policy = GatewayPolicy::accept;
    std::chrono::seconds offline_after{30};
    double rate_per_s = 1000;    ///< datagrams per second per gateway (token bucket)
    double rate_burst = 2000;    ///< bucket size
    std::size_t max_gateways = 10'000;
};

/// Why a datagram from a gateway is not processed.
enum class Admission : std::uint8_t { admitted, not_allowed, rate_limited, too_many_gateways };

class GatewayRegistry {
public:
    using SteadyTime = std::chrono::steady_clock::time_point;
    using Endpoint = boost::asio::ip::udp::endpoint;

    GatewayRegistry(RegistryOptions options, const std::vector<GatewayRecord>& known);

    /// Every gateway→server datagram passes here first: policy, gateway limit, then the gateway's token bucket.
    /// Admitting a datagram marks the gateway as heard from.
    Admission admit(const common::Eui64& gateway_id, SteadyTime now);

    /// PULL_DATA: this is now the address for the gateway's downlinks.
    void on_pull_data(const common::Eui64& gateway_id, const Endpoint& from);
    [[nodiscard]] std::optional<Endpoint> downlink_endpoint(const common::Eui64& gateway_id) const;
    /// The gateway's protocol version, as last seen (1 has no TX_ACK).
    void on_version(const common::Eui64& gateway_id, std::uint8_t version);
    [[nodiscard]] std::uint8_t version(const common::Eui64& gateway_id) const;

    void on_uplinks(const common::Eui64& gateway_id, std::uint64_t count, common::SystemTime now);
    void on_stats(const common::GatewayStats& stats);
    /// The gateway's location for rx metadata: the registered one, else the last reported one.
    [[nodiscard]] std::optional<common::Location> location(const common::Eui64& gateway_id) const;

    /// Online/offline changes since the last call: online on first datagram, offline after `offline_after` of
    /// silence.
    std::vector<common::GatewayConnState> update_online(SteadyTime now);
    /// Activity since the last call, for GatewayStore::record_activity.
    std::vector<GatewayActivity> take_activity();
    /// Replaces registered data (names, locations, tags, the registered flag) after the store changed.
    void reload(const std::vector<GatewayRecord>& known);

    struct View {
        GatewayRecord record;
        bool online = false;
    };
    [[nodiscard]] std::vector<View> snapshot() const;
    [[nodiscard]] std::size_t size() const { return gateways_.size(); }

private:
    struct Gateway {
        GatewayRecord record;
        std::optional<Endpoint> downlink;
        std::uint8_t version = 2;
        bool online = false;
        SteadyTime last_heard{};
        double tokens = 0;
        SteadyTime tokens_at{};
        // not yet flushed to the store
        bool dirty = false;
        std::uint64_t frames_delta = 0;
        std::optional<common::GatewayStats> stats_delta;
        std::optional<common::Location> reported_location;
    };
    Gateway* find(const common::Eui64& id);
    const Gateway* find(const common::Eui64& id) const;

    RegistryOptions options_;
    std::map<common::Eui64, Gateway> gateways_;
};

}  // namespace schwebe::bridge
