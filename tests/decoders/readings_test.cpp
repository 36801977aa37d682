// The readings of each codec for the shared examples, with the values worked out by hand from the bytes and the
// vendors' scales (not copied from the decoder's output).

#include <vector>

#include "decoder_test_support.hpp"

using schwebe::decoders::Reading;
using schwebe::test::at;
using schwebe::test::boolean_reading;
using schwebe::test::decode;
using schwebe::test::reading;

namespace {

std::vector<Reading> readings_of(std::string_view codec, std::uint8_t f_port, std::string_view hex_bytes) {
    const auto result = decode(codec, f_port, hex_bytes);
    INFO(codec << " FPort " << int{f_port} << " " << hex_bytes);
    REQUIRE(result.ok());
    return result.decoded->readings;
}

}  // namespace

TEST_CASE("NPS405 readings", "[unit][decoders]") {
    // 0x95 = 1001 0101: bit 0 set, occupied.
    CHECK(readings_of("nwave-nps405", 1, "95") == std::vector<Reading>{boolean_reading("occupancy", true)});
    // 0x00: free; 2500 + 4 × 0xd3 (211) = 3344 mV; 0xd8 = −40 → −40 / 2 + 10 = −10 °C.
    CHECK(readings_of("nwave-nps405", 2, "00d3d800590b") ==
          std::vector<Reading>{boolean_reading("occupancy", false), reading("temperature", -10, "Cel"),
                               reading("battery_voltage", 3.344, "V")});
    // Startup: b4 = 0x00, free.
    CHECK(readings_of("nwave-nps405", 3, "0204090200") == std::vector<Reading>{boolean_reading("occupancy", false)});
    // Tag registration: 0xd1 has bit 0 set, occupied.
    CHECK(readings_of("nwave-nps405", 10, "d11f345678") == std::vector<Reading>{boolean_reading("occupancy", true)});
    // A tag registration on a free spot says nothing about occupancy; a debug message has no readings.
    CHECK(readings_of("nwave-nps405", 10, "d01f345678").empty());
    CHECK(readings_of("nwave-nps405", 6, "0102").empty());
}

TEST_CASE("TPS110 readings", "[unit][decoders]") {
    CHECK(readings_of("bosch-tps110", 1, "01") == std::vector<Reading>{boolean_reading("occupancy", true)});
    CHECK(readings_of("bosch-tps110", 1, "00") == std::vector<Reading>{boolean_reading("occupancy", false)});
    // 0xff = −1 °C.
    CHECK(readings_of("bosch-tps110", 2, "01ff") ==
          std::vector<Reading>{boolean_reading("occupancy", true), reading("temperature", -1, "Cel")});
    CHECK(readings_of("bosch-tps110", 3, "240300007503000000000000001d020301") ==
          std::vector<Reading>{boolean_reading("occupancy", true)});
}

TEST_CASE("ERS CO2 readings", "[unit][decoders]") {
    // 01 00e2: 226 × 0.1 = 22.6 °C │ 02 29: 41 % │ 04 0027: 39 lx │ 05 06: 6 motions │ 06 0308: 776 ppm.
    CHECK(readings_of("elsys-ers-co2", 5, "0100e202290400270506060308") ==
          std::vector<Reading>{reading("temperature", 22.6, "Cel"), reading("relative_humidity", 41, "%"),
                               reading("illuminance", 39, "lx"), reading("motion", 6, "1"),
                               reading("co2", 776, "ppm")});
}

TEST_CASE("LHT65 readings", "[unit][decoders]") {
    // cbf6: status 3, 0x0bf6 = 3062 mV │ 0b0d: 2829 → 28.29 °C │ 0376: 886 → 88.6 % │ 01: DS18B20 │ 0add: 27.81 °C.
    CHECK(readings_of("dragino-lht65", 2, "cbf60b0d0376010add7fff") ==
          std::vector<Reading>{reading("battery_voltage", 3.062, "V"), reading("temperature", 28.29, "Cel"),
                               reading("relative_humidity", 88.6, "%"), reading("external_temperature", 27.81, "Cel")});
}

TEST_CASE("EMU Professional II readings carry the meter's time", "[unit][decoders]") {
    // b4d77b61 = 0x617bd7b4 = 1635506100 │ 03 12070000: T1 import 0x712 = 1810 Wh = 1.81 kWh.
    CHECK(readings_of("emu-prof-ii", 1, "b4d77b6101b4d77b61031207000039") ==
          std::vector<Reading>{at(reading("active_energy", 1.81, "kWh"), 1635506100)});
    // Import 1810 + 128 Wh, export 1149 + 17794 Wh, reactive import 1864 + 2600 varh, export 338 + 9661 varh.
    CHECK(readings_of("emu-prof-ii", 1,
                      "b4d77b6101b4d77b6103120700000480000000057d0400000682450000074807000008280a000009520100000abd25"
                      "0000e4") ==
          std::vector<Reading>{at(reading("active_energy", 1.938, "kWh"), 1635506100),
                               at(reading("active_energy_export", 18.943, "kWh"), 1635506100),
                               at(reading("reactive_energy", 4.464, "kvarh"), 1635506100),
                               at(reading("reactive_energy_export", 9.999, "kvarh"), 1635506100)});
    // The meter's identity after joining: no measurements.
    CHECK(readings_of("emu-prof-ii", 100, "30d10562f126010622f701f30500f40500f56400f66400f802000202c4").empty());
}

TEST_CASE("CMi4140 readings", "[unit][decoders]") {
    // 04 05 fc437f0e: 0x0e7f43fc = 243221500 × 0.1 kWh │ 04 13 40919822: 0x22989140 = 580424000 × 0.001 m³ │
    // 02 2e 9015: 0x1590 = 5520 kW │ 02 3c 482b: 0x2b48 = 11080 × 0.01 m³/h │ 02 59 d825: 0x25d8 = 9688 × 0.01 °C │
    // 02 5d e814: 0x14e8 = 5352 × 0.01 °C.
    CHECK(readings_of("elvaco-cmi4140", 2,
                      "150405fc437f0e041340919822022e9015023c482b0259d825025de8140c782794817904fd1700000100") ==
          std::vector<Reading>{reading("heat_energy", 24322150, "kWh"), reading("volume", 580424, "m3"),
                               reading("power", 5520000, "W"), reading("flow", 110.8, "m3/h"),
                               reading("flow_temperature", 96.88, "Cel"), reading("return_temperature", 53.52, "Cel")});
    // 0x3abd27b8 = 985475000 × 0.1 kWh │ 0x0db1dd2c = 229760300 × 0.01 m³ (VIF 0x14) │ power and flow 0 │ 0x268f =
    // 9871, 0x1661 = 5729 × 0.01 °C.
    CHECK(readings_of("elvaco-cmi4140", 2,
                      "150405b827bd3a04142cddb10d02290000023a000002598f26025d61160c784405817904fd1700000000") ==
          std::vector<Reading>{reading("heat_energy", 98547500, "kWh"), reading("volume", 2297603, "m3"),
                               reading("power", 0, "W"), reading("flow", 0, "m3/h"),
                               reading("flow_temperature", 98.71, "Cel"), reading("return_temperature", 57.29, "Cel")});
}
