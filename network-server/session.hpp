#pragma once
// A device's session as the network server keeps it: the keys and counters of LoRaWAN 1.0.x, and the MAC state the
// network believes the device is in (what the join-accept set or the device confirmed by answering a request).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "lorawan/bytes.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/types.hpp"

namespace schwebe::ns {

/// One received uplink, as ADR needs it (ChirpStack keeps the same four values).
struct UplinkRecord {
    std::uint32_t f_cnt = 0;
    double max_snr = 0;  ///< best SNR over the gateways that heard it, dB
    std::uint8_t tx_power_index = 0;
    std::uint8_t gateway_count = 0;
    bool operator==(const UplinkRecord&) const = default;
};

/// What the network believes about the device's radio settings, and what it has asked and awaits an answer for.
struct MacState {
    static constexpr std::size_t history_size = 20;  ///< uplinks kept for ADR

    // In use by the device, as far as the network knows.
    std::uint8_t dr = 0;              ///< of the last uplink
    std::uint8_t tx_power_index = 0;  ///< 0 = MaxEIRP (RP002 Table 2.4.4)
    std::uint8_t nb_trans = 1;
    std::uint16_t ch_mask = 0x0007;  ///< enabled channels 0..15 (bit i = channel i)
    /// Channels 3..7 beyond the three defaults (Hz, 0: none), as a CFList or NewChannelReq set them.
    std::array<std::uint32_t, 5> extra_channels_hz{};
    std::uint8_t rx1_delay_s = 1;
    std::uint8_t rx1_dr_offset = 0;
    std::uint8_t rx2_dr = 0;
    std::uint32_t rx2_frequency_hz = 869'525'000;

    // Sent in the last downlink, awaiting the device's answer in its next uplink; cleared by that uplink whether it
    // answers or not, so that a lost request is asked again later.
    std::optional<lorawan::LinkAdrReq> pending_link_adr;
    std::optional<lorawan::RxParamSetupReq> pending_rx_param_setup;
    std::optional<lorawan::RxTimingSetupReq> pending_rx_timing_setup;
    std::optional<lorawan::DutyCycleReq> pending_duty_cycle;
    std::vector<lorawan::NewChannelReq> pending_new_channels;

    /// When DevStatusReq was last sent (seconds since the Unix epoch); 0: never.
    std::int64_t last_dev_status_request_s = 0;
    /// Oldest first, at most history_size.
    std::vector<UplinkRecord> uplink_history;

    bool operator==(const MacState&) const = default;
};

/// The MAC state as stored (a versioned binary form: it is written with every uplink, so it must be cheap).
[[nodiscard]] lorawan::Bytes encode(const MacState& state);
/// nullopt for bytes that are not an encoded MacState of a known version.
[[nodiscard]] std::optional<MacState> decode_mac_state(lorawan::ByteView bytes);

struct DeviceSession {
    lorawan::DevAddr dev_addr;
    lorawan::NwkSKey nwk_s_key;
    lorawan::AppSKey app_s_key;
    std::optional<std::uint32_t> f_cnt_up;  ///< the last accepted uplink counter; nullopt before the first
    std::uint32_t n_f_cnt_down = 0;         ///< the next downlink counter; persisted before a downlink goes out
    MacState mac;
    bool operator==(const DeviceSession&) const = default;
};

}  // namespace schwebe::ns
