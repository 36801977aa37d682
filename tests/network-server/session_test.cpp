// The stored form of the MAC state (network-server/session.hpp): exact round trips, and every malformed value
// refused rather than half read.

#include "network-server/session.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

using schwebe::lorawan::Bytes;
using schwebe::lorawan::ByteView;
using schwebe::ns::decode_mac_state;
using schwebe::ns::MacState;
using schwebe::ns::UplinkRecord;

namespace {

/// Every field away from its default, every optional set, and the largest history and values that need all bits.
MacState full_state() {
    MacState s;
    s.dr = 5;
    s.tx_power_index = 7;
    s.nb_trans = 3;
    s.ch_mask = 0xff07;
    s.extra_channels_hz = {867'100'000, 867'300'000, 867'500'000, 867'700'000, 0xffff'ffff};
    s.rx1_delay_s = 15;
    s.rx1_dr_offset = 5;
    s.rx2_dr = 3;
    s.rx2_frequency_hz = 869'525'000;
    s.pending_link_adr = schwebe::lorawan::LinkAdrReq{
        .data_rate = 5, .tx_power = 2, .ch_mask = 0x00ff, .ch_mask_cntl = 6, .nb_trans = 2};
    s.pending_rx_param_setup =
        schwebe::lorawan::RxParamSetupReq{.rx1_dr_offset = 2, .rx2_data_rate = 3, .frequency = 869'525'000};
    s.pending_rx_timing_setup = schwebe::lorawan::RxTimingSetupReq{.delay = 4};
    s.pending_duty_cycle = schwebe::lorawan::DutyCycleReq{.max_duty_cycle = 7};
    s.pending_new_channels = {
        schwebe::lorawan::NewChannelReq{.ch_index = 3, .frequency = 867'100'000, .min_dr = 0, .max_dr = 5},
        schwebe::lorawan::NewChannelReq{.ch_index = 4, .frequency = 0, .min_dr = 0, .max_dr = 0},
    };
    s.last_dev_status_request_s = -1'700'000'000'123;  // negative and beyond 32 bits: both halves matter
    for (std::uint32_t i = 0; i < MacState::history_size; ++i) {
        // SNRs that no fixed-point form would keep: thirds, a denormal, the extremes of a double.
        const double snr = i == 0   ? std::numeric_limits<double>::denorm_min()
                           : i == 1 ? -std::numeric_limits<double>::max()
                                    : -20.0 + i / 3.0;
        s.uplink_history.push_back(UplinkRecord{.f_cnt = 0xffff'ff00U + i,
                                                .max_snr = snr,
                                                .tx_power_index = static_cast<std::uint8_t>(i % 8),
                                                .gateway_count = static_cast<std::uint8_t>(i + 1)});
    }
    return s;
}

}  // namespace

TEST_CASE("mac state: a default state round trips and starts with format version 1", "[unit][session]") {
    const MacState state;
    const Bytes encoded = schwebe::ns::encode(state);
    REQUIRE_FALSE(encoded.empty());
    CHECK(encoded[0] == 1);
    const auto decoded = decode_mac_state(encoded);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == state);
}

TEST_CASE("mac state: a fully populated state round trips exactly", "[unit][session]") {
    const MacState state = full_state();
    const auto decoded = decode_mac_state(schwebe::ns::encode(state));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == state);
    // The SNR is kept bit for bit, not rounded to some step.
    REQUIRE(decoded->uplink_history.size() == MacState::history_size);
    CHECK(decoded->uplink_history[0].max_snr == std::numeric_limits<double>::denorm_min());
    CHECK(decoded->uplink_history[4].max_snr == state.uplink_history[4].max_snr);
}

TEST_CASE("mac state: every truncation of the encoding is refused", "[unit][session]") {
    const Bytes encoded = schwebe::ns::encode(full_state());
    for (std::size_t length = 0; length < encoded.size(); ++length) {
        INFO("length " << length << " of " << encoded.size());
        CHECK_FALSE(decode_mac_state(ByteView(encoded).first(length)).has_value());
    }
}

TEST_CASE("mac state: an unknown version, a trailing byte or a bad count is refused", "[unit][session]") {
    const Bytes encoded = schwebe::ns::encode(full_state());

    Bytes version_2 = encoded;
    version_2[0] = 2;
    CHECK_FALSE(decode_mac_state(version_2).has_value());
    Bytes version_0 = encoded;
    version_0[0] = 0;
    CHECK_FALSE(decode_mac_state(version_0).has_value());

    Bytes trailing = encoded;
    trailing.push_back(0);
    CHECK_FALSE(decode_mac_state(trailing).has_value());

    // A default state ends with its history count (0): say 21 with room for 21 records.
    Bytes too_long_history = schwebe::ns::encode(MacState{});
    too_long_history.back() = MacState::history_size + 1;
    too_long_history.resize(too_long_history.size() + (MacState::history_size + 1) * 14, 0);
    CHECK_FALSE(decode_mac_state(too_long_history).has_value());

    // The first presence byte (pending LinkADRReq) follows the 33 bytes of version, radio settings and RX windows.
    Bytes bad_presence = schwebe::ns::encode(MacState{});
    REQUIRE(bad_presence[33] == 0);
    bad_presence[33] = 2;
    CHECK_FALSE(decode_mac_state(bad_presence).has_value());
}

TEST_CASE("mac state: more history than ADR keeps is stored as the newest entries", "[unit][session]") {
    MacState state;
    for (std::uint32_t f_cnt = 0; f_cnt < MacState::history_size + 5; ++f_cnt) {
        state.uplink_history.push_back(UplinkRecord{.f_cnt = f_cnt, .max_snr = 1.5});
    }
    const auto decoded = decode_mac_state(schwebe::ns::encode(state));
    REQUIRE(decoded.has_value());
    REQUIRE(decoded->uplink_history.size() == MacState::history_size);
    CHECK(decoded->uplink_history.front().f_cnt == 5);
    CHECK(decoded->uplink_history.back().f_cnt == MacState::history_size + 4);
}
