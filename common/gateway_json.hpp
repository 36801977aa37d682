#pragma once
/// The MQTT form of the gateway messages: ChirpStack Gateway Bridge JSON, i.e. the protobuf JSON mapping of
/// ChirpStack v4's gw.proto (lowerCamelCase names, bytes in base64, Timestamps in RFC 3339, Durations as "1.5s",
/// enums by name). See shared/reference/chirpstack-mqtt.md, "Gateway side".
///
/// Every message round-trips exactly: parse(to_gateway_json(m)) == m. The fields gw.proto has no place for travel in
/// the message's `metadata` map (GatewayStats: "ackr", "rxfw", "ns_time"); `DownlinkItem::rf_chain` has no place at
/// all and is always parsed as 0 (ChirpStack's bridge sends `rfch` 0 too).
///
/// Parsing follows protobuf semantics where that is harmless: unknown fields are ignored, null means absent, and an
/// absent scalar takes its default (`channel` 0, `crcStatus` NO_CRC, `state` OFFLINE). Fields without which a
/// message cannot be acted on are required: gateway ids, `phyPayload`, frequencies, modulations, downlink timing and
/// the uplink `context` (the concentrator timestamp a class A reply is timed from). Parsers never throw; an error
/// names the field at fault ("rxInfo.gatewayId: expected 16 hex digits").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/messages.hpp"
#include "lorawan/result.hpp"

namespace schwebe::common {

/// Objects keep the order in which fields are written, so that the output reads like ChirpStack's.
using Json = nlohmann::ordered_json;

/// A parsed message, or why the JSON was refused (the field path first).
template <class T>
using JsonResult = lorawan::Result<T, std::string>;

/// `{prefix}/gateway/{id}/event/up`
[[nodiscard]] std::string to_gateway_json(const UplinkFrame& frame);
/// `{prefix}/gateway/{id}/event/stats`
[[nodiscard]] std::string to_gateway_json(const GatewayStats& stats);
/// `{prefix}/gateway/{id}/command/down`
[[nodiscard]] std::string to_gateway_json(const DownlinkFrame& frame);
/// `{prefix}/gateway/{id}/event/ack`
[[nodiscard]] std::string to_gateway_json(const DownlinkTxAck& ack);
/// `{prefix}/gateway/{id}/state/conn`
[[nodiscard]] std::string to_gateway_json(const GatewayConnState& state);

[[nodiscard]] JsonResult<UplinkFrame> parse_uplink_frame(std::string_view json) noexcept;
[[nodiscard]] JsonResult<GatewayStats> parse_gateway_stats(std::string_view json) noexcept;
[[nodiscard]] JsonResult<DownlinkFrame> parse_downlink_frame(std::string_view json) noexcept;
[[nodiscard]] JsonResult<DownlinkTxAck> parse_downlink_tx_ack(std::string_view json) noexcept;
[[nodiscard]] JsonResult<GatewayConnState> parse_gateway_conn_state(std::string_view json) noexcept;

/// The `rxInfo` and `txInfo` objects on their own: ChirpStack's application `up` event carries the same ones
/// (`rxInfo[]` of every gateway that heard the frame).
[[nodiscard]] Json rx_info_to_json(const RxInfo& rx);
[[nodiscard]] Json tx_info_to_json(const TxInfo& tx);
[[nodiscard]] JsonResult<RxInfo> rx_info_from_json(const Json& json) noexcept;
[[nodiscard]] JsonResult<TxInfo> tx_info_from_json(const Json& json) noexcept;

/// protobuf Timestamp JSON: RFC 3339 in UTC ("Z"), with 0, 3, 6 or 9 fraction digits as the value needs.
[[nodiscard]] std::string format_rfc3339(SystemTime t);
/// Accepts 0 to 9 fraction digits and a "Z" or "±hh:mm" offset; nullopt for anything else or a time that a
/// nanosecond clock cannot hold (before 1678 or after 2261).
[[nodiscard]] std::optional<SystemTime> parse_rfc3339(std::string_view text) noexcept;

/// protobuf Duration JSON: seconds with 0, 3, 6 or 9 fraction digits and an "s" ("1s", "1.000500s").
[[nodiscard]] std::string format_duration(std::chrono::nanoseconds d);
[[nodiscard]] std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept;

}  // namespace schwebe::common
