// ADR (ChirpStack's default algorithm) with expectations computed by hand. Required SNRs (EU868, lorawan/eu868.hpp):
// DR0 SF12 −20, DR1 SF11 −17.5, DR2 SF10 −15, DR3 SF9 −12.5, DR4 SF8 −10, DR5 SF7 −7.5 dB.
// margin = best SNR − required − installation margin; steps = margin / 3, toward zero.

#include "network-server/adr.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace schwebe;
using ns::AdrDecision;
using ns::AdrInput;
using ns::UplinkRecord;

namespace {
/// `count` uplinks with consecutive counters from `first_f_cnt`, all at `max_snr` and `tx_power_index`.
std::vector<UplinkRecord> history(std::size_t count, double max_snr, std::uint8_t tx_power_index = 0,
                                  std::uint32_t first_f_cnt = 100) {
    std::vector<UplinkRecord> h;
    for (std::size_t i = 0; i < count; ++i) {
        h.push_back({static_cast<std::uint32_t>(first_f_cnt + i), max_snr, tx_power_index, 1});
    }
    return h;
}

/// 20 uplinks whose counters skip `gaps` frames in total: each gap one frame, spread over the window.
std::vector<UplinkRecord> history_with_gaps(std::size_t gaps) {
    std::vector<UplinkRecord> h = history(ns::MacState::history_size, 0);
    for (std::size_t g = 0; g < gaps; ++g) {
        for (std::size_t i = 2 + g * 5; i < h.size(); ++i) ++h[i].f_cnt;
    }
    return h;
}

AdrInput input(std::uint8_t dr, std::uint8_t tx_power_index, std::uint8_t nb_trans,
               const std::vector<UplinkRecord>& h) {
    AdrInput in;
    in.dr = dr;
    in.tx_power_index = tx_power_index;
    in.nb_trans = nb_trans;
    in.history = h;
    return in;
}
}  // namespace

TEST_CASE("a good link is spent on data rate first, up to max_dr", "[unit][adr]") {
    // DR0: 5 − (−20) − 10 = 15 dB → 5 steps → DR0 + 5 = DR5 = max_dr; no step left for power.
    const auto h = history(3, 5.0);
    CHECK(ns::adr_decide(input(0, 0, 1, h)) == AdrDecision{5, 0, 1});

    // DR3: 5 − (−12.5) − 10 = 7.5 dB → 2 steps (7.5 / 3 = 2.5) → DR5.
    CHECK(ns::adr_decide(input(3, 0, 1, h)) == AdrDecision{5, 0, 1});

    // DR2: 0 − (−15) − 10 = 5 dB → 1 step (5 / 3 = 1.67) → DR3.
    CHECK(ns::adr_decide(input(2, 0, 1, history(3, 0.0))) == AdrDecision{3, 0, 1});
}

TEST_CASE("the steps left at max_dr lower the power, down to max_tx_power_index", "[unit][adr]") {
    // DR3: 10 − (−12.5) − 10 = 12.5 dB → 4 steps: DR4, DR5, then TXPower index 0 → 1 → 2.
    const auto h = history(3, 10.0);
    CHECK(ns::adr_decide(input(3, 0, 1, h)) == AdrDecision{5, 2, 1});

    // Same, with the profile allowing index 1 at most: the fourth step has nothing left to change.
    AdrInput capped = input(3, 0, 1, h);
    capped.max_tx_power_index = 1;
    CHECK(ns::adr_decide(capped) == AdrDecision{5, 1, 1});

    // DR5 at index 6, max 7: 10 − (−7.5) − 10 = 7.5 dB → 2 steps, only one of which fits.
    CHECK(ns::adr_decide(input(5, 6, 1, h)) == AdrDecision{5, 7, 1});
}

TEST_CASE("max_dr stops at the highest LoRa 125 kHz rate", "[unit][adr]") {
    // DR0: 10 − (−20) − 10 = 20 dB → 6 steps. Even with max_dr 7 the DR stops at DR5 (DR6 is 250 kHz, DR7 FSK):
    // 5 steps to DR5, the sixth lowers the power to index 1.
    const auto h = history(3, 10.0);
    AdrInput in = input(0, 0, 1, h);
    in.max_dr = 7;
    CHECK(ns::adr_decide(in) == AdrDecision{5, 1, 1});

    // A profile that stops lower: max_dr 3 → DR3, then 3 steps of power.
    in.max_dr = 3;
    CHECK(ns::adr_decide(in) == AdrDecision{3, 3, 1});
}

TEST_CASE("a missing margin gives power back with a full history", "[unit][adr]") {
    // DR5: −13 − (−7.5) − 10 = −15.5 dB → −5 steps (−15.5 / 3 = −5.17, toward zero) → index 3 → 0 (stops at 0).
    const auto full = history(20, -13.0, 3);
    CHECK(ns::adr_decide(input(5, 3, 1, full)) == AdrDecision{5, 0, 1});

    // Index 7: five steps → 2.
    CHECK(ns::adr_decide(input(5, 7, 1, history(20, -13.0, 7))) == AdrDecision{5, 2, 1});
}

TEST_CASE("a missing margin changes nothing until the history is full", "[unit][adr]") {
    // The same −5 steps with 5 uplinks: too few to judge, nothing changes.
    CHECK(ns::adr_decide(input(5, 3, 1, history(5, -13.0, 3))) == AdrDecision{5, 3, 1});
    CHECK(ns::adr_decide(input(5, 3, 1, history(19, -13.0, 3))) == AdrDecision{5, 3, 1});

    // As ChirpStack: the history must be full at the current power. 20 uplinks, but sent at index 2 (before the
    // device moved to 3), do not count.
    CHECK(ns::adr_decide(input(5, 3, 1, history(20, -13.0, 2))) == AdrDecision{5, 3, 1});
    auto mixed = history(20, -13.0, 3);
    mixed.front().tx_power_index = 2;
    CHECK(ns::adr_decide(input(5, 3, 1, mixed)) == AdrDecision{5, 3, 1});
}

TEST_CASE("steps are truncated toward zero", "[unit][adr]") {
    // DR5: 2 − (−7.5) − 10 = −0.5 dB → 0 steps (a floor would make it −1): nothing changes, full history or not.
    CHECK(ns::adr_decide(input(5, 3, 1, history(20, 2.0, 3))) == AdrDecision{5, 3, 1});
    // DR5: −1 − (−7.5) − 10 = −3.5 dB → −1 step (−1.17) → index 3 → 2.
    CHECK(ns::adr_decide(input(5, 3, 1, history(20, -1.0, 3))) == AdrDecision{5, 2, 1});
    // DR0: −4.1 − (−20) − 10 = 5.9 dB → 1 step (1.97) → DR1.
    CHECK(ns::adr_decide(input(0, 0, 1, history(1, -4.1))) == AdrDecision{1, 0, 1});
}

TEST_CASE("ADR never lowers the data rate", "[unit][adr]") {
    // DR3 at full power: −30 − (−12.5) − 10 = −27.5 dB → −9 steps, but there is no more power to give.
    CHECK(ns::adr_decide(input(3, 0, 1, history(20, -30.0))) == AdrDecision{3, 0, 1});
}

TEST_CASE("the best SNR of the history counts", "[unit][adr]") {
    // Best SNR 5 (the others −10): DR0 → 5 − (−20) − 10 = 15 dB → 5 steps → DR5.
    auto h = history(10, -10.0);
    h[7].max_snr = 5.0;
    CHECK(ns::adr_decide(input(0, 0, 1, h)) == AdrDecision{5, 0, 1});
}

TEST_CASE("a larger installation margin gives a slower data rate", "[unit][adr]") {
    const auto h = history(20, 5.0);
    // 10 dB (the default): 5 − (−20) − 10 = 15 dB → 5 steps → DR5.
    AdrInput in = input(0, 0, 1, h);
    CHECK(ns::adr_decide(in) == AdrDecision{5, 0, 1});
    // 20 dB for a parking sensor a car may cover: 5 − (−20) − 20 = 5 dB → 1 step → DR1.
    in.installation_margin_db = 20;
    CHECK(ns::adr_decide(in) == AdrDecision{1, 0, 1});
}

TEST_CASE("ADR leaves FSK, unknown and too-fast data rates alone", "[unit][adr]") {
    const auto h = history(20, 20.0, 3);
    // DR7 is FSK: no required SNR, so no margin.
    AdrInput fsk = input(7, 3, 3, h);
    fsk.max_dr = 7;
    CHECK(ns::adr_decide(fsk) == AdrDecision{7, 3, 3});
    // DR6 (SF7/250 kHz) above max_dr 5: not lowered, not touched (ChirpStack would set DR5).
    CHECK(ns::adr_decide(input(6, 3, 3, h)) == AdrDecision{6, 3, 3});
    // DR4 with max_dr 3.
    AdrInput above = input(4, 3, 3, h);
    above.max_dr = 3;
    CHECK(ns::adr_decide(above) == AdrDecision{4, 3, 3});
    // DR12: not a data rate of EU868.
    CHECK(ns::adr_decide(input(12, 3, 3, h)) == AdrDecision{12, 3, 3});
}

TEST_CASE("without history only NbTrans moves, as ChirpStack", "[unit][adr]") {
    // No history: loss counts as 0 → row < 5 %: NbTrans 1 → 1, 2 → 1, 3 → 2; DR and power stay.
    CHECK(ns::adr_decide(input(2, 1, 1, {})) == AdrDecision{2, 1, 1});
    CHECK(ns::adr_decide(input(2, 1, 2, {})) == AdrDecision{2, 1, 1});
    CHECK(ns::adr_decide(input(2, 1, 3, {})) == AdrDecision{2, 1, 2});
}

TEST_CASE("packet loss comes from the counter gaps of a full history", "[unit][adr]") {
    // 20 consecutive counters: nothing lost.
    CHECK(ns::packet_loss_percent(history(20, 0)) == 0.0);
    // 2 frames skipped: 20 received of 22 sent → 2 / 22 = 9.0909 %.
    CHECK(ns::packet_loss_percent(history_with_gaps(2)) == Approx(100.0 * 2 / 22));
    // 3 skipped: 3 / 23 = 13.04 %.
    CHECK(ns::packet_loss_percent(history_with_gaps(3)) == Approx(100.0 * 3 / 23));
    // One gap of 10 frames: 10 / 30 = 33.3 %.
    auto big_gap = history(20, 0);
    for (std::size_t i = 10; i < big_gap.size(); ++i) big_gap[i].f_cnt += 10;
    CHECK(ns::packet_loss_percent(big_gap) == Approx(100.0 / 3));
}

TEST_CASE("packet loss is 0 on a history too short to judge", "[unit][adr]") {
    auto h = history_with_gaps(3);
    h.pop_back();  // 19 entries, 3 gaps
    CHECK(ns::packet_loss_percent(h) == 0.0);
    CHECK(ns::packet_loss_percent({}) == 0.0);
}

TEST_CASE("a counter that goes back counts no loss", "[unit][adr]") {
    // 100..109, then a reset to 0..9: the step back is not 2^32 − 110 lost frames.
    auto h = history(20, 0);
    for (std::size_t i = 10; i < h.size(); ++i) h[i].f_cnt = static_cast<std::uint32_t>(i - 10);
    CHECK(ns::packet_loss_percent(h) == 0.0);
}

TEST_CASE("NbTrans follows ChirpStack's loss table", "[unit][adr]") {
    // rows by loss | current NbTrans 1 | 2 | 3
    //   < 5 %      |  1 | 1 | 2
    //   < 10 %     |  1 | 2 | 3
    //   < 30 %     |  2 | 3 | 3
    //   ≥ 30 %     |  3 | 3 | 3
    struct Row {
        double loss;
        std::array<std::uint8_t, 3> nb_trans;
    };
    const Row rows[] = {
        {0.0, {1, 1, 2}},  {4.99, {1, 1, 2}},  {5.0, {1, 2, 3}},  {9.99, {1, 2, 3}},
        {10.0, {2, 3, 3}}, {29.99, {2, 3, 3}}, {30.0, {3, 3, 3}}, {100.0, {3, 3, 3}},
    };
    for (const Row& r : rows) {
        for (std::uint8_t current = 1; current <= 3; ++current) {
            INFO("loss " << r.loss << " % NbTrans " << static_cast<int>(current));
            CHECK(ns::nb_trans_for_loss(current, r.loss) == r.nb_trans[current - 1U]);
        }
    }
    // The current NbTrans is clamped to 1..3 to pick the column.
    CHECK(ns::nb_trans_for_loss(0, 7.0) == 1);   // as 1
    CHECK(ns::nb_trans_for_loss(15, 7.0) == 3);  // as 3
    CHECK(ns::nb_trans_for_loss(15, 0.0) == 2);  // as 3
}

TEST_CASE("ADR sets NbTrans from the measured loss", "[unit][adr]") {
    // 2 of 22 lost = 9.09 % → row < 10 %: NbTrans 2 stays 2 (at 0 % it would drop to 1; with ChirpStack's
    // 2 / 20 = 10 % it would rise to 3).
    CHECK(ns::adr_decide(input(5, 0, 2, history_with_gaps(2))).nb_trans == 2);
    CHECK(ns::adr_decide(input(5, 0, 1, history_with_gaps(2))).nb_trans == 1);
    // 3 of 23 = 13 % → row < 30 %: 1 → 2, 2 → 3.
    CHECK(ns::adr_decide(input(5, 0, 1, history_with_gaps(3))).nb_trans == 2);
    CHECK(ns::adr_decide(input(5, 0, 2, history_with_gaps(3))).nb_trans == 3);
    // NbTrans changes even when the margin is negative on a short history (the early return keeps it).
    auto short_history = history(5, -30.0);
    CHECK(ns::adr_decide(input(5, 0, 3, short_history)) == AdrDecision{5, 0, 2});
}
