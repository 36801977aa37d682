// Time on air, each expected value worked out by hand from the formula of Semtech AN1200.13 (and the SX127x
// datasheets §4.1.1.7):
//
//   T_sym      = 2^SF / BW
//   T_preamble = (n_preamble + 4.25) · T_sym
//   n_payload  = 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)
//   T_frame    = T_preamble + n_payload · T_sym
//
// and, for FSK as LoRaWAN sends it (RP002 §2.1), (5 preamble + 3 sync + 1 length + PL + 2 CRC) · 8 / bit rate.

#include <cstddef>
#include <cstdint>

#include "lorawan/airtime.hpp"
#include "test_support.hpp"

using namespace schwebe::lorawan;

namespace {

constexpr double tolerance_ms = 1e-6;

/// Within 1e-6 ms of `ms`; Approx's default relative epsilon (about 1e-5) is switched off, so that only the
/// margin counts.
Approx ms_of(double ms) {
    return Approx(ms).margin(tolerance_ms).epsilon(0.0);
}

LoRaTxParams lora(std::uint8_t sf, std::uint32_t bw, bool crc = true) {
    LoRaTxParams p;
    p.spreading_factor = sf;
    p.bandwidth_hz = bw;
    p.coding_rate = 1;
    p.preamble_symbols = 8;
    p.explicit_header = true;
    p.crc = crc;
    p.low_data_rate_optimize = LowDataRateOptimize::automatic;
    return p;
}

double toa_ms(const LoRaTxParams& p, std::size_t pl) {
    return lora_time_on_air(p, pl).count();
}

}  // namespace

TEST_CASE("LoRa SF7BW125 uplink of 13 octets", "[unit][airtime]") {
    // T_sym = 128 / 125000 s = 1.024 ms; DE = 0 (1.024 ms < 16 ms).
    // T_preamble = (8 + 4.25) · 1.024 = 12.25 · 1.024 = 12.544 ms
    // 8·13 − 4·7 + 28 + 16·1 − 0 = 104 − 28 + 28 + 16 = 120; 4·(7 − 0) = 28; ceil(120 / 28 = 4.29) = 5
    // n_payload = 8 + 5 · (1 + 4) = 33 → 33 · 1.024 = 33.792 ms
    // T_frame = 12.544 + 33.792 = 46.336 ms
    CHECK(toa_ms(lora(7, 125'000), 13) == ms_of(46.336));
}

TEST_CASE("LoRa SF12BW125 turns low data rate optimisation on by itself", "[unit][airtime]") {
    // T_sym = 4096 / 125000 s = 32.768 ms ≥ 16 ms → DE = 1.
    // T_preamble = 12.25 · 32.768 = 401.408 ms
    SECTION("PL = 13") {
        // 104 − 48 + 28 + 16 = 100; 4·(12 − 2) = 40; ceil(100 / 40 = 2.5) = 3
        // n_payload = 8 + 3 · 5 = 23 → 23 · 32.768 = 753.664 ms
        // T_frame = 401.408 + 753.664 = 1155.072 ms
        CHECK(toa_ms(lora(12, 125'000), 13) == ms_of(1155.072));
    }
    SECTION("PL = 51") {
        // 8·51 = 408; 408 − 48 + 28 + 16 = 404; ceil(404 / 40 = 10.1) = 11
        // n_payload = 8 + 11 · 5 = 63 → 63 · 32.768 = 2064.384 ms
        // T_frame = 401.408 + 2064.384 = 2465.792 ms
        CHECK(toa_ms(lora(12, 125'000), 51) == ms_of(2465.792));
    }
}

TEST_CASE("LoRa SF11BW125 turns low data rate optimisation on by itself", "[unit][airtime]") {
    // T_sym = 2048 / 125000 s = 16.384 ms ≥ 16 ms → DE = 1.
    // 104 − 44 + 28 + 16 = 104; 4·(11 − 2) = 36; ceil(104 / 36 = 2.89) = 3 → n_payload = 8 + 15 = 23
    // T_frame = (12.25 + 23) · 16.384 = 35.25 · 16.384 = 577.536 ms
    CHECK(toa_ms(lora(11, 125'000), 13) == ms_of(577.536));
}

TEST_CASE("LoRa SF12BW250 has 16.384 ms symbols and so low data rate optimisation", "[unit][airtime]") {
    // T_sym = 4096 / 250000 s = 16.384 ms ≥ 16 ms → DE = 1.
    // PL = 51: 404 / 40 = 10.1 → 11 → n_payload = 8 + 55 = 63
    // T_frame = (12.25 + 63) · 16.384 = 75.25 · 16.384 = 1232.896 ms
    // (with DE = 0 it would be 404 / 48 = 8.42 → 9 → 53 symbols → 65.25 · 16.384 = 1069.056 ms)
    CHECK(toa_ms(lora(12, 250'000), 51) == ms_of(1232.896));
}

TEST_CASE("LoRa SF10BW125 keeps low data rate optimisation off", "[unit][airtime]") {
    // T_sym = 1024 / 125000 s = 8.192 ms < 16 ms → DE = 0.
    // PL = 13: 104 − 40 + 28 + 16 = 108; 4·10 = 40; ceil(2.7) = 3 → n_payload = 8 + 15 = 23
    // T_frame = (12.25 + 23) · 8.192 = 35.25 · 8.192 = 288.768 ms
    CHECK(toa_ms(lora(10, 125'000), 13) == ms_of(288.768));
}

TEST_CASE("LoRa SF9BW125 uplink of 13 octets", "[unit][airtime]") {
    // T_sym = 512 / 125000 s = 4.096 ms; DE = 0.
    // 104 − 36 + 28 + 16 = 112; 4·9 = 36; ceil(112 / 36 = 3.11) = 4 → n_payload = 8 + 4 · 5 = 28
    // T_frame = (12.25 + 28) · 4.096 = 40.25 · 4.096 = 164.864 ms
    CHECK(toa_ms(lora(9, 125'000), 13) == ms_of(164.864));
}

TEST_CASE("LoRa SF7BW250 uplink of 13 octets", "[unit][airtime]") {
    // T_sym = 128 / 250000 s = 0.512 ms; the symbol count is that of SF7BW125: 12.25 + 33 = 45.25
    // T_frame = 45.25 · 0.512 = 23.168 ms
    CHECK(toa_ms(lora(7, 250'000), 13) == ms_of(23.168));
}

TEST_CASE("LoRa SF7BW500 uplink of 13 octets", "[unit][airtime]") {
    // T_sym = 128 / 500000 s = 0.256 ms; 45.25 · 0.256 = 11.584 ms
    CHECK(toa_ms(lora(7, 500'000), 13) == ms_of(11.584));
}

TEST_CASE("LoRa downlinks carry no CRC", "[unit][airtime]") {
    SECTION("SF7BW125, PL = 13") {
        // 104 − 28 + 28 + 0 = 104; ceil(104 / 28 = 3.71) = 4 → n_payload = 8 + 20 = 28
        // T_frame = (12.25 + 28) · 1.024 = 40.25 · 1.024 = 41.216 ms
        CHECK(toa_ms(lora(7, 125'000, false), 13) == ms_of(41.216));
    }
    SECTION("SF12BW125, PL = 33") {
        // 8·33 = 264; 264 − 48 + 28 + 0 = 244; ceil(244 / 40 = 6.1) = 7 → n_payload = 8 + 35 = 43
        // T_frame = (12.25 + 43) · 32.768 = 55.25 · 32.768 = 1810.432 ms
        CHECK(toa_ms(lora(12, 125'000, false), 33) == ms_of(1810.432));
    }
    SECTION("a CRC adds time") {
        CHECK(toa_ms(lora(7, 125'000, false), 13) < toa_ms(lora(7, 125'000, true), 13));
    }
}

TEST_CASE("LoRa coding rate, implicit header and preamble length enter the formula", "[unit][airtime]") {
    SECTION("CR 4/8") {
        // SF7BW125 PL 13: ceil = 5 as above; 5 · (4 + 4) = 40 → n_payload = 48
        // T_frame = (12.25 + 48) · 1.024 = 60.25 · 1.024 = 61.696 ms
        auto p = lora(7, 125'000);
        p.coding_rate = 4;
        CHECK(toa_ms(p, 13) == ms_of(61.696));
    }
    SECTION("implicit header") {
        // 120 − 20 = 100; ceil(100 / 28 = 3.57) = 4 → n_payload = 8 + 20 = 28 → 40.25 · 1.024 = 41.216 ms
        auto p = lora(7, 125'000);
        p.explicit_header = false;
        CHECK(toa_ms(p, 13) == ms_of(41.216));
    }
    SECTION("a 10-symbol preamble") {
        // (10 + 4.25 + 33) · 1.024 = 47.25 · 1.024 = 48.384 ms
        auto p = lora(7, 125'000);
        p.preamble_symbols = 10;
        CHECK(toa_ms(p, 13) == ms_of(48.384));
    }
}

TEST_CASE("LoRa payload symbols never go below 8", "[unit][airtime]") {
    // SF12BW125 (DE = 1), implicit header, no CRC, PL = 0: 0 − 48 + 28 + 0 − 20 = −40; −40 / 40 = −1
    // → max(−1 · 5, 0) = 0 → n_payload = 8; T_frame = (12.25 + 8) · 32.768 = 20.25 · 32.768 = 663.552 ms
    auto p = lora(12, 125'000, false);
    p.explicit_header = false;
    CHECK(toa_ms(p, 0) == ms_of(663.552));
    // Explicit header, no CRC, PL = 0: −20 / 40 = −0.5 → ceil = 0 → n_payload = 8, the same 663.552 ms.
    CHECK(toa_ms(lora(12, 125'000, false), 0) == ms_of(663.552));
}

TEST_CASE("LowDataRateOptimize on and off override the automatic choice", "[unit][airtime]") {
    SECTION("forced on at SF7BW125") {
        // DE = 1: 4·(7 − 2) = 20; 120 / 20 = 6 → ceil 6 → n_payload = 8 + 30 = 38
        // T_frame = (12.25 + 38) · 1.024 = 50.25 · 1.024 = 51.456 ms (46.336 ms automatic)
        auto p = lora(7, 125'000);
        p.low_data_rate_optimize = LowDataRateOptimize::on;
        CHECK(toa_ms(p, 13) == ms_of(51.456));
        p.low_data_rate_optimize = LowDataRateOptimize::off;
        CHECK(toa_ms(p, 13) == ms_of(46.336));
    }
    SECTION("forced off at SF12BW125") {
        // DE = 0: 4·12 = 48; PL 51: 404 / 48 = 8.42 → 9 → n_payload = 8 + 45 = 53
        // T_frame = (12.25 + 53) · 32.768 = 65.25 · 32.768 = 2138.112 ms (2465.792 ms automatic)
        auto p = lora(12, 125'000);
        p.low_data_rate_optimize = LowDataRateOptimize::off;
        CHECK(toa_ms(p, 51) == ms_of(2138.112));
        p.low_data_rate_optimize = LowDataRateOptimize::on;
        CHECK(toa_ms(p, 51) == ms_of(2465.792));
    }
}

TEST_CASE("LoRa time on air grows with the payload", "[unit][airtime]") {
    const auto p = lora(9, 125'000);
    double previous = 0.0;
    for (std::size_t pl = 0; pl <= 255; ++pl) {
        const double t = toa_ms(p, pl);
        CHECK(t >= previous);
        previous = t;
    }
}

TEST_CASE("LoRa parameters out of range give zero", "[unit][airtime]") {
    const auto zero = [](const LoRaTxParams& p) { return toa_ms(p, 13) == 0.0; };
    auto p = lora(7, 125'000);
    SECTION("spreading factor below 6") {
        p.spreading_factor = 5;
        CHECK(zero(p));
        p.spreading_factor = 0;
        CHECK(zero(p));
    }
    SECTION("spreading factor above 12") {
        p.spreading_factor = 13;
        CHECK(zero(p));
        p.spreading_factor = 255;
        CHECK(zero(p));
    }
    SECTION("coding rate outside 1..4") {
        p.coding_rate = 0;
        CHECK(zero(p));
        p.coding_rate = 5;
        CHECK(zero(p));
    }
    SECTION("bandwidth zero") {
        p.bandwidth_hz = 0;
        CHECK(zero(p));
    }
    SECTION("the limits themselves are in range") {
        p.spreading_factor = 12;
        CHECK_FALSE(zero(p));
        p.spreading_factor = 6;
        CHECK_FALSE(zero(p));
        p.coding_rate = 4;
        CHECK_FALSE(zero(p));
    }
}

TEST_CASE("FSK 50 kbps time on air", "[unit][airtime]") {
    // (5 + 3 + 1 + PL + 2) · 8 bit / 50000 bit/s
    // PL 13:  24 octets = 192 bit  → 3.84 ms
    // PL 0:   11 octets =  88 bit  → 1.76 ms
    // PL 255: 266 octets = 2128 bit → 42.56 ms
    CHECK(fsk_time_on_air(50'000, 13).count() == ms_of(3.84));
    CHECK(fsk_time_on_air(50'000, 0).count() == ms_of(1.76));
    CHECK(fsk_time_on_air(50'000, 255).count() == ms_of(42.56));
    // Another bit rate, same frame: PL 13 at 25 kbps → 192 / 25000 s = 7.68 ms.
    CHECK(fsk_time_on_air(25'000, 13).count() == ms_of(7.68));
}

TEST_CASE("FSK with a zero bit rate gives zero", "[unit][airtime]") {
    CHECK(fsk_time_on_air(0, 13).count() == 0.0);
}
