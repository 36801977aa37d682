// EU863-870 regional parameters against the tables of LoRaWAN Regional Parameters RP002-1.0.x §2.4 and LoRaWAN
// 1.0.4 §5.9, written out here from the documents, not taken from the implementation.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "lorawan/eu868.hpp"
#include "test_support.hpp"

using namespace schwebe::lorawan;
namespace eu = schwebe::lorawan::eu868;

TEST_CASE("EU868 data rates DR0..DR7 follow RP002 Table 2.4.3", "[unit][eu868]") {
    struct Row {
        std::uint8_t dr;
        std::uint8_t spreading_factor;
        std::uint32_t bandwidth_hz;
        std::uint32_t bit_rate;  ///< the indicative physical bit rate of the table
    };
    // DR | configuration    | indicative bit/s
    //  0 | SF12 / 125 kHz   |   250
    //  1 | SF11 / 125 kHz   |   440
    //  2 | SF10 / 125 kHz   |   980
    //  3 | SF9  / 125 kHz   |  1760
    //  4 | SF8  / 125 kHz   |  3125
    //  5 | SF7  / 125 kHz   |  5470
    //  6 | SF7  / 250 kHz   | 11000
    const Row lora[] = {
        {0, 12, 125'000, 250}, {1, 11, 125'000, 440}, {2, 10, 125'000, 980},   {3, 9, 125'000, 1760},
        {4, 8, 125'000, 3125}, {5, 7, 125'000, 5470}, {6, 7, 250'000, 11'000},
    };
    for (const Row& r : lora) {
        INFO("DR" << static_cast<int>(r.dr));
        const auto dr = eu::data_rate(r.dr);
        REQUIRE(dr.has_value());
        CHECK(dr->modulation == eu::Modulation::lora);
        CHECK(dr->spreading_factor == r.spreading_factor);
        CHECK(dr->bandwidth_hz == r.bandwidth_hz);
        CHECK(dr->bit_rate == r.bit_rate);
    }
    //  7 | FSK 50 kbps
    const auto dr7 = eu::data_rate(7);
    REQUIRE(dr7.has_value());
    CHECK(dr7->modulation == eu::Modulation::fsk);
    CHECK(dr7->bit_rate == 50'000U);

    CHECK(eu::max_dr == std::uint8_t{7});
}

TEST_CASE("EU868 DR8 and above are not supported", "[unit][eu868]") {
    // DR8..DR11 are LR-FHSS (RP002-1.0.1 onwards), DR12..DR14 RFU, DR15 "keep" in LinkADRReq: none is a data rate
    // a LoRaWAN 1.0.x EU868 device in this server uses.
    for (unsigned dr = 8; dr <= 255; ++dr) {
        INFO("DR" << dr);
        CHECK_FALSE(eu::data_rate(static_cast<std::uint8_t>(dr)).has_value());
    }
}

TEST_CASE("EU868 dr_of_lora and dr_of_fsk invert the data rate table", "[unit][eu868]") {
    CHECK(eu::dr_of_lora(12, 125'000) == std::optional<std::uint8_t>{0});
    CHECK(eu::dr_of_lora(11, 125'000) == std::optional<std::uint8_t>{1});
    CHECK(eu::dr_of_lora(10, 125'000) == std::optional<std::uint8_t>{2});
    CHECK(eu::dr_of_lora(9, 125'000) == std::optional<std::uint8_t>{3});
    CHECK(eu::dr_of_lora(8, 125'000) == std::optional<std::uint8_t>{4});
    CHECK(eu::dr_of_lora(7, 125'000) == std::optional<std::uint8_t>{5});
    CHECK(eu::dr_of_lora(7, 250'000) == std::optional<std::uint8_t>{6});

    // Combinations EU868 does not define.
    CHECK_FALSE(eu::dr_of_lora(8, 250'000).has_value());
    CHECK_FALSE(eu::dr_of_lora(12, 250'000).has_value());
    CHECK_FALSE(eu::dr_of_lora(7, 500'000).has_value());
    CHECK_FALSE(eu::dr_of_lora(6, 125'000).has_value());
    CHECK_FALSE(eu::dr_of_lora(13, 125'000).has_value());
    CHECK_FALSE(eu::dr_of_lora(0, 0).has_value());
    CHECK_FALSE(eu::dr_of_lora(7, 125'001).has_value());

    CHECK(eu::dr_of_fsk(50'000) == std::optional<std::uint8_t>{7});
    CHECK_FALSE(eu::dr_of_fsk(0).has_value());
    CHECK_FALSE(eu::dr_of_fsk(49'999).has_value());
    CHECK_FALSE(eu::dr_of_fsk(100'000).has_value());

    // Round trip over the table.
    for (std::uint8_t dr = 0; dr <= 7; ++dr) {
        const auto rate = eu::data_rate(dr);
        REQUIRE(rate.has_value());
        const auto back = rate->modulation == eu::Modulation::lora
                              ? eu::dr_of_lora(rate->spreading_factor, rate->bandwidth_hz)
                              : eu::dr_of_fsk(rate->bit_rate);
        CHECK(back == std::optional<std::uint8_t>{dr});
    }
}

TEST_CASE("EU868 default channels and band edges", "[unit][eu868]") {
    // RP002 §2.4.2: 868.10, 868.30 and 868.50 MHz.
    CHECK(eu::default_channels_hz[0] == 868'100'000U);
    CHECK(eu::default_channels_hz[1] == 868'300'000U);
    CHECK(eu::default_channels_hz[2] == 868'500'000U);
    CHECK(eu::default_channels_hz.size() == 3U);
    // RP002 §2.4.1: 863..870 MHz.
    CHECK(eu::min_frequency_hz == 863'000'000U);
    CHECK(eu::max_frequency_hz == 870'000'000U);
    for (const std::uint32_t f : eu::default_channels_hz) {
        CHECK(f >= eu::min_frequency_hz);
        CHECK(f <= eu::max_frequency_hz);
        // RX1 answers on the uplink channel in EU868 (RP002 §2.4.7).
        CHECK(eu::rx1_frequency_hz(f) == f);
    }
}

TEST_CASE("EU868 RX1 data rate is max(0, DR - RX1DROffset) for offsets 0..5", "[unit][eu868]") {
    // RP002 Table 2.4.7, written out:
    //            offset 0  1  2  3  4  5
    const std::uint8_t table[8][6] = {
        {0, 0, 0, 0, 0, 0},  // DR0
        {1, 0, 0, 0, 0, 0},  // DR1
        {2, 1, 0, 0, 0, 0},  // DR2
        {3, 2, 1, 0, 0, 0},  // DR3
        {4, 3, 2, 1, 0, 0},  // DR4
        {5, 4, 3, 2, 1, 0},  // DR5
        {6, 5, 4, 3, 2, 1},  // DR6
        {7, 6, 5, 4, 3, 2},  // DR7
    };
    for (std::uint8_t dr = 0; dr < 8; ++dr) {
        for (std::uint8_t offset = 0; offset < 6; ++offset) {
            INFO("DR" << static_cast<int>(dr) << " offset " << static_cast<int>(offset));
            CHECK(eu::rx1_dr(dr, offset) == std::optional<std::uint8_t>{table[dr][offset]});
        }
        // Offsets 6 and 7 are RFU in EU868.
        for (unsigned offset = 6; offset <= 7; ++offset) {
            CHECK_FALSE(eu::rx1_dr(dr, static_cast<std::uint8_t>(offset)).has_value());
        }
        CHECK_FALSE(eu::rx1_dr(dr, 255).has_value());
    }
    CHECK(eu::max_rx1_dr_offset == std::uint8_t{5});
    // An uplink DR that EU868 does not have.
    CHECK_FALSE(eu::rx1_dr(8, 0).has_value());
    CHECK_FALSE(eu::rx1_dr(15, 0).has_value());
}

TEST_CASE("EU868 RX2 defaults to 869.525 MHz at DR0", "[unit][eu868]") {
    CHECK(eu::rx2_frequency_hz == 869'525'000U);
    CHECK(eu::rx2_dr == std::uint8_t{0});
}

TEST_CASE("EU868 maximum payload sizes M and N per DR", "[unit][eu868]") {
    // RP002 Table 2.4.6 (no repeater): DR0..2 59/51, DR3 123/115, DR4..7 250/242.
    const eu::MaxPayload small{59, 51};
    const eu::MaxPayload medium{123, 115};
    const eu::MaxPayload large{250, 242};
    const eu::MaxPayload expected[8] = {small, small, small, medium, large, large, large, large};
    for (std::uint8_t dr = 0; dr < 8; ++dr) {
        INFO("DR" << static_cast<int>(dr));
        const auto m = eu::max_payload(dr);
        REQUIRE(m.has_value());
        CHECK(m->mac_payload == expected[dr].mac_payload);
        CHECK(m->frm_payload == expected[dr].frm_payload);
        // N = M - 8: the 7-octet FHDR without FOpts and the FPort octet.
        CHECK(m->frm_payload + 8 == m->mac_payload);
    }
    for (unsigned dr = 8; dr <= 15; ++dr) {
        CHECK_FALSE(eu::max_payload(static_cast<std::uint8_t>(dr)).has_value());
    }
}

TEST_CASE("EU868 TXPower index to EIRP: MaxEIRP - 2 dB per step, 0..7", "[unit][eu868]") {
    // RP002 Table 2.4.4 with the default MaxEIRP of +16 dBm.
    CHECK(eu::max_eirp_dbm == 16);
    const int expected[8] = {16, 14, 12, 10, 8, 6, 4, 2};
    for (std::uint8_t i = 0; i < 8; ++i) {
        INFO("TXPower " << static_cast<int>(i));
        CHECK(eu::tx_power_eirp_dbm(i) == std::optional<int>{expected[i]});
        // The same steps from a MaxEIRP lowered by TxParamSetupReq, e.g. 14 dBm.
        CHECK(eu::tx_power_eirp_dbm(i, 14) == std::optional<int>{14 - 2 * i});
    }
    // 8..14 RFU; 15 is "keep" in LinkADRReq and names no power.
    for (unsigned i = 8; i <= 15; ++i) {
        CHECK_FALSE(eu::tx_power_eirp_dbm(static_cast<std::uint8_t>(i)).has_value());
    }
    CHECK_FALSE(eu::tx_power_eirp_dbm(255).has_value());
    CHECK(eu::max_tx_power_index == std::uint8_t{7});
}

TEST_CASE("TxParamSetupReq MaxEIRP coding", "[unit][eu868]") {
    // LoRaWAN 1.0.4 §5.9, MaxEIRP field 0..15 → dBm.
    const int table[16] = {8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36};
    for (std::uint8_t i = 0; i < 16; ++i) {
        INFO("MaxEIRP " << static_cast<int>(i));
        CHECK(eu::coded_max_eirp_dbm(i) == std::optional<int>{table[i]});
    }
    CHECK_FALSE(eu::coded_max_eirp_dbm(16).has_value());
    CHECK_FALSE(eu::coded_max_eirp_dbm(255).has_value());
}

TEST_CASE("EU868 required SNR per spreading factor", "[unit][eu868]") {
    // SX1276 datasheet: demodulator SNR limit SF7 -7.5 dB, then 2.5 dB lower per SF step down to SF12 -20 dB.
    // DR0 SF12 | DR1 SF11 | DR2 SF10 | DR3 SF9 | DR4 SF8 | DR5 SF7 | DR6 SF7 (250 kHz)
    const double expected[7] = {-20.0, -17.5, -15.0, -12.5, -10.0, -7.5, -7.5};
    for (std::uint8_t dr = 0; dr < 7; ++dr) {
        INFO("DR" << static_cast<int>(dr));
        const auto snr = eu::required_snr_db(dr);
        REQUIRE(snr.has_value());
        CHECK(*snr == Approx(expected[dr]).margin(1e-9).epsilon(0.0));
    }
    // DR7 is FSK; DR8 and above do not exist here.
    CHECK_FALSE(eu::required_snr_db(7).has_value());
    CHECK_FALSE(eu::required_snr_db(8).has_value());
    CHECK_FALSE(eu::required_snr_db(255).has_value());
}

TEST_CASE("EU868 class A receive and join-accept delays", "[unit][eu868]") {
    // RP002 Table 2.4.10: RECEIVE_DELAY1 1 s, RECEIVE_DELAY2 = RECEIVE_DELAY1 + 1 s, JOIN_ACCEPT_DELAY1 5 s,
    // JOIN_ACCEPT_DELAY2 6 s.
    using std::chrono::seconds;
    CHECK(eu::receive_delay1 == seconds{1});
    CHECK(eu::receive_delay2 == seconds{2});
    CHECK(eu::join_accept_delay1 == seconds{5});
    CHECK(eu::join_accept_delay2 == seconds{6});
    CHECK(eu::receive_delay2 - eu::receive_delay1 == seconds{1});
    CHECK(eu::join_accept_delay2 - eu::join_accept_delay1 == seconds{1});
}
