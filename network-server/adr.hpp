#pragma once
// Adaptive data rate, network side (DESIGN.md, ADR): ChirpStack's default algorithm. From the best SNR of the last
// 20 uplinks, the margin over what the data rate needs, less an installation margin (10 dB by default; more for
// parking sensors that a parked car covers), is spent in 3 dB steps: first on a faster data rate, then on less
// transmit power. A negative margin gives power back, but only with a full history, so that the settings do not
// swing up and down. NbTrans follows the packet loss measured from the counter gaps.

#include <cstdint>
#include <span>

#include "network-server/session.hpp"

namespace schwebe::ns {

struct AdrInput {
    std::uint8_t dr = 0;              ///< current data rate
    std::uint8_t tx_power_index = 0;  ///< current TXPower index (0 = MaxEIRP)
    std::uint8_t nb_trans = 1;
    double installation_margin_db = 10;
    std::uint8_t max_dr = 5;                ///< highest DR ADR may choose (EU868 LoRa 125 kHz: DR5)
    std::uint8_t max_tx_power_index = 7;    ///< lowest power ADR may choose (EU868: index 7, MaxEIRP − 14 dB)
    std::span<const UplinkRecord> history;  ///< oldest first, at most MacState::history_size
};

struct AdrDecision {
    std::uint8_t dr = 0;
    std::uint8_t tx_power_index = 0;
    std::uint8_t nb_trans = 1;
    bool operator==(const AdrDecision&) const = default;
};

/// The settings ADR wants: the input's DR and power when nothing should change (no history, a DR above max_dr, FSK),
/// with NbTrans still following the measured loss (0 % below a full history).
[[nodiscard]] AdrDecision adr_decide(const AdrInput& input);

/// Percent of uplinks lost between the first and last of `history`, from the gaps in their counters; 0 with fewer
/// than MacState::history_size entries (too few to judge).
[[nodiscard]] double packet_loss_percent(std::span<const UplinkRecord> history);

/// NbTrans for a loss rate, from the current NbTrans (ChirpStack's table; 1..3).
[[nodiscard]] std::uint8_t nb_trans_for_loss(std::uint8_t current_nb_trans, double loss_percent);

}  // namespace schwebe::ns
