#include "network-server/mac.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <variant>

#include "lorawan/eu868.hpp"

namespace schwebe::ns {

namespace {

using common::RxInfo;

/// True when `a` is a better gateway to answer through than `b`: an SNR beats none, a higher SNR a lower one, and
/// at equal SNR the higher RSSI wins. Equal receptions are not better, so the first of them stays.
bool better_reception(const RxInfo& a, const RxInfo& b) noexcept {
    if (a.snr.has_value() != b.snr.has_value()) return a.snr.has_value();
    if (a.snr && *a.snr != *b.snr) return *a.snr > *b.snr;
    return a.rssi > b.rssi;
}

// GPS time runs ahead of UTC by the leap seconds inserted since the GPS epoch: 18 since 2017-01-01 (IERS Bulletin C
// has announced none since).
constexpr auto gps_epoch = std::chrono::sys_days{std::chrono::year{1980} / std::chrono::January / 6};
constexpr std::chrono::seconds gps_minus_utc{18};

/// LoRaWAN 1.0.4 §5.2: DataRate and TXPower 15 mean "keep the current value".
constexpr std::uint8_t link_adr_keep = 15;

// EU868 ChMaskCntl (RP002 §2.4.5): 0 applies ChMask to channels 0..15; 6 turns every defined channel on.
constexpr std::uint8_t ch_mask_cntl_channels_0_15 = 0;
constexpr std::uint8_t ch_mask_cntl_all_on = 6;

/// The first channel index NewChannelReq may set in EU868: 0..2 are the fixed default channels.
constexpr std::size_t first_extra_channel = lorawan::eu868::default_channels_hz.size();

std::uint16_t defined_channels_mask(const MacState& state) {
    std::uint16_t mask = (1U << first_extra_channel) - 1U;
    for (std::size_t i = 0; i < state.extra_channels_hz.size(); ++i) {
        if (state.extra_channels_hz[i] != 0) mask |= static_cast<std::uint16_t>(1U << (first_extra_channel + i));
    }
    return mask;
}

void apply_link_adr(MacState& state, const lorawan::LinkAdrReq& req) {
    if (req.data_rate != link_adr_keep) state.dr = req.data_rate;
    if (req.tx_power != link_adr_keep) state.tx_power_index = req.tx_power;
    // LoRaWAN 1.0.4 §5.2: on NbTrans 0 the device uses the default, 1.
    state.nb_trans = req.nb_trans == 0 ? 1 : req.nb_trans;
    if (req.ch_mask_cntl == ch_mask_cntl_channels_0_15) {
        state.ch_mask = req.ch_mask;
    } else if (req.ch_mask_cntl == ch_mask_cntl_all_on) {
        state.ch_mask = defined_channels_mask(state);
    }
    // Other ChMaskCntl values are RFU in EU868; a device acknowledging one changed no channel that we know of.
}

void apply_new_channel(MacState& state, const lorawan::NewChannelReq& req) {
    // Only channels 3..7 are kept (MacState::extra_channels_hz); 0..2 cannot be changed in EU868, and 8..15 are
    // not used by Schwebe.
    if (req.ch_index < first_extra_channel || req.ch_index >= first_extra_channel + state.extra_channels_hz.size()) {
        return;
    }
    state.extra_channels_hz[req.ch_index - first_extra_channel] = req.frequency;
    const auto bit = static_cast<std::uint16_t>(1U << req.ch_index);
    if (req.frequency != 0) {
        state.ch_mask |= bit;
    } else {
        state.ch_mask &= static_cast<std::uint16_t>(~bit);
    }
}

/// Walks the commands of one uplink in order and applies each answer to the request pending for it. A visitor with
/// one overload per uplink command; every downlink command (which a device never sends) is unexpected.
class AnswerApplier {
public:
    AnswerApplier(MacState& state, std::span<const lorawan::MacCommand> commands, MacAnswers& out)
        : state_(state), commands_(commands), out_(out) {}

    void operator()(const lorawan::LinkCheckReq&) { out_.link_check_req = true; }
    void operator()(const lorawan::DeviceTimeReq&) { out_.device_time_req = true; }
    void operator()(const lorawan::DevStatusAns& ans) { out_.dev_status = ans; }

    /// LoRaWAN 1.0.4 §5.2: the device answers each LinkADRReq of a block with a LinkADRAns, all with the same status,
    /// and applies the block as one. So all LinkADRAns of the uplink are one answer: accepted when every bit of every
    /// one is set, and reported once.
    void operator()(const lorawan::LinkAdrAns& first) {
        if (link_adr_seen_) return;
        link_adr_seen_ = true;
        if (!state_.pending_link_adr) return unexpected(first);
        bool all_acked = true;
        for (const lorawan::MacCommand& c : commands_) {
            if (const auto* ans = std::get_if<lorawan::LinkAdrAns>(&c)) {
                all_acked = all_acked && ans->power_ack && ans->data_rate_ack && ans->channel_mask_ack;
            }
        }
        if (!all_acked) return rejected(first);
        apply_link_adr(state_, *state_.pending_link_adr);
    }

    void operator()(const lorawan::RxParamSetupAns& ans) {
        const auto& req = state_.pending_rx_param_setup;
        if (!req) return unexpected(ans);
        if (!(ans.rx1_dr_offset_ack && ans.rx2_data_rate_ack && ans.channel_ack)) return rejected(ans);
        state_.rx1_dr_offset = req->rx1_dr_offset;
        state_.rx2_dr = req->rx2_data_rate;
        state_.rx2_frequency_hz = req->frequency;
    }

    void operator()(const lorawan::RxTimingSetupAns& ans) {
        const auto& req = state_.pending_rx_timing_setup;
        if (!req) return unexpected(ans);
        state_.rx1_delay_s = req->delay == 0 ? 1 : req->delay;  // §5.7: Del 0 means 1 s
    }

    void operator()(const lorawan::DutyCycleAns& ans) {
        // Nothing to keep: the duty cycle limits the device, not what the network believes about its radio.
        if (!state_.pending_duty_cycle) unexpected(ans);
    }

    /// Several NewChannelReq in one downlink are answered by as many NewChannelAns, in the same order.
    void operator()(const lorawan::NewChannelAns& ans) {
        const std::size_t index = new_channel_answers_++;
        if (index >= state_.pending_new_channels.size()) return unexpected(ans);
        if (!(ans.data_rate_range_ok && ans.channel_frequency_ok)) return rejected(ans);
        apply_new_channel(state_, state_.pending_new_channels[index]);
    }

    // Schwebe sends neither TxParamSetupReq (not used in EU868) nor DlChannelReq: no answer can be pending.
    void operator()(const lorawan::TxParamSetupAns& ans) { unexpected(ans); }
    void operator()(const lorawan::DlChannelAns& ans) { unexpected(ans); }

    /// A network → device command in an uplink.
    template <class Downlink>
    void operator()(const Downlink& command) {
        unexpected(command);
    }

private:
    template <class Command>
    void unexpected(const Command& command) {
        out_.unexpected.push_back(lorawan::name_of(lorawan::MacCommand{command}));
    }
    template <class Command>
    void rejected(const Command& command) {
        out_.rejected.push_back(lorawan::name_of(lorawan::MacCommand{command}));
    }

    MacState& state_;
    std::span<const lorawan::MacCommand> commands_;
    MacAnswers& out_;
    bool link_adr_seen_ = false;
    std::size_t new_channel_answers_ = 0;
};

void clear_pending(MacState& state) {
    state.pending_link_adr.reset();
    state.pending_rx_param_setup.reset();
    state.pending_rx_timing_setup.reset();
    state.pending_duty_cycle.reset();
    state.pending_new_channels.clear();
}

}  // namespace

const common::RxInfo* best_gateway(std::span<const common::RxInfo> rx_info) noexcept {
    const RxInfo* best = nullptr;
    for (const RxInfo& rx : rx_info) {
        if (best == nullptr || better_reception(rx, *best)) best = &rx;
    }
    return best;
}

std::optional<double> max_snr(std::span<const common::RxInfo> rx_info) noexcept {
    std::optional<double> best;
    for (const RxInfo& rx : rx_info) {
        if (rx.snr && (!best || *rx.snr > *best)) best = rx.snr;
    }
    return best;
}

std::uint8_t gateway_count(std::span<const common::RxInfo> rx_info) noexcept {
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < rx_info.size(); ++i) {
        const auto earlier = rx_info.first(i);
        const bool seen =
            std::ranges::any_of(earlier, [&](const RxInfo& rx) { return rx.gateway_id == rx_info[i].gateway_id; });
        if (!seen) ++distinct;
    }
    return static_cast<std::uint8_t>(std::min<std::size_t>(distinct, 255));
}

lorawan::LinkCheckAns link_check_ans(std::span<const common::RxInfo> rx_info, std::uint8_t dr) {
    lorawan::LinkCheckAns ans;
    ans.gw_cnt = gateway_count(rx_info);
    const auto snr = max_snr(rx_info);
    const auto required = lorawan::eu868::required_snr_db(dr);
    if (snr && required) {
        // §5.1: 0 is the demodulation floor; 255 is reserved.
        const double margin = std::floor(*snr - *required);
        if (std::isfinite(margin)) ans.margin = static_cast<std::uint8_t>(std::clamp(margin, 0.0, 254.0));
    }
    return ans;
}

std::chrono::milliseconds gps_time_of(std::chrono::system_clock::time_point utc) {
    return std::chrono::floor<std::chrono::milliseconds>(utc - gps_epoch) + gps_minus_utc;
}

std::chrono::milliseconds reception_gps_time(std::span<const common::RxInfo> rx_info) {
    for (const RxInfo& rx : rx_info) {
        if (rx.gps_time_ms) return std::chrono::milliseconds{static_cast<std::int64_t>(*rx.gps_time_ms)};
    }
    for (const RxInfo& rx : rx_info) {
        if (rx.time) return gps_time_of(*rx.time);
    }
    // Every reception has a receive time; with none at all (not a real uplink) this is the Unix epoch's GPS time,
    // before the GPS epoch, so negative.
    return gps_time_of(rx_info.empty() ? common::SystemTime{} : rx_info.front().received_at);
}

lorawan::DeviceTimeAns device_time_ans(std::chrono::milliseconds gps_time) {
    // A time before the GPS epoch cannot be told; the device gets the epoch itself.
    const std::int64_t ms = std::max<std::int64_t>(gps_time.count(), 0);
    lorawan::DeviceTimeAns ans;
    ans.seconds = static_cast<std::uint32_t>(ms / 1000);
    ans.fractional = static_cast<std::uint8_t>((ms % 1000) * 256 / 1000);
    return ans;
}

MacAnswers apply_mac_commands(MacState& state, std::span<const lorawan::MacCommand> commands) {
    MacAnswers out;
    AnswerApplier applier{state, commands, out};
    for (const lorawan::MacCommand& command : commands) std::visit(applier, command);
    clear_pending(state);
    return out;
}

std::size_t mac_commands_size(std::span<const lorawan::MacCommand> commands) noexcept {
    std::size_t total = 0;
    for (const lorawan::MacCommand& command : commands) {
        // Every alternative of MacCommand has a known size in its own direction.
        total += 1 + lorawan::payload_size(lorawan::cid_of(command), lorawan::direction_of(command)).value_or(0);
    }
    return total;
}

}  // namespace schwebe::ns
