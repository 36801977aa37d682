#include "gateway-bridge/gateway_registry.hpp"

#include <algorithm>
#include <set>

namespace schwebe::bridge {

GatewayRegistry::GatewayRegistry(RegistryOptions options, const std::vector<GatewayRecord>& known)
    : options_(options) {
    reload(known);
}

GatewayRegistry::Gateway* GatewayRegistry::find(const common::Eui64& id) {
    const auto it = gateways_.find(id);
    return it == gateways_.end() ? nullptr : &it->second;
}

const GatewayRegistry::Gateway* GatewayRegistry::find(const common::Eui64& id) const {
    const auto it = gateways_.find(id);
    return it == gateways_.end() ? nullptr : &it->second;
}

Admission GatewayRegistry::admit(const common::Eui64& gateway_id, SteadyTime now) {
    Gateway* g = find(gateway_id);
    if (g == nullptr) {
        if (options_.policy == GatewayPolicy::allowlist) return Admission::not_allowed;
        // Each unknown EUI costs memory: a spoofing flood must not grow the registry without end.
        if (gateways_.size() >= options_.max_gateways) return Admission::too_many_gateways;
        Gateway fresh;
        fresh.record.gateway_id = gateway_id;
        fresh.tokens = options_.rate_burst;
        fresh.tokens_at = now;
        g = &gateways_.emplace(gateway_id, std::move(fresh)).first->second;
    } else if (options_.policy == GatewayPolicy::allowlist && !g->record.registered) {
        return Admission::not_allowed;
    }

    // Token bucket: a gateway that floods spends its own budget, not the others' processing time.
    const double elapsed = std::chrono::duration<double>(now - g->tokens_at).count();
    g->tokens = std::min(options_.rate_burst, g->tokens + std::max(0.0, elapsed) * options_.rate_per_s);
    g->tokens_at = now;
    if (g->tokens < 1.0) return Admission::rate_limited;
    g->tokens -= 1.0;
    g->last_heard = now;
    return Admission::admitted;
}

void GatewayRegistry::on_pull_data(const common::Eui64& gateway_id, const Endpoint& from) {
    if (Gateway* g = find(gateway_id)) g->downlink = from;
}

std::optional<GatewayRegistry::Endpoint> GatewayRegistry::downlink_endpoint(const common::Eui64& gateway_id) const {
    const Gateway* g = find(gateway_id);
    return g == nullptr ? std::nullopt : g->downlink;
}

void GatewayRegistry::on_version(const common::Eui64& gateway_id, std::uint8_t version) {
    if (Gateway* g = find(gateway_id)) g->version = version;
}

std::uint8_t GatewayRegistry::version(const common::Eui64& gateway_id) const {
    const Gateway* g = find(gateway_id);
    return g == nullptr ? 2 : g->version;
}

void GatewayRegistry::on_uplinks(const common::Eui64& gateway_id, std::uint64_t count, common::SystemTime now) {
    Gateway* g = find(gateway_id);
    if (g == nullptr) return;
    g->record.frames_received += count;
    g->frames_delta += count;
    g->record.last_seen = now;
    if (!g->record.first_seen) g->record.first_seen = now;
    g->dirty = true;
}

void GatewayRegistry::on_stats(const common::GatewayStats& stats) {
    Gateway* g = find(stats.gateway_id);
    if (g == nullptr) return;
    g->record.last_stats = stats;
    g->stats_delta = stats;
    g->record.last_seen = stats.received_at;
    if (!g->record.first_seen) g->record.first_seen = stats.received_at;
    if (stats.location) {
        g->reported_location = stats.location;
        if (!g->record.registered || !g->record.location) g->record.location = stats.location;
    }
    g->dirty = true;
}

std::optional<common::Location> GatewayRegistry::location(const common::Eui64& gateway_id) const {
    const Gateway* g = find(gateway_id);
    return g == nullptr ? std::nullopt : g->record.location;
}

std::vector<common::GatewayConnState> GatewayRegistry::update_online(SteadyTime now) {
    std::vector<common::GatewayConnState> changes;
    for (auto& [id, g] : gateways_) {
        const bool heard = g.last_heard != SteadyTime{};
        const bool online = heard && now - g.last_heard < options_.offline_after;
        if (online != g.online) {
            g.online = online;
            changes.push_back({id, online});
        }
    }
    return changes;
}

std::vector<GatewayActivity> GatewayRegistry::take_activity() {
    std::vector<GatewayActivity> out;
    for (auto& [id, g] : gateways_) {
        if (!g.dirty) continue;
        GatewayActivity a;
        a.gateway_id = id;
        a.last_seen = g.record.last_seen.value_or(common::SystemTime{});
        a.frames_received_delta = g.frames_delta;
        a.last_stats = std::move(g.stats_delta);
        a.reported_location = g.reported_location;
        out.push_back(std::move(a));
        g.dirty = false;
        g.frames_delta = 0;
        g.stats_delta.reset();
    }
    return out;
}

void GatewayRegistry::reload(const std::vector<GatewayRecord>& known) {
    for (const GatewayRecord& r : known) {
        auto [it, inserted] = gateways_.try_emplace(r.gateway_id);
        Gateway& g = it->second;
        if (inserted) {
            g.record = r;
            g.tokens = options_.rate_burst;
            continue;
        }
        // Registered data comes from the store; what this process observed stays.
        g.record.name = r.name;
        g.record.tags = r.tags;
        g.record.registered = r.registered;
        if (r.registered && r.location) g.record.location = r.location;
    }
    // A gateway removed from the store loses its registration (it may still be listed as seen under `accept`).
    std::set<common::Eui64> ids;
    for (const GatewayRecord& r : known) ids.insert(r.gateway_id);
    for (auto& [id, g] : gateways_) {
        if (!ids.contains(id)) g.record.registered = false;
    }
}

std::vector<GatewayRegistry::View> GatewayRegistry::snapshot() const {
    std::vector<View> out;
    out.reserve(gateways_.size());
    for (const auto& [id, g] : gateways_) out.push_back({g.record, g.online});
    return out;
}

}  // namespace schwebe::bridge
