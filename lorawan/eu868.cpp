#include "lorawan/eu868.hpp"

namespace schwebe::lorawan::eu868 {

namespace {
constexpr std::array<DataRate, 8> data_rates = {{
    {Modulation::lora, 12, 125'000, 250},
    {Modulation::lora, 11, 125'000, 440},
    {Modulation::lora, 10, 125'000, 980},
    {Modulation::lora, 9, 125'000, 1'760},
    {Modulation::lora, 8, 125'000, 3'125},
    {Modulation::lora, 7, 125'000, 5'470},
    {Modulation::lora, 7, 250'000, 11'000},
    {Modulation::fsk, 0, 0, 50'000},
}};

constexpr std::array<MaxPayload, 8> max_payloads = {{
    {59, 51},
    {59, 51},
    {59, 51},
    {123, 115},
    {250, 242},
    {250, 242},
    {250, 242},
    {250, 242},
}};

constexpr std::array<int, 16> coded_max_eirp = {8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36};

// SF7..SF12; SF7 at 250 kHz needs the same SNR as at 125 kHz.
constexpr std::array<double, 6> required_snr_by_sf = {-7.5, -10.0, -12.5, -15.0, -17.5, -20.0};
}  // namespace

std::optional<DataRate> data_rate(std::uint8_t dr) noexcept {
    if (dr > max_dr) return std::nullopt;
    return data_rates[dr];
}

std::optional<std::uint8_t> dr_of_lora(std::uint8_t spreading_factor, std::uint32_t bandwidth_hz) noexcept {
    for (std::uint8_t dr = 0; dr <= max_dr; ++dr) {
        const DataRate& d = data_rates[dr];
        if (d.modulation == Modulation::lora && d.spreading_factor == spreading_factor &&
            d.bandwidth_hz == bandwidth_hz) {
            return dr;
        }
    }
    return std::nullopt;
}

std::optional<std::uint8_t> dr_of_fsk(std::uint32_t bit_rate) noexcept {
    if (bit_rate == data_rates[7].bit_rate) return std::uint8_t{7};
    return std::nullopt;
}

std::optional<std::uint8_t> rx1_dr(std::uint8_t uplink_dr, std::uint8_t rx1_dr_offset) noexcept {
    if (uplink_dr > max_dr || rx1_dr_offset > max_rx1_dr_offset) return std::nullopt;
    return static_cast<std::uint8_t>(uplink_dr > rx1_dr_offset ? uplink_dr - rx1_dr_offset : 0);
}

std::optional<MaxPayload> max_payload(std::uint8_t dr) noexcept {
    if (dr > max_dr) return std::nullopt;
    return max_payloads[dr];
}

std::optional<int> tx_power_eirp_dbm(std::uint8_t tx_power, int max_eirp) noexcept {
    if (tx_power > max_tx_power_index) return std::nullopt;
    return max_eirp - 2 * tx_power;
}

std::optional<int> coded_max_eirp_dbm(std::uint8_t index) noexcept {
    if (index >= coded_max_eirp.size()) return std::nullopt;
    return coded_max_eirp[index];
}

std::optional<double> required_snr_db(std::uint8_t dr) noexcept {
    const auto d = data_rate(dr);
    if (!d || d->modulation != Modulation::lora) return std::nullopt;
    return required_snr_by_sf[d->spreading_factor - 7U];
}

}  // namespace schwebe::lorawan::eu868
