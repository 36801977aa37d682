#include "network-server/adr.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <optional>

#include "lorawan/eu868.hpp"

namespace schwebe::ns {

// ChirpStack v4's "default" ADR algorithm (chirpstack/src/adr/default.rs), LoRa 125 kHz only. Where Schwebe differs,
// the comment at the spot says so:
//   - a DR above max_dr (or an FSK or unknown DR) is left alone instead of being lowered to max_dr: the caller
//     decides about devices that are outside what ADR manages (adr.hpp);
//   - the loss rate is lost / (received + lost), the share of the uplinks sent in the window that did not arrive;
//     ChirpStack divides by the received count only (10 % where this gives 9.09 % for 2 lost of 22 sent);
//   - a counter that does not increase between two entries (a reset, a duplicate) counts no loss, where ChirpStack's
//     unsigned subtraction would wrap.

namespace {
/// Each step is 3 dB of margin: one DR up (SF − 1 needs 2.5 dB more), or one TXPower index (2 dB in EU868).
constexpr double db_per_step = 3.0;

/// The highest LoRa 125 kHz DR not above `max_dr`: the algorithm compares SNRs of LoRa 125 kHz rates only, so it
/// never steps onto a 250 kHz or FSK rate even when the profile allows one (as ChirpStack).
std::optional<std::uint8_t> max_lora_125_dr(std::uint8_t max_dr) {
    std::optional<std::uint8_t> best;
    for (std::uint8_t dr = 0; dr <= std::min(max_dr, lorawan::eu868::max_dr); ++dr) {
        const auto rate = lorawan::eu868::data_rate(dr);
        if (rate && rate->modulation == lorawan::eu868::Modulation::lora && rate->bandwidth_hz == 125'000) best = dr;
    }
    return best;
}

double max_snr_of(std::span<const UplinkRecord> history) {
    double best = history.front().max_snr;
    for (const UplinkRecord& r : history) best = std::max(best, r.max_snr);
    return best;
}

/// Uplinks of the history sent at the current TXPower. ChirpStack waits for a full history at the current power
/// before giving power back, so that the uplinks from before the last power change do not count.
std::size_t count_at_power(std::span<const UplinkRecord> history, std::uint8_t tx_power_index) {
    return static_cast<std::size_t>(std::ranges::count(history, tx_power_index, &UplinkRecord::tx_power_index));
}

/// Spends `steps` (positive: margin to spare; negative: margin missing) on DR and TXPower; DR is never lowered.
AdrDecision apply_steps(AdrDecision d, int steps, std::uint8_t max_dr, std::uint8_t max_tx_power_index) {
    for (; steps > 0; --steps) {
        if (d.dr < max_dr) {
            ++d.dr;
        } else if (d.tx_power_index < max_tx_power_index) {
            ++d.tx_power_index;  // a higher index is less power
        }
    }
    for (; steps < 0; ++steps) {
        if (d.tx_power_index > 0) --d.tx_power_index;
    }
    return d;
}
}  // namespace

double packet_loss_percent(std::span<const UplinkRecord> history) {
    if (history.size() < MacState::history_size) return 0;
    std::uint64_t lost = 0;
    for (std::size_t i = 1; i < history.size(); ++i) {
        const std::uint32_t previous = history[i - 1].f_cnt;
        const std::uint32_t current = history[i].f_cnt;
        if (current > previous) lost += current - previous - 1;
    }
    const auto received = static_cast<double>(history.size());
    return static_cast<double>(lost) / (received + static_cast<double>(lost)) * 100.0;
}

std::uint8_t nb_trans_for_loss(std::uint8_t current_nb_trans, double loss_percent) {
    // Rows: loss < 5 %, < 10 %, < 30 %, more. Columns: current NbTrans 1, 2, 3.
    constexpr std::array<std::array<std::uint8_t, 3>, 4> table = {{{1, 1, 2}, {1, 2, 3}, {2, 3, 3}, {3, 3, 3}}};
    const std::size_t column = std::clamp<std::uint8_t>(current_nb_trans, 1, 3) - 1U;
    std::size_t row = 3;
    if (loss_percent < 5.0) {
        row = 0;
    } else if (loss_percent < 10.0) {
        row = 1;
    } else if (loss_percent < 30.0) {
        row = 2;
    }
    return table[row][column];
}

AdrDecision adr_decide(const AdrInput& input) {
    const AdrDecision unchanged{input.dr, input.tx_power_index, input.nb_trans};
    const auto max_dr = max_lora_125_dr(input.max_dr);
    const auto required_snr = lorawan::eu868::required_snr_db(input.dr);
    if (!max_dr || input.dr > *max_dr || !required_snr) return unchanged;

    // NbTrans follows the loss rate whatever happens to DR and power. With fewer than history_size uplinks the loss
    // counts as 0, so (as in ChirpStack) a device at NbTrans 2 or 3 comes down a step before the history is full.
    AdrDecision decision = unchanged;
    decision.nb_trans = nb_trans_for_loss(input.nb_trans, packet_loss_percent(input.history));
    if (input.history.empty()) return decision;

    const double margin_db = max_snr_of(input.history) - *required_snr - input.installation_margin_db;
    if (!std::isfinite(margin_db)) return decision;
    // Toward zero, as ChirpStack's `as isize`. More steps than DRs and powers exist change nothing more, and the bound
    // keeps the conversion defined for any SNR.
    const int steps = static_cast<int>(std::clamp(margin_db / db_per_step, -64.0, 64.0));

    // Giving power back on a short history would let the settings swing up and down (adr.hpp).
    if (steps < 0 && count_at_power(input.history, input.tx_power_index) < MacState::history_size) return decision;

    return apply_steps(decision, steps, *max_dr, input.max_tx_power_index);
}

}  // namespace schwebe::ns
