#include "lorawan/airtime.hpp"

#include <algorithm>
#include <cmath>

namespace schwebe::lorawan {

Milliseconds lora_time_on_air(const LoRaTxParams& p, std::size_t phy_payload_size) noexcept {
    if (p.spreading_factor < 6 || p.spreading_factor > 12 || p.bandwidth_hz == 0 || p.coding_rate < 1 ||
        p.coding_rate > 4) {
        return Milliseconds{0};
    }
    const double t_sym_ms = std::ldexp(1.0, p.spreading_factor) / static_cast<double>(p.bandwidth_hz) * 1000.0;
    bool de = false;
    switch (p.low_data_rate_optimize) {
        case LowDataRateOptimize::automatic: de = t_sym_ms >= 16.0; break;
        case LowDataRateOptimize::on: de = true; break;
        case LowDataRateOptimize::off: de = false; break;
    }
    const double t_preamble = (p.preamble_symbols + 4.25) * t_sym_ms;
    const double sf = p.spreading_factor;
    const double numerator = 8.0 * static_cast<double>(phy_payload_size) - 4.0 * sf + 28.0 + (p.crc ? 16.0 : 0.0) -
                             (p.explicit_header ? 0.0 : 20.0);
    const double denominator = 4.0 * (sf - (de ? 2.0 : 0.0));
    const double n_payload = 8.0 + std::max(std::ceil(numerator / denominator) * (p.coding_rate + 4), 0.0);
    return Milliseconds{t_preamble + n_payload * t_sym_ms};
}

Milliseconds fsk_time_on_air(std::uint32_t bit_rate, std::size_t phy_payload_size) noexcept {
    if (bit_rate == 0) return Milliseconds{0};
    constexpr std::size_t overhead_bytes = 5 + 3 + 1 + 2;
    return Milliseconds{static_cast<double>((overhead_bytes + phy_payload_size) * 8) * 1000.0 / bit_rate};
}

}  // namespace schwebe::lorawan
