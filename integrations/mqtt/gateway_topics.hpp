#pragma once
/// The gateway topics of ChirpStack Gateway Bridge (shared/reference/chirpstack-mqtt.md, "Gateway side"), shared by
/// the bridge's forwarder and the network server's backend:
///
///     {prefix}/gateway/{gateway_id}/event/{up|stats|ack}
///     {prefix}/gateway/{gateway_id}/state/conn            (retained)
///     {prefix}/gateway/{gateway_id}/command/down
///
/// `prefix` is the region ("eu868") and may itself hold '/'; `gateway_id` is 16 lower-case hex digits.

#include <optional>
#include <string>
#include <string_view>

#include "lorawan/types.hpp"

namespace schwebe::mqtt {

inline constexpr std::size_t default_max_payload_bytes = 64 * 1024;  ///< larger gateway messages are dropped

/// `{prefix}/gateway/{id}/{suffix}`, suffix e.g. "event/up".
[[nodiscard]] inline std::string gateway_topic(std::string_view prefix, const lorawan::Eui64& gateway_id,
                                               std::string_view suffix) {
    std::string topic(prefix);
    topic += "/gateway/";
    topic += gateway_id.to_string();
    topic += '/';
    topic += suffix;
    return topic;
}

/// `{prefix}/gateway/+/{suffix}`, for subscribing; suffix may hold wildcards ("event/+").
[[nodiscard]] inline std::string gateway_filter(std::string_view prefix, std::string_view suffix) {
    std::string filter(prefix);
    filter += "/gateway/+/";
    filter += suffix;
    return filter;
}

struct GatewayTopic {
    lorawan::Eui64 gateway_id;
    std::string_view kind;  ///< "event", "state" or "command"
    std::string_view name;  ///< "up", "stats", "ack", "conn", "down", …
};

/// The parts of a gateway topic under `prefix`; nullopt for any other topic or a malformed gateway id.
[[nodiscard]] inline std::optional<GatewayTopic> parse_gateway_topic(std::string_view prefix, std::string_view topic) {
    if (!topic.starts_with(prefix)) return std::nullopt;
    topic.remove_prefix(prefix.size());
    constexpr std::string_view gateway_level = "/gateway/";
    if (!topic.starts_with(gateway_level)) return std::nullopt;
    topic.remove_prefix(gateway_level.size());
    const auto id_end = topic.find('/');
    if (id_end == std::string_view::npos) return std::nullopt;
    const auto gateway_id = lorawan::Eui64::from_hex(topic.substr(0, id_end));
    if (!gateway_id) return std::nullopt;
    topic.remove_prefix(id_end + 1);
    const auto kind_end = topic.find('/');
    if (kind_end == std::string_view::npos) return std::nullopt;
    const std::string_view name = topic.substr(kind_end + 1);
    if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
    return GatewayTopic{*gateway_id, topic.substr(0, kind_end), name};
}

}  // namespace schwebe::mqtt
