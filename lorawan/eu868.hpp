#pragma once
/// EU863-870 regional parameters (LoRaWAN Regional Parameters RP002-1.0.4 §2.4), for LoRaWAN 1.0.x devices.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace schwebe::lorawan::eu868 {

enum class Modulation : std::uint8_t { lora, fsk };

struct DataRate {
    Modulation modulation = Modulation::lora;
    std::uint8_t spreading_factor = 0;  ///< LoRa only
    std::uint32_t bandwidth_hz = 0;     ///< LoRa only
    std::uint32_t bit_rate = 0;         ///< bits per second: FSK's rate; LoRa's indicative rate
    bool operator==(const DataRate&) const = default;
};

/// DR0..DR7 (RP002 Table 2.4.3). DR8..DR11 (LR-FHSS) and the RFU values are not supported: nullopt.
[[nodiscard]] std::optional<DataRate> data_rate(std::uint8_t dr) noexcept;
/// The DR index of a LoRa spreading factor and bandwidth, or of FSK 50 kbps.
[[nodiscard]] std::optional<std::uint8_t> dr_of_lora(std::uint8_t spreading_factor,
                                                     std::uint32_t bandwidth_hz) noexcept;
[[nodiscard]] std::optional<std::uint8_t> dr_of_fsk(std::uint32_t bit_rate) noexcept;
inline constexpr std::uint8_t max_dr = 7;

/// The three channels every EU868 device knows from the start (RP002 §2.4.2), DR0..DR5.
inline constexpr std::array<std::uint32_t, 3> default_channels_hz = {868'100'000, 868'300'000, 868'500'000};
inline constexpr std::uint32_t min_frequency_hz = 863'000'000;
inline constexpr std::uint32_t max_frequency_hz = 870'000'000;

/// RX1 data rate from the uplink DR and RX1DROffset (RP002 Table 2.4.7: max(0, DR − offset), offsets 0..5).
[[nodiscard]] std::optional<std::uint8_t> rx1_dr(std::uint8_t uplink_dr, std::uint8_t rx1_dr_offset) noexcept;
inline constexpr std::uint8_t max_rx1_dr_offset = 5;

/// RX2 defaults (RP002 §2.4.8).
inline constexpr std::uint32_t rx2_frequency_hz = 869'525'000;
inline constexpr std::uint8_t rx2_dr = 0;

/// Maximum MACPayload size M and application payload size N (FOpts empty) per DR (RP002 Table 2.4.6, no repeater).
struct MaxPayload {
    std::uint16_t mac_payload = 0;  ///< M
    std::uint16_t frm_payload = 0;  ///< N = M − 8
    bool operator==(const MaxPayload&) const = default;
};
[[nodiscard]] std::optional<MaxPayload> max_payload(std::uint8_t dr) noexcept;

/// Default MaxEIRP of the band, and the TXPower index → EIRP table (RP002 Table 2.4.4: MaxEIRP − 2·index dB for
/// index 0..7; 8..14 RFU; 15 is "keep" in LinkADRReq and has no value here).
inline constexpr int max_eirp_dbm = 16;
[[nodiscard]] std::optional<int> tx_power_eirp_dbm(std::uint8_t tx_power, int max_eirp = max_eirp_dbm) noexcept;
inline constexpr std::uint8_t max_tx_power_index = 7;

/// MaxEIRP values coded by TxParamSetupReq (LoRaWAN 1.0.4 §5.9), dBm.
[[nodiscard]] std::optional<int> coded_max_eirp_dbm(std::uint8_t index) noexcept;

/// The SNR a LoRa DR needs at the demodulator (Semtech SX127x datasheet; what ADR and LinkCheckAns margins are
/// measured against), dB. nullopt for FSK.
[[nodiscard]] std::optional<double> required_snr_db(std::uint8_t dr) noexcept;

/// Class A timing (RP002 Table 2.4.10 defaults).
inline constexpr std::chrono::seconds receive_delay1{1};
inline constexpr std::chrono::seconds receive_delay2{2};
inline constexpr std::chrono::seconds join_accept_delay1{5};
inline constexpr std::chrono::seconds join_accept_delay2{6};

/// Downlink channel frequencies: RX1 answers on the uplink frequency in EU868.
[[nodiscard]] constexpr std::uint32_t rx1_frequency_hz(std::uint32_t uplink_frequency_hz) noexcept {
    return uplink_frequency_hz;
}

}  // namespace schwebe::lorawan::eu868
