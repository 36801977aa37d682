#include "network-server/session.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace schwebe::ns {

// The stored MAC state, format version 1. Little endian throughout, as every multi-byte value written through
// ByteWriter; a double is kept as the 8 bytes of its IEEE 754 form, so it comes back exactly.
//
//   | version = 1 (1) |
//   | dr (1) | tx_power_index (1) | nb_trans (1) | ch_mask (2) | extra_channels_hz (5 × 4) |
//   | rx1_delay_s (1) | rx1_dr_offset (1) | rx2_dr (1) | rx2_frequency_hz (4) |
//   | LinkADRReq?    present (1) [ data_rate (1) | tx_power (1) | ch_mask (2) | ch_mask_cntl (1) | nb_trans (1) ] |
//   | RXParamSetup?  present (1) [ rx1_dr_offset (1) | rx2_data_rate (1) | frequency (4) ] |
//   | RXTimingSetup? present (1) [ delay (1) ] |
//   | DutyCycleReq?  present (1) [ max_duty_cycle (1) ] |
//   | NewChannelReq count (1) × [ ch_index (1) | frequency (4) | min_dr (1) | max_dr (1) ] |
//   | last_dev_status_request_s (8, two's complement) |
//   | uplink history count (1) × [ f_cnt (4) | max_snr (8, IEEE 754) | tx_power_index (1) | gateway_count (1) ] |
//
// "present" is 0 or 1; any other value, a count above its limit, a version other than 1, missing or trailing bytes
// make the whole value unreadable.

namespace {

constexpr std::uint8_t format_version = 1;
/// One pending NewChannelReq per channel index: ChIndex addresses channels 0..15 (LoRaWAN 1.0.4 §5.6, RP002 EU868).
constexpr std::size_t max_new_channels = 16;

void write_u64(lorawan::ByteWriter& w, std::uint64_t v) {
    w.u32_le(static_cast<std::uint32_t>(v));
    w.u32_le(static_cast<std::uint32_t>(v >> 32));
}

std::optional<std::uint64_t> read_u64(lorawan::ByteReader& r) {
    const auto low = r.u32_le();
    const auto high = r.u32_le();
    if (!low || !high) return std::nullopt;
    return std::uint64_t{*low} | (std::uint64_t{*high} << 32);
}

/// Reads a presence byte: true/false, nullopt for a missing byte or a value other than 0 and 1.
std::optional<bool> read_present(lorawan::ByteReader& r) {
    const auto flag = r.u8();
    if (!flag || *flag > 1) return std::nullopt;
    return *flag == 1;
}

void write_optional(lorawan::ByteWriter& w, const std::optional<lorawan::LinkAdrReq>& req) {
    w.u8(req ? 1 : 0);
    if (!req) return;
    w.u8(req->data_rate);
    w.u8(req->tx_power);
    w.u16_le(req->ch_mask);
    w.u8(req->ch_mask_cntl);
    w.u8(req->nb_trans);
}

void write_optional(lorawan::ByteWriter& w, const std::optional<lorawan::RxParamSetupReq>& req) {
    w.u8(req ? 1 : 0);
    if (!req) return;
    w.u8(req->rx1_dr_offset);
    w.u8(req->rx2_data_rate);
    w.u32_le(req->frequency);
}

void write_optional(lorawan::ByteWriter& w, const std::optional<lorawan::RxTimingSetupReq>& req) {
    w.u8(req ? 1 : 0);
    if (req) w.u8(req->delay);
}

void write_optional(lorawan::ByteWriter& w, const std::optional<lorawan::DutyCycleReq>& req) {
    w.u8(req ? 1 : 0);
    if (req) w.u8(req->max_duty_cycle);
}

/// Each read_* returns false when the input is short or malformed; `out` is then unspecified.
bool read_optional(lorawan::ByteReader& r, std::optional<lorawan::LinkAdrReq>& out) {
    const auto present = read_present(r);
    if (!present) return false;
    if (!*present) return true;
    const auto data_rate = r.u8();
    const auto tx_power = r.u8();
    const auto ch_mask = r.u16_le();
    const auto ch_mask_cntl = r.u8();
    const auto nb_trans = r.u8();
    if (!data_rate || !tx_power || !ch_mask || !ch_mask_cntl || !nb_trans) return false;
    out = lorawan::LinkAdrReq{.data_rate = *data_rate,
                              .tx_power = *tx_power,
                              .ch_mask = *ch_mask,
                              .ch_mask_cntl = *ch_mask_cntl,
                              .nb_trans = *nb_trans};
    return true;
}

bool read_optional(lorawan::ByteReader& r, std::optional<lorawan::RxParamSetupReq>& out) {
    const auto present = read_present(r);
    if (!present) return false;
    if (!*present) return true;
    const auto rx1_dr_offset = r.u8();
    const auto rx2_data_rate = r.u8();
    const auto frequency = r.u32_le();
    if (!rx1_dr_offset || !rx2_data_rate || !frequency) return false;
    out = lorawan::RxParamSetupReq{
        .rx1_dr_offset = *rx1_dr_offset, .rx2_data_rate = *rx2_data_rate, .frequency = *frequency};
    return true;
}

bool read_optional(lorawan::ByteReader& r, std::optional<lorawan::RxTimingSetupReq>& out) {
    const auto present = read_present(r);
    if (!present) return false;
    if (!*present) return true;
    const auto delay = r.u8();
    if (!delay) return false;
    out = lorawan::RxTimingSetupReq{.delay = *delay};
    return true;
}

bool read_optional(lorawan::ByteReader& r, std::optional<lorawan::DutyCycleReq>& out) {
    const auto present = read_present(r);
    if (!present) return false;
    if (!*present) return true;
    const auto max_duty_cycle = r.u8();
    if (!max_duty_cycle) return false;
    out = lorawan::DutyCycleReq{.max_duty_cycle = *max_duty_cycle};
    return true;
}

bool read_new_channels(lorawan::ByteReader& r, std::vector<lorawan::NewChannelReq>& out) {
    const auto count = r.u8();
    if (!count || *count > max_new_channels) return false;
    for (std::size_t i = 0; i < *count; ++i) {
        const auto ch_index = r.u8();
        const auto frequency = r.u32_le();
        const auto min_dr = r.u8();
        const auto max_dr = r.u8();
        if (!ch_index || !frequency || !min_dr || !max_dr) return false;
        out.push_back(lorawan::NewChannelReq{
            .ch_index = *ch_index, .frequency = *frequency, .min_dr = *min_dr, .max_dr = *max_dr});
    }
    return true;
}

bool read_history(lorawan::ByteReader& r, std::vector<UplinkRecord>& out) {
    const auto count = r.u8();
    if (!count || *count > MacState::history_size) return false;
    for (std::size_t i = 0; i < *count; ++i) {
        const auto f_cnt = r.u32_le();
        const auto max_snr = read_u64(r);
        const auto tx_power_index = r.u8();
        const auto gateway_count = r.u8();
        if (!f_cnt || !max_snr || !tx_power_index || !gateway_count) return false;
        out.push_back(UplinkRecord{.f_cnt = *f_cnt,
                                   .max_snr = std::bit_cast<double>(*max_snr),
                                   .tx_power_index = *tx_power_index,
                                   .gateway_count = *gateway_count});
    }
    return true;
}

}  // namespace

lorawan::Bytes encode(const MacState& state) {
    lorawan::Bytes out;
    out.reserve(64 + state.uplink_history.size() * 14);
    lorawan::ByteWriter w(out);
    w.u8(format_version);

    w.u8(state.dr);
    w.u8(state.tx_power_index);
    w.u8(state.nb_trans);
    w.u16_le(state.ch_mask);
    for (const auto hz : state.extra_channels_hz) w.u32_le(hz);
    w.u8(state.rx1_delay_s);
    w.u8(state.rx1_dr_offset);
    w.u8(state.rx2_dr);
    w.u32_le(state.rx2_frequency_hz);

    write_optional(w, state.pending_link_adr);
    write_optional(w, state.pending_rx_param_setup);
    write_optional(w, state.pending_rx_timing_setup);
    write_optional(w, state.pending_duty_cycle);

    // Within the limits decode accepts: more than one request per channel index, or more history than ADR keeps,
    // is not a state the MAC layer produces; the first requests and the newest uplinks are the ones kept.
    const std::size_t channels = std::min(state.pending_new_channels.size(), max_new_channels);
    w.u8(static_cast<std::uint8_t>(channels));
    for (std::size_t i = 0; i < channels; ++i) {
        const auto& req = state.pending_new_channels[i];
        w.u8(req.ch_index);
        w.u32_le(req.frequency);
        w.u8(req.min_dr);
        w.u8(req.max_dr);
    }

    write_u64(w, static_cast<std::uint64_t>(state.last_dev_status_request_s));

    const std::size_t history = std::min(state.uplink_history.size(), MacState::history_size);
    w.u8(static_cast<std::uint8_t>(history));
    for (std::size_t i = state.uplink_history.size() - history; i < state.uplink_history.size(); ++i) {
        const auto& record = state.uplink_history[i];
        w.u32_le(record.f_cnt);
        write_u64(w, std::bit_cast<std::uint64_t>(record.max_snr));
        w.u8(record.tx_power_index);
        w.u8(record.gateway_count);
    }
    return out;
}

std::optional<MacState> decode_mac_state(lorawan::ByteView bytes) {
    lorawan::ByteReader r(bytes);
    const auto version = r.u8();
    if (!version || *version != format_version) return std::nullopt;

    MacState state;
    const auto dr = r.u8();
    const auto tx_power_index = r.u8();
    const auto nb_trans = r.u8();
    const auto ch_mask = r.u16_le();
    if (!dr || !tx_power_index || !nb_trans || !ch_mask) return std::nullopt;
    state.dr = *dr;
    state.tx_power_index = *tx_power_index;
    state.nb_trans = *nb_trans;
    state.ch_mask = *ch_mask;
    for (auto& hz : state.extra_channels_hz) {
        const auto value = r.u32_le();
        if (!value) return std::nullopt;
        hz = *value;
    }
    const auto rx1_delay_s = r.u8();
    const auto rx1_dr_offset = r.u8();
    const auto rx2_dr = r.u8();
    const auto rx2_frequency_hz = r.u32_le();
    if (!rx1_delay_s || !rx1_dr_offset || !rx2_dr || !rx2_frequency_hz) return std::nullopt;
    state.rx1_delay_s = *rx1_delay_s;
    state.rx1_dr_offset = *rx1_dr_offset;
    state.rx2_dr = *rx2_dr;
    state.rx2_frequency_hz = *rx2_frequency_hz;

    if (!read_optional(r, state.pending_link_adr) || !read_optional(r, state.pending_rx_param_setup) ||
        !read_optional(r, state.pending_rx_timing_setup) || !read_optional(r, state.pending_duty_cycle) ||
        !read_new_channels(r, state.pending_new_channels)) {
        return std::nullopt;
    }

    const auto last_dev_status = read_u64(r);
    if (!last_dev_status) return std::nullopt;
    state.last_dev_status_request_s = static_cast<std::int64_t>(*last_dev_status);

    if (!read_history(r, state.uplink_history)) return std::nullopt;
    if (!r.empty()) return std::nullopt;
    return state;
}

}  // namespace schwebe::ns
