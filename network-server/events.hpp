#pragma once
// What the network server tells the applications (DESIGN.md, Contracts): the events of ChirpStack v4's
// integration API (`up`, `join`, `ack`, `txack`, `status`, `log`) as plain values. The MQTT integration turns them
// into ChirpStack JSON; the SQLite store keeps them; tests inspect them.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/messages.hpp"
#include "lorawan/types.hpp"

namespace schwebe::ns {

using SystemTime = std::chrono::system_clock::time_point;

/// ChirpStack's `deviceInfo`.
struct DeviceInfo {
    std::string application_id;
    std::string application_name;
    std::string device_profile_id;
    std::string device_profile_name;
    std::string device_name;
    lorawan::Eui64 dev_eui;
    std::string codec;  ///< the profile's codec name, for the decoders
    std::map<std::string, std::string> tags;
    bool operator==(const DeviceInfo&) const = default;
};

/// A data uplink that passed every check, decrypted.
struct UplinkEvent {
    std::string deduplication_id;
    SystemTime time;  ///< when the network server processed it
    DeviceInfo device_info;
    lorawan::DevAddr dev_addr;
    bool adr = false;
    std::uint8_t dr = 0;
    std::uint32_t f_cnt = 0;
    std::optional<std::uint8_t> f_port;  ///< nullopt: no FRMPayload (MAC commands in FOpts only)
    bool confirmed = false;
    lorawan::Bytes data;  ///< FRMPayload in clear; empty for FPort 0 (MAC commands are not application data)
    std::vector<common::RxInfo> rx_info;
    common::TxInfo tx_info;
    bool operator==(const UplinkEvent&) const = default;
};

struct JoinEvent {
    std::string deduplication_id;
    SystemTime time;
    DeviceInfo device_info;
    lorawan::DevAddr dev_addr;
    std::vector<common::RxInfo> rx_info;
    common::TxInfo tx_info;
    bool operator==(const JoinEvent&) const = default;
};

/// The device acknowledged a confirmed downlink, or did not within the retries.
struct AckEvent {
    std::string deduplication_id;  ///< of the uplink that carried (or lacked) the ACK
    SystemTime time;
    DeviceInfo device_info;
    std::string queue_item_id;
    bool acknowledged = false;
    std::uint32_t f_cnt_down = 0;
    bool operator==(const AckEvent&) const = default;
};

/// A gateway's answer to a downlink (TX_ACK).
struct TxAckEvent {
    std::uint32_t downlink_id = 0;
    SystemTime time;
    DeviceInfo device_info;
    std::string queue_item_id;  ///< empty when the downlink carried no application payload
    std::uint32_t f_cnt_down = 0;
    lorawan::Eui64 gateway_id;
    common::TxAckStatus status = common::TxAckStatus::ok;  ///< of the item sent, or the last refusal
    std::optional<common::DownlinkItem> item;              ///< the item that went out (phy_payload cleared)
    bool operator==(const TxAckEvent&) const = default;
};

/// DevStatusAns (LoRaWAN 1.0.4 §5.5), as ChirpStack reports it.
struct StatusEvent {
    std::string deduplication_id;
    SystemTime time;
    DeviceInfo device_info;
    std::int32_t margin = 0;  ///< dB
    bool external_power_source = false;
    bool battery_level_unavailable = false;
    double battery_level = 0;  ///< percent
    bool operator==(const StatusEvent&) const = default;
};

enum class LogLevel : std::uint8_t { info, warning, error };

/// Something about a device that its owner should hear of (ChirpStack `log` event), e.g. code "UPLINK_F_CNT_RESET",
/// "DOWNLINK_PAYLOAD_SIZE", "UPLINK_CODEC".
struct LogEvent {
    SystemTime time;
    DeviceInfo device_info;
    LogLevel level = LogLevel::info;
    std::string code;
    std::string description;
    std::map<std::string, std::string> context;
    bool operator==(const LogEvent&) const = default;
};

using Event = std::variant<UplinkEvent, JoinEvent, AckEvent, TxAckEvent, StatusEvent, LogEvent>;

/// "up", "join", "ack", "txack", "status", "log": the event's name in the MQTT topic.
[[nodiscard]] std::string_view event_type(const Event& event) noexcept;
[[nodiscard]] const DeviceInfo& device_info_of(const Event& event) noexcept;

/// Where events go: the integrations (MQTT, SQLite) in `schwebe serve`, a recorder in tests.
///
/// Events reach a sink in two steps. stage() runs inside the store's commit transaction, after the changes the
/// events describe are applied and before they are committed: a durable sink (the SQLite outbox) writes the events
/// there, so an event is stored if and only if its data is, also across a kill -9. staged_done() then says whether
/// that transaction committed; on false the sink forgets what it staged. Finally on_event() hands each committed
/// event over, in order. All three run on the network server's thread and must not block on the network.
class EventSink {
public:
    virtual ~EventSink() = default;
    /// Before the commit transaction opens, with the batch's events (some of which the commit may still refuse):
    /// slow work that needs no transaction (decoding payloads in other processes) belongs here, so that it holds
    /// no lock. Must not throw.
    virtual void prepare(std::span<const Event* const> events) { (void)events; }
    /// Throwing rolls the whole transaction back: the batch is then dropped, as when storage fails.
    virtual void stage(std::span<const Event> events) { (void)events; }
    virtual void staged_done(bool committed) { (void)committed; }
    virtual void on_event(Event event) = 0;
};

}  // namespace schwebe::ns
