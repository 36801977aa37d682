#pragma once
// The pure parts of MAC command handling (LoRaWAN 1.0.4 §5): the values of the answers the network computes, and the
// bookkeeping of requests and answers on a MacState. No I/O, no clock: the pipelines pass times in.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/messages.hpp"
#include "lorawan/mac_commands.hpp"
#include "network-server/session.hpp"

namespace schwebe::ns {

/// The rx info of the gateway to answer through: best SNR, then best RSSI (DESIGN.md, Downlinks). nullptr when
/// empty.
[[nodiscard]] const common::RxInfo* best_gateway(std::span<const common::RxInfo> rx_info) noexcept;
/// Best SNR over the receptions (LoRa); nullopt when none reports one.
[[nodiscard]] std::optional<double> max_snr(std::span<const common::RxInfo> rx_info) noexcept;
/// Distinct gateways among the receptions.
[[nodiscard]] std::uint8_t gateway_count(std::span<const common::RxInfo> rx_info) noexcept;

/// LinkCheckAns (§5.1): margin = best SNR − the SNR the uplink's DR needs, in whole dB, clamped to 0..254; GwCnt =
/// distinct gateways (at most 255).
[[nodiscard]] lorawan::LinkCheckAns link_check_ans(std::span<const common::RxInfo> rx_info, std::uint8_t dr);

/// GPS time (ms since 1980-01-06T00:00:00Z, with the 18 leap seconds of UTC since then) of a UTC time point.
[[nodiscard]] std::chrono::milliseconds gps_time_of(std::chrono::system_clock::time_point utc);
/// The time of reception in GPS time: a gateway's GPS timestamp (tmms) when one reported it, else its UTC time,
/// else the server's receive time; the first reception that has one wins, in the given order of preference.
[[nodiscard]] std::chrono::milliseconds reception_gps_time(std::span<const common::RxInfo> rx_info);
/// DeviceTimeAns (§5.9): seconds since the GPS epoch and the fraction in 1/256 s.
[[nodiscard]] lorawan::DeviceTimeAns device_time_ans(std::chrono::milliseconds gps_time);

/// What the device said about the requests pending on `state`, and how the state changed.
struct MacAnswers {
    std::optional<lorawan::DevStatusAns> dev_status;
    bool link_check_req = false;
    bool device_time_req = false;
    /// Answers that refused (a NACK bit) or had no request pending: for the log, by command name.
    std::vector<std::string_view> rejected;
    std::vector<std::string_view> unexpected;
};

/// Applies the commands of one verified uplink to `state`: an answer with every ACK bit set moves the pending
/// request's values into the state (LinkADRAns → dr, tx_power_index, nb_trans, ch_mask; RXParamSetupAns → rx1
/// offset, rx2 DR and frequency; RXTimingSetupAns → rx1 delay; NewChannelAns → the channel; DutyCycleAns). Then
/// every pending request is cleared: answered or not, the next downlink may ask again. Requests from the device
/// (LinkCheckReq, DeviceTimeReq) and DevStatusAns are reported for the caller to act on.
[[nodiscard]] MacAnswers apply_mac_commands(MacState& state, std::span<const lorawan::MacCommand> commands);

/// Bytes a list of commands takes in FOpts or an FPort 0 payload (CID included).
[[nodiscard]] std::size_t mac_commands_size(std::span<const lorawan::MacCommand> commands) noexcept;

}  // namespace schwebe::ns
