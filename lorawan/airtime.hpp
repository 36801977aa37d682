#pragma once
/// Time on air of a LoRa or FSK frame (Semtech AN1200.13 "LoRa Modem Designer's Guide"; SX1272/3/6/7/8
/// datasheets §4.1.1.7):
///
///   T_sym      = 2^SF / BW
///   T_preamble = (n_preamble + 4.25) · T_sym
///   n_payload  = 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)
///   T_frame    = T_preamble + n_payload · T_sym
///
/// with PL the PHYPayload length, IH = 1 for an implicit header, DE = 1 with low-data-rate optimisation, CR = 1..4
/// for 4/5..4/8.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace schwebe::lorawan {

using Milliseconds = std::chrono::duration<double, std::milli>;

enum class LowDataRateOptimize : std::uint8_t {
    automatic,  ///< on when a symbol lasts 16 ms or longer (SF11 and SF12 at 125 kHz), as LoRaWAN devices do
    on,
    off,
};

struct LoRaTxParams {
    std::uint8_t spreading_factor = 7;  ///< 6..12
    std::uint32_t bandwidth_hz = 125'000;
    std::uint8_t coding_rate = 1;  ///< 1..4 for 4/5..4/8
    std::uint16_t preamble_symbols = 8;
    bool explicit_header = true;
    bool crc = true;  ///< LoRaWAN uplinks carry a CRC, downlinks do not
    LowDataRateOptimize low_data_rate_optimize = LowDataRateOptimize::automatic;
};

/// Time on air of a LoRa frame of `phy_payload_size` bytes. Zero for parameters outside their ranges.
[[nodiscard]] Milliseconds lora_time_on_air(const LoRaTxParams& params, std::size_t phy_payload_size) noexcept;

/// Time on air of an FSK frame as LoRaWAN sends it: 5 preamble bytes, 3 sync-word bytes, a length byte, the
/// PHYPayload and a 2-byte CRC (RP002 §2.1), at `bit_rate` bits per second.
[[nodiscard]] Milliseconds fsk_time_on_air(std::uint32_t bit_rate, std::size_t phy_payload_size) noexcept;

}  // namespace schwebe::lorawan
