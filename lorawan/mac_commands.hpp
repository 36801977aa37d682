#pragma once
/// MAC commands of LoRaWAN 1.0.4 (§5), both directions: what a device sends (…Req it initiates, …Ans to the
/// network's requests) and what the network sends. The CID alone does not say which: the direction of the frame
/// does.
///
/// Frequencies are carried as 24-bit little-endian values in units of 100 Hz; Schwebe keeps them in Hz.

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"

namespace schwebe::lorawan {

namespace cid {
inline constexpr std::uint8_t link_check = 0x02;
inline constexpr std::uint8_t link_adr = 0x03;
inline constexpr std::uint8_t duty_cycle = 0x04;
inline constexpr std::uint8_t rx_param_setup = 0x05;
inline constexpr std::uint8_t dev_status = 0x06;
inline constexpr std::uint8_t new_channel = 0x07;
inline constexpr std::uint8_t rx_timing_setup = 0x08;
inline constexpr std::uint8_t tx_param_setup = 0x09;
inline constexpr std::uint8_t dl_channel = 0x0a;
inline constexpr std::uint8_t device_time = 0x0d;
}  // namespace cid

// ---- uplink (device → network) ----

struct LinkCheckReq {
    bool operator==(const LinkCheckReq&) const = default;
};
/// Status bits of LinkADRAns: | RFU (7..3) | Power ACK | Data rate ACK | Channel mask ACK |.
struct LinkAdrAns {
    bool power_ack = false;
    bool data_rate_ack = false;
    bool channel_mask_ack = false;
    bool operator==(const LinkAdrAns&) const = default;
};
struct DutyCycleAns {
    bool operator==(const DutyCycleAns&) const = default;
};
/// | RFU (7..3) | RX1DROffset ACK | RX2 Data rate ACK | Channel ACK |.
struct RxParamSetupAns {
    bool rx1_dr_offset_ack = false;
    bool rx2_data_rate_ack = false;
    bool channel_ack = false;
    bool operator==(const RxParamSetupAns&) const = default;
};
/// | Battery (1) | RFU (7..6) Margin (5..0, signed, dB) |.
struct DevStatusAns {
    std::uint8_t battery = 255;  ///< 0 external power, 1..254 level, 255 unknown
    std::int8_t margin = 0;      ///< SNR of the last DevStatusReq at the device, −32..31 dB
    bool operator==(const DevStatusAns&) const = default;
};
/// | RFU (7..2) | Data rate range ok | Channel frequency ok |.
struct NewChannelAns {
    bool data_rate_range_ok = false;
    bool channel_frequency_ok = false;
    bool operator==(const NewChannelAns&) const = default;
};
struct RxTimingSetupAns {
    bool operator==(const RxTimingSetupAns&) const = default;
};
struct TxParamSetupAns {
    bool operator==(const TxParamSetupAns&) const = default;
};
/// | RFU (7..2) | Uplink frequency exists | Channel frequency ok |.
struct DlChannelAns {
    bool uplink_frequency_exists = false;
    bool channel_frequency_ok = false;
    bool operator==(const DlChannelAns&) const = default;
};
struct DeviceTimeReq {
    bool operator==(const DeviceTimeReq&) const = default;
};

// ---- downlink (network → device) ----

struct LinkCheckAns {
    std::uint8_t margin = 0;  ///< dB above the demodulation floor, 0..254
    std::uint8_t gw_cnt = 0;  ///< gateways that received the LinkCheckReq
    bool operator==(const LinkCheckAns&) const = default;
};
/// | DataRate (7..4) TXPower (3..0) | ChMask (2, LE) | Redundancy: RFU (7) ChMaskCntl (6..4) NbTrans (3..0) |.
struct LinkAdrReq {
    std::uint8_t data_rate = 0;  ///< 0..15 (15: keep, LoRaWAN 1.0.4)
    std::uint8_t tx_power = 0;   ///< 0..15 (15: keep)
    std::uint16_t ch_mask = 0;
    std::uint8_t ch_mask_cntl = 0;  ///< 0..7
    std::uint8_t nb_trans = 0;      ///< 0..15
    bool operator==(const LinkAdrReq&) const = default;
};
/// | RFU (7..4) | MaxDCycle (3..0) |: aggregated duty cycle 1 / 2^MaxDCycle.
struct DutyCycleReq {
    std::uint8_t max_duty_cycle = 0;
    bool operator==(const DutyCycleReq&) const = default;
};
/// | DLsettings: RFU (7) RX1DROffset (6..4) RX2DataRate (3..0) | Frequency (3) |.
struct RxParamSetupReq {
    std::uint8_t rx1_dr_offset = 0;  ///< 0..7
    std::uint8_t rx2_data_rate = 0;  ///< 0..15
    std::uint32_t frequency = 0;     ///< RX2 frequency, Hz
    bool operator==(const RxParamSetupReq&) const = default;
};
struct DevStatusReq {
    bool operator==(const DevStatusReq&) const = default;
};
/// | ChIndex (1) | Freq (3) | DrRange: MaxDR (7..4) MinDR (3..0) |.
struct NewChannelReq {
    std::uint8_t ch_index = 0;
    std::uint32_t frequency = 0;  ///< Hz; 0 disables the channel
    std::uint8_t min_dr = 0;
    std::uint8_t max_dr = 0;
    bool operator==(const NewChannelReq&) const = default;
};
/// | RFU (7..4) | Del (3..0) |: RX1 delay in seconds, 0 meaning 1.
struct RxTimingSetupReq {
    std::uint8_t delay = 0;
    bool operator==(const RxTimingSetupReq&) const = default;
};
/// | RFU (7..6) | DownlinkDwellTime (5) | UplinkDwellTime (4) | MaxEIRP (3..0) |.
struct TxParamSetupReq {
    bool downlink_dwell_time = false;  ///< true: 400 ms limit
    bool uplink_dwell_time = false;
    std::uint8_t max_eirp = 0;  ///< index into the table of RP002 (8..36 dBm)
    bool operator==(const TxParamSetupReq&) const = default;
};
/// | ChIndex (1) | Freq (3) |.
struct DlChannelReq {
    std::uint8_t ch_index = 0;
    std::uint32_t frequency = 0;  ///< Hz
    bool operator==(const DlChannelReq&) const = default;
};
/// | Seconds since the GPS epoch (4, LE) | fractional second in 1/256 s (1) |.
struct DeviceTimeAns {
    std::uint32_t seconds = 0;
    std::uint8_t fractional = 0;
    bool operator==(const DeviceTimeAns&) const = default;
};

using MacCommand = std::variant<LinkCheckReq, LinkAdrAns, DutyCycleAns, RxParamSetupAns, DevStatusAns, NewChannelAns,
                                RxTimingSetupAns, TxParamSetupAns, DlChannelAns, DeviceTimeReq,  // uplink
                                LinkCheckAns, LinkAdrReq, DutyCycleReq, RxParamSetupReq, DevStatusReq, NewChannelReq,
                                RxTimingSetupReq, TxParamSetupReq, DlChannelReq, DeviceTimeAns>;  // downlink

/// The command's name as in the specification, e.g. "LinkADRReq".
[[nodiscard]] std::string_view name_of(const MacCommand& command);
[[nodiscard]] std::uint8_t cid_of(const MacCommand& command);
[[nodiscard]] Direction direction_of(const MacCommand& command);
/// Payload length of the command with this CID in this direction (without the CID byte); nullopt if unknown.
[[nodiscard]] std::optional<std::size_t> payload_size(std::uint8_t cid, Direction dir) noexcept;

/// Parsed commands; parsing stops at the first CID it does not know or a command cut short, because the length of
/// what follows cannot be known: `error` then says why and `stopped_at` where (byte offset), while `commands`
/// holds everything before it.
struct MacCommands {
    std::vector<MacCommand> commands;
    std::optional<Error> error;
    std::size_t stopped_at = 0;
};

[[nodiscard]] MacCommands parse_mac_commands(ByteView bytes, Direction dir);

/// Appends the command. Refuses `field_out_of_range` for a field wider than its bits (e.g. MaxDCycle > 15).
[[nodiscard]] Result<Ok> serialize(const MacCommand& command, Bytes& out);
[[nodiscard]] Result<Bytes> serialize(const std::vector<MacCommand>& commands);

}  // namespace schwebe::lorawan
