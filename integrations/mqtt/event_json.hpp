#pragma once
/// The application side of the MQTT integration as JSON, without the connection: ChirpStack v4 integration events
/// (integration.proto through its JSON mapping) and the `down` command. See shared/reference/chirpstack-mqtt.md,
/// "Application side".
///
/// Events follow what ChirpStack publishes: lowerCamelCase names, every scalar field present even at its default
/// value (`fPort: 0`, `confirmed: false`), `time` in RFC 3339 UTC with nanoseconds, bytes in base64, EUIs and DevAddr
/// in lower-case hex. `rxInfo` and `txInfo` are the gateway messages' own objects (common/gateway_json.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lorawan/result.hpp"
#include "lorawan/types.hpp"
#include "network-server/events.hpp"

namespace schwebe::mqtt {

/// Schwebe has no tenants; every event names the tenant a fresh ChirpStack installation creates, so that a tool
/// configured with that tenant (the one nearly every single-tenant ChirpStack deployment uses) keeps working.
inline constexpr std::string_view tenant_id = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242";
inline constexpr std::string_view tenant_name = "ChirpStack";
/// The only region Schwebe serves: ChirpStack's `regionConfigId` (and `region_config_id` of rxInfo metadata).
inline constexpr std::string_view region_config_id = "eu868";

/// What the integration subscribes to for downlinks.
inline constexpr std::string_view down_command_filter = "application/+/device/+/command/down";
/// Larger command messages are refused before they are parsed.
inline constexpr std::size_t max_down_command_size = 64 * 1024;
/// Deeper arrays and objects are refused before they are parsed: the JSON library copies, prints and compares values
/// recursively, so depth is stack.
inline constexpr std::size_t max_down_command_depth = 32;
/// The most an EU868 downlink carries (LoRaWAN RP002-1.0.4 §2.4.6, N at DR7); `data` beyond it is refused.
inline constexpr std::size_t max_down_data_size = 242;

/// `application/{application_id}/device/{dev_eui}/event/{type}`; `type` is ns::event_type(event).
[[nodiscard]] std::string event_topic(const ns::DeviceInfo& device, std::string_view type);

/// The ChirpStack v4 integration JSON of the event. `object` is the decoded payload of an `up` event (nullptr: no
/// `object` field, as ChirpStack does for a profile without codec); other events ignore it.
[[nodiscard]] std::string event_json(const ns::Event& event, const nlohmann::json* object = nullptr);

/// The `up` event as event_json() writes it, without building a JSON tree (the hot path).
[[nodiscard]] std::string up_event_json(const ns::UplinkEvent& event, const nlohmann::json* object);
/// Any event built as a JSON tree, then written: the reference form up_event_json() is tested against.
[[nodiscard]] std::string event_json_tree_dump(const ns::Event& event, const nlohmann::json* object = nullptr);

/// A downlink an application asked for on `application/{application_id}/device/{dev_eui}/command/down`.
struct DownCommand {
    std::string application_id;  ///< from the topic; the device must belong to it
    lorawan::Eui64 dev_eui;
    bool confirmed = false;
    std::uint8_t f_port = 0;               ///< 1..223
    std::vector<std::uint8_t> data;        ///< empty when `object` is given (or the application sent no bytes)
    std::optional<nlohmann::json> object;  ///< a JSON object, for the profile's encoder
    std::string id;                        ///< a UUID in lower case; empty: the queue assigns one
    std::optional<std::chrono::system_clock::time_point> expires_at;
};

/// Parses a `down` command. Never throws: JSON errors, size and nesting limits and every field are checked here.
/// Unknown fields are ignored and null stands for absent (protobuf JSON). The error names the field at fault first
/// ("fPort: expected 1..223", "data: not base64", "devEui: does not match the topic"), or "topic: …" and
/// "message: …" for the topic and the document as a whole.
[[nodiscard]] lorawan::Result<DownCommand, std::string> parse_down_command(std::string_view topic,
                                                                           std::string_view payload) noexcept;

}  // namespace schwebe::mqtt
