#pragma once
// The values passed between components (DESIGN.md, Data flow): the gateway bridge and the network server share
// these and nothing else. They follow ChirpStack's gateway messages (gw.proto: UplinkFrame, DownlinkFrame,
// DownlinkTxAck, GatewayStats) so that the MQTT form of each is a direct mapping (common/gateway_json.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lorawan/bytes.hpp"
#include "lorawan/types.hpp"

namespace schwebe::common {

using lorawan::Bytes;
using lorawan::Eui64;
using SystemTime = std::chrono::system_clock::time_point;

struct LoraModulation {
    std::uint8_t spreading_factor = 7;
    std::uint32_t bandwidth_hz = 125'000;
    std::string code_rate = "4/5";  ///< "4/5" … "4/8", or "OFF"
    bool operator==(const LoraModulation&) const = default;
};

struct FskModulation {
    std::uint32_t bit_rate = 50'000;
    std::uint32_t frequency_deviation_hz = 25'000;  ///< downlinks only
    bool operator==(const FskModulation&) const = default;
};

using Modulation = std::variant<LoraModulation, FskModulation>;

struct Location {
    double latitude = 0;
    double longitude = 0;
    double altitude = 0;
    bool operator==(const Location&) const = default;
};

enum class CrcStatus : std::uint8_t { ok, bad, none };

/// How one gateway (one antenna of it) received a frame.
struct RxInfo {
    Eui64 gateway_id;
    std::uint32_t uplink_id = 0;           ///< identifies this reception in logs (a counter from a random start)
    SystemTime received_at;                ///< when the bridge received it (server clock)
    std::optional<SystemTime> time;        ///< gateway's UTC time of reception (GPS gateways)
    std::optional<std::uint64_t> gps_time_ms;  ///< ms since the GPS epoch (tmms)
    std::uint32_t tmst = 0;                ///< concentrator counter, µs, wraps at 2^32: the class A time base
    std::int32_t rssi = 0;                 ///< dBm
    std::optional<double> snr;             ///< dB; LoRa only
    std::uint32_t channel = 0;
    std::uint32_t rf_chain = 0;
    std::uint32_t antenna = 0;
    std::optional<Location> location;      ///< the gateway's, when known
    CrcStatus crc_status = CrcStatus::ok;
    bool operator==(const RxInfo&) const = default;
};

struct TxInfo {
    std::uint32_t frequency_hz = 0;
    Modulation modulation = LoraModulation{};
    bool operator==(const TxInfo&) const = default;
};

/// One gateway's copy of a frame. The network server deduplicates copies into one uplink with every rx_info.
struct UplinkFrame {
    Bytes phy_payload;
    TxInfo tx_info;
    RxInfo rx_info;
    bool operator==(const UplinkFrame&) const = default;
};

/// When a downlink item is to be sent.
struct TimingImmediately {
    bool operator==(const TimingImmediately&) const = default;
};
struct TimingDelay {
    std::chrono::microseconds delay{0};  ///< after the uplink's tmst (class A: RX1 1 s, RX2 2 s; joins 5 s / 6 s)
    bool operator==(const TimingDelay&) const = default;
};
struct TimingGpsEpoch {
    std::chrono::milliseconds since_gps_epoch{0};
    bool operator==(const TimingGpsEpoch&) const = default;
};
using Timing = std::variant<TimingImmediately, TimingDelay, TimingGpsEpoch>;

struct DownlinkItem {
    Bytes phy_payload;
    std::uint32_t frequency_hz = 0;
    std::int32_t power_dbm = 14;
    Modulation modulation = LoraModulation{};
    bool polarization_inversion = true;  ///< true for every downlink to an end device
    Timing timing = TimingImmediately{};
    std::uint32_t context_tmst = 0;  ///< the uplink tmst the delay counts from
    std::uint32_t rf_chain = 0;
    bool operator==(const DownlinkItem&) const = default;
};

/// A downlink for one gateway: items in order of preference (RX1, then RX2); the bridge moves to the next item
/// when the gateway refuses one.
struct DownlinkFrame {
    std::uint32_t downlink_id = 0;
    Eui64 gateway_id;
    std::vector<DownlinkItem> items;
    bool operator==(const DownlinkFrame&) const = default;
};

enum class TxAckStatus : std::uint8_t {
    ignored,  ///< not tried, because an earlier item went out
    ok,
    too_late,
    too_early,
    collision_packet,
    collision_beacon,
    tx_freq,
    tx_power,
    gps_unlocked,
    queue_full,
    internal_error,
    duty_cycle_overflow,
};

/// The outcome of a DownlinkFrame: one status per item.
struct DownlinkTxAck {
    Eui64 gateway_id;
    std::uint32_t downlink_id = 0;
    std::vector<TxAckStatus> items;
    bool operator==(const DownlinkTxAck&) const = default;
};

/// What a gateway reports about itself every stat interval (Semtech `stat`).
struct GatewayStats {
    Eui64 gateway_id;
    SystemTime received_at;
    std::optional<SystemTime> time;  ///< gateway's own clock
    std::optional<Location> location;
    std::uint32_t rx_received = 0;   ///< rxnb
    std::uint32_t rx_ok = 0;         ///< rxok
    std::uint32_t rx_forwarded = 0;  ///< rxfw
    double ack_ratio = 0;            ///< ackr, percent of upstream datagrams acknowledged
    std::uint32_t tx_received = 0;   ///< dwnb
    std::uint32_t tx_emitted = 0;    ///< txnb
    bool operator==(const GatewayStats&) const = default;
};

struct GatewayConnState {
    Eui64 gateway_id;
    bool online = false;
    bool operator==(const GatewayConnState&) const = default;
};

/// Where gateway events go: the network server in-process, or the MQTT forwarder in standalone bridge mode.
class GatewayEventSink {
public:
    virtual ~GatewayEventSink() = default;
    virtual void on_uplink(UplinkFrame frame) = 0;
    virtual void on_stats(GatewayStats stats) = 0;
    virtual void on_tx_ack(DownlinkTxAck ack) = 0;
    virtual void on_conn_state(GatewayConnState state) = 0;
};

/// How the network server reaches gateways: the bridge in-process, or MQTT command topics.
class DownlinkSender {
public:
    virtual ~DownlinkSender() = default;
    virtual void send_downlink(DownlinkFrame frame) = 0;
};

[[nodiscard]] std::string_view to_string(TxAckStatus s) noexcept;
/// Accepts the ChirpStack names ("OK", "TOO_LATE", …) and Semtech's ("NONE" = OK); nullopt otherwise.
[[nodiscard]] std::optional<TxAckStatus> tx_ack_status_from_string(std::string_view s) noexcept;

}  // namespace schwebe::common
