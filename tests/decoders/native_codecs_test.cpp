// The formats beyond the shared examples: every message type and field the reference codecs handle, with values
// worked out from the vendors' layouts, and the reference codecs' quirks that `object` keeps.

#include <vector>

#include "decoder_test_support.hpp"

using schwebe::decoders::DecodeResult;
using schwebe::decoders::Reading;
using schwebe::test::at;
using schwebe::test::boolean_reading;
using schwebe::test::decode;
using schwebe::test::decoded_of;
using schwebe::test::error_of;
using schwebe::test::reading;
using schwebe::test::with_emu_crc;
using Json = nlohmann::json;

namespace {

Json object_of(std::string_view codec, std::uint8_t f_port, std::string_view hex_bytes) {
    return schwebe::test::decoded_of(codec, f_port, hex_bytes).object;
}

}  // namespace

TEST_CASE("NPS405: previous state duration, battery health and the other messages", "[unit][decoders]") {
    // Duration codes: 89 → 89 min exact; 90 → 90 ±4; 119 → 235 ±4; 120 → 240 ±59; 126 → 600 ±59; 127 → overflow.
    CHECK(object_of("nwave-nps405", 1, "b3") == Json::parse(R"({"type":"parking_status","occupied":true,
          "previous_state_duration":89,"previous_state_duration_error":0,"previous_state_duration_overflow":false})"));
    CHECK(object_of("nwave-nps405", 1, "b4")["previous_state_duration"] == 90);
    CHECK(object_of("nwave-nps405", 1, "ee")["previous_state_duration"] == 235);
    CHECK(object_of("nwave-nps405", 1, "f0") == Json::parse(R"({"type":"parking_status","occupied":false,
          "previous_state_duration":240,"previous_state_duration_error":59,"previous_state_duration_overflow":false})"));
    CHECK(object_of("nwave-nps405", 1, "fc")["previous_state_duration"] == 600);
    CHECK(object_of("nwave-nps405", 1, "ff") == Json::parse(R"({"type":"parking_status","occupied":true,
          "previous_state_duration":660,"previous_state_duration_error":null,"previous_state_duration_overflow":true})"));

    // 20 °C (0x14): low below 3000 mV, critical below 2900. 2500 + 4 × 0x70 = 2948 mV: low; 0x60 → 2884: critical.
    CHECK(object_of("nwave-nps405", 2, "007014")["battery_health"] == "low");
    CHECK(object_of("nwave-nps405", 2, "006014")["battery_health"] == "critical");
    CHECK(object_of("nwave-nps405", 2, "007d14")["battery_health"] == "normal");
    // −10 °C (0xd8): thresholds 100 mV lower, so 2948 mV is normal and 2884 low.
    CHECK(object_of("nwave-nps405", 2, "0070d8")["battery_health"] == "normal");
    CHECK(object_of("nwave-nps405", 2, "0060d8")["battery_health"] == "low");
    // Hardware health is the low 7 bits of b0, the occupied bit included (as in the reference).
    CHECK(object_of("nwave-nps405", 2, "8370d8")["hw_health_status"] == 3);
    CHECK(object_of("nwave-nps405", 2, "8370d8")["occupied"] == true);

    // Reset causes 4, 5 and above 7 are undefined: left out, as JSON.stringify leaves out `undefined`.
    CHECK(object_of("nwave-nps405", 3, "0102030401") ==
          Json::parse(R"({"type":"startup","firmware_version":"1.2.3","occupied":true})"));
    CHECK(object_of("nwave-nps405", 3, "0102030601")["reset_cause"] == "brownout");
    CHECK(object_of("nwave-nps405", 3, "01020308ff").contains("reset_cause") == false);

    CHECK(object_of("nwave-nps405", 6, "0aff") == Json::parse(R"({"type":"debug","bytes":[10,255]})"));

    // A tag on a free spot: the state is unknown. The tag id has no leading zeros; from 0x80000000 the reference's
    // 32-bit arithmetic prints it negative.
    CHECK(object_of("nwave-nps405", 10, "0000000abc") ==
          Json::parse(R"({"type":"user_registration","occupied":null,"previous_state_duration":null,
          "previous_state_duration_error":null,"previous_state_duration_overflow":null,"tag_id":"ABC"})"));
    CHECK(object_of("nwave-nps405", 10, "01fffffffe")["tag_id"] == "-2");
    CHECK(object_of("nwave-nps405", 10, "0180000000")["tag_id"] == "-80000000");
}

TEST_CASE("NPS405 and TPS110: bytes after a fixed layout are decoded with a warning", "[unit][decoders]") {
    const DecodeResult status = decode("nwave-nps405", 1, "9500");
    REQUIRE(status.ok());
    CHECK(status.decoded->object["occupied"] == true);
    CHECK(status.decoded->warnings ==
          std::vector<std::string>{"1 bytes after the parking status (1 bytes) not decoded"});
    // A heartbeat has 6 bytes, of which the reference decodes 3: no warning.
    CHECK(decoded_of("nwave-nps405", 2, "00d3d800590b").warnings.empty());
    CHECK(decoded_of("nwave-nps405", 10, "d11f34567820").warnings.empty());
    CHECK(decoded_of("bosch-tps110", 2, "01ff00").warnings.size() == 1);
}

TEST_CASE("TPS110: heartbeat without temperature, the startup fields, information, usage and debug messages",
          "[unit][decoders]") {
    CHECK(object_of("bosch-tps110", 2, "00") == Json::parse(R"({"type":"heartbeat","occupied":false})"));
    CHECK(object_of("bosch-tps110", 2, "007f")["temperature"] == 127);
    CHECK(object_of("bosch-tps110", 2, "0080")["temperature"] == -128);
    // No debug codes, reset cause 0 (undefined: left out), firmware 1.2.3, free.
    CHECK(object_of("bosch-tps110", 3, "0000000000000000000000000102030000") ==
          Json::parse(R"({"type":"startup","debugCodes":[],"firmwareVersion":"1.2.3","occupied":false})"));
    // Only the low 4 bits of the second byte belong to a debug code: f1 ff → 0xfff1.
    CHECK(object_of("bosch-tps110", 3, "f1ff0000000000000000000000000104ff")["debugCodes"] == Json::parse("[4081]"));
    CHECK(object_of("bosch-tps110", 3, "0000000000000000000000000000000401")["resetCause"] == "other");
    CHECK(object_of("bosch-tps110", 3, "0000000000000000000000000000000501").contains("resetCause") == false);
    CHECK(object_of("bosch-tps110", 4, "0102") == Json::parse(R"({"type":"device information","bytes":[1,2]})"));
    CHECK(object_of("bosch-tps110", 5, "ff") == Json::parse(R"({"type":"device usage","bytes":[255]})"));
    // Timestamp 0x12345678, debug code 0x324 (804), two bytes not decoded, sequence number 1.
    CHECK(object_of("bosch-tps110", 6, "785634122403aaaa0100") ==
          Json::parse(R"({"type":"debug","timestamp":305419896,"debugCode":804,"sequenceNumber":1})"));
    // From 2^31 the reference's 32-bit arithmetic gives a negative timestamp.
    CHECK(object_of("bosch-tps110", 6, "00000080000000000000")["timestamp"] == -2147483648LL);
}

TEST_CASE("ERS: every record type of the Elsys format", "[unit][decoders]") {
    const char* payload =
        "03fa0141"        // acceleration x −6, y 1, z 65
        "070e10"          // vdd 3600 mV
        "080064"          // analog1 100
        "09000001000002"  // gps 1, 2 (raw)
        "0a0005"          // pulse1 5
        "0b80000000"      // pulseAbs: 2^31, negative in the reference
        "0cff9c"          // external temperature −10.0
        "0d01"            // digital 1
        "0e04d2"          // distance 1234 mm
        "0f07"            // accMotion 7
        "1000e6ff9c"      // IR internal 23.0, external −10.0
        "1102"            // occupancy 2: occupied
        "1201"            // waterleak 1
        "14000f7662"      // pressure 1013346 / 1000 = 1013.346 hPa
        "153c28"          // sound peak 60, average 40
        "160009"          // pulse2 9
        "1700000010"      // pulseAbs2 16
        "180065"          // analog2 101
        "1900c81900d2"    // external temperature 2: 20.0, then 21.0
        "1a00"            // digital2 0
        "1bfffffffe"      // analogUv −2
        "1c0190";         // tvoc 400 ppb
    CHECK(object_of("elsys-ers-co2", 5, payload) == Json::parse(R"({
        "x": -6, "y": 1, "z": 65, "vdd": 3600, "analog1": 100, "lat": 1, "long": 2, "pulse1": 5,
        "pulseAbs": -2147483648, "externalTemperature": -10, "digital": 1, "distance": 1234, "accMotion": 7,
        "irInternalTemperature": 23, "irExternalTemperature": -10, "occupancy": 2, "waterleak": 1,
        "pressure": 1013.346, "soundPeak": 60, "soundAvg": 40, "pulse2": 9, "pulseAbs2": 16, "analog2": 101,
        "externalTemperature2": [20, 21], "digital2": 0, "analogUv": -2, "tvoc": 400
    })"));
    const auto result = decode("elsys-ers-co2", 5, payload);
    REQUIRE(result.ok());
    CHECK(result.decoded->readings ==
          std::vector<Reading>{reading("battery_voltage", 3.6, "V"), reading("external_temperature", -10, "Cel"),
                               reading("distance", 1.234, "m"), boolean_reading("occupancy", true),
                               reading("barometric_pressure", 1013.346, "hPa"), reading("sound_level", 40, "dB"),
                               reading("tvoc", 400, "ppb")});

    // Occupancy 1 is "pending": no reading. A third external temperature 2 joins the array.
    CHECK(decoded_of("elsys-ers-co2", 5, "1101").readings.empty());
    CHECK(object_of("elsys-ers-co2", 5, "1900c81900d21900dc")["externalTemperature2"] == Json::parse("[20, 21, 22]"));
    // Grid-EYE: reference 20 °C, then 64 pixels of 0.1 °C above it.
    std::string grideye = "1314";
    for (int i = 0; i < 64; ++i) grideye += i == 0 ? "05" : "00";
    const Json pixels = object_of("elsys-ers-co2", 5, grideye)["grideye"];
    REQUIRE(pixels.size() == 64);
    CHECK(pixels[0] == 20.5);
    CHECK(pixels[63] == 20);
    // A repeated record: the last value wins, in `object` and in the readings.
    CHECK(decoded_of("elsys-ers-co2", 5, "0100e20100e3").readings ==
          std::vector<Reading>{reading("temperature", 22.7, "Cel")});
}

TEST_CASE("LHT65: the external sensor modes", "[unit][decoders]") {
    // Ext 0: no external sensor.
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d0376007fff7fff") == Json::parse(R"({"BatV":3.062,"Bat_status":3,
          "TempC_SHT":28.29,"Hum_SHT":88.6,"Ext_sensor":"No external sensor"})"));
    // Negative SHT temperature: 0xff38 = −200 → −2 °C.
    CHECK(object_of("dragino-lht65", 2, "cbf6ff380376007fff7fff")["TempC_SHT"] == -2);
    // Ext 1 with bit 7: the probe is not connected; no external reading.
    const auto unplugged = decode("dragino-lht65", 2, "cbf60b0d0376817fff7fff");
    REQUIRE(unplugged.ok());
    CHECK(unplugged.decoded->object["No_connect"] == "Sensor no connection");
    CHECK(unplugged.decoded->object["TempC_DS"] == 327.67);
    CHECK(unplugged.decoded->readings.size() == 3);
    // Ext 4: interrupt.
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d037604010000ff")["Work_mode"] == "Interrupt Sensor send");
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d037604010000ff")["Exti_pin_level"] == "High");
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d037604010000ff")["Exti_status"] == "False");
    // Ext 5: illumination 0x0190 = 400 lx.
    const auto lux = decode("dragino-lht65", 2, "cbf60b0d0376050190ffff");
    REQUIRE(lux.ok());
    CHECK(lux.decoded->object["ILL_lx"] == 400);
    CHECK(lux.decoded->readings.back() == reading("illuminance", 400, "lx"));
    // Ext 6: ADC 0x0bb8 = 3000 mV → 3 V. Ext 7 and 8: counters, the 32-bit one signed as in the reference.
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d0376060bb8ffff")["ADC_V"] == 3);
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d0376070102ffff")["Exit_count"] == 258);
    CHECK(object_of("dragino-lht65", 2, "cbf60b0d037608ffffffff")["Exit_count"] == -1);
    // Ext 9: DS18B20 in bytes 0..1 (0x0a1b = 25.87 °C), battery status in b4 (0x43 >> 6 = 1), the device time.
    const auto timed = decode("dragino-lht65", 2, "0a1b0b0d437609617bd7b4");
    REQUIRE(timed.ok());
    CHECK(timed.decoded->object == Json::parse(R"({"TempC_DS":25.87,"Bat_status":1,"TempC_SHT":28.29,"Hum_SHT":88.6,
          "Work_mode":"DS18B20 & timestamp","Systimestamp":1635506100})"));
    CHECK(timed.decoded->readings ==
          std::vector<Reading>{at(reading("temperature", 28.29, "Cel"), 1635506100),
                               at(reading("relative_humidity", 88.6, "%"), 1635506100),
                               at(reading("external_temperature", 25.87, "Cel"), 1635506100)});
    // Ext 15: the probe's ID, no SHT20 values.
    CHECK(object_of("dragino-lht65", 2, "cbf628ff12340f0056789a") ==
          Json::parse(R"({"BatV":3.062,"Bat_status":3,"Work_mode":"DS18B20ID","ID":"28 ff 12 34 00 56 78 9a "})"));
}

TEST_CASE("LHT65: what the reference does not decode is refused", "[unit][decoders]") {
    CHECK(error_of("dragino-lht65", 2, "cbf60b0d0376410add7fff") == "datalog poll reply not supported");
    CHECK(error_of("dragino-lht65", 2, "cbf60b0d0376010add7fff00") == "length 12, an uplink has 11 bytes");
    CHECK(error_of("dragino-lht65", 1, "cbf60b0d0376010add7fff") == "unknown FPort");
}

TEST_CASE("EMU: the register types", "[unit][decoders]") {
    const std::string payload = with_emu_crc(
        "b4d77b61"
        "14e8080000"          // voltage L1-N 2280 V/10 → 228 V
        "1af401"              // frequency 500 → 50 Hz
        "179c"                // power factor L1 −100 → −1
        "f021"                // error code 0x21: time changed, power fail
        "240100000001000000"  // 64-bit Wh: 2^32 + 1
        "0be8030000"          // active power L123 1000 W
        "0c18fcffff"          // active power L1 −1000 W
        "0f10270000"          // current L123 10000 mA
        "fa312e3230"          // firmware "1.20"
        "fc454d55e9"          // manufacturer "EMUé" (Latin-1)
        "f9141e0000");        // factory year: bytes 20, 30, 0, 0 → "203000"
    CHECK(object_of("emu-prof-ii", 1, payload) == Json::parse(R"({
        "Voltage L1-N": {"unit": "V/10", "unit_calculated": "V", "cfgphase": 1, "value_raw": 2280, "value": 228},
        "Frequency": {"unit": "Hz", "value_raw": 500, "value": 50},
        "Powerfactor L1": {"unit": "Cos", "cfgphase": 1, "value_raw": -100, "value": -1},
        "errorcode": {"value": 33, "TimeChanged": true, "CTRatioChange": false, "VTRatioChange": false,
                      "ImpulseWidthChange": false, "ImpulseRatioChange": false, "PowerFail": true,
                      "LogbookFull": false},
        "Active Energy Import T1 64bit": {"unit": "Wh", "value": 1},
        "Active Power L123": {"unit": "W", "value": 1000},
        "Active Power L1": {"unit": "W", "cfgphase": 1, "value": -1000},
        "Current L123": {"unit": "mA", "value": 10000},
        "firmware version": {"value": "1.20"},
        "manufacturer": {"value": "EMU\u00e9"},
        "factory year": {"value": "203000"},
        "timeStamp": 1635506100,
        "medium": {"type": 1, "desc": "Electricity"}
    })"));
    const auto result = decode("emu-prof-ii", 1, payload);
    REQUIRE(result.ok());
    CHECK_NOTHROW(result.decoded->object.dump());
    // The 64-bit register: `object` keeps the reference's folded 32-bit number, the reading the true count.
    CHECK(result.decoded->readings == std::vector<Reading>{at(reading("active_energy", 4294967.297, "kWh"), 1635506100),
                                                           at(reading("power", 1000, "W"), 1635506100),
                                                           at(reading("current", 10, "A"), 1635506100),
                                                           at(reading("frequency", 50, "Hz"), 1635506100)});
}

TEST_CASE("EMU: the finest register of a tariff is used, kWh registers converted", "[unit][decoders]") {
    // T1 as kWh (2) and as Wh (1810): the Wh register wins; T2 only as kWh (3 kWh).
    const auto result = decode("emu-prof-ii", 1, with_emu_crc("b4d77b611c0200000003120700001d03000000"));
    REQUIRE(result.ok());
    CHECK(result.decoded->readings == std::vector<Reading>{at(reading("active_energy", 4.81, "kWh"), 1635506100)});
}

TEST_CASE("EMU: status updates, CRC and unknown registers", "[unit][decoders]") {
    const auto status = decode("emu-prof-ii", 1, "0102");
    REQUIRE(status.ok());
    CHECK(status.decoded->object == Json::object());
    CHECK(status.decoded->warnings == std::vector<std::string>{"status update of 2 bytes, not decoded"});
    // Timestamp and CRC only.
    CHECK(object_of("emu-prof-ii", 1, with_emu_crc("b4d77b61")) ==
          Json::parse(R"({"timeStamp":1635506100,"medium":{"type":1,"desc":"Electricity"}})"));
    CHECK(error_of("emu-prof-ii", 1, "b4d77b6101b4d77b61031207000038") == "crc-8 wrong: computed 0x39, received 0x38");
    CHECK(error_of("emu-prof-ii", 1, with_emu_crc("b4d77b615000")) == "unknown register 0x50 at offset 4");
    CHECK(error_of("emu-prof-ii", 1, with_emu_crc("b4d77b610312")) ==
          "truncated: register 0x03 needs 4 bytes, 1 left at offset 5");
}

TEST_CASE("CMi4140: refusals of the reference and records it does not know", "[unit][decoders]") {
    const std::string example = "150405fc437f0e041340919822022e9015023c482b0259d825025de8140c782794817904fd1700000100";
    CHECK(error_of("elvaco-cmi4140", 1, example) == "unknown FPort");
    CHECK(error_of("elvaco-cmi4140", 2, example.substr(0, 78)) == "payload length < 40: 39 bytes");
    CHECK(error_of("elvaco-cmi4140", 2, "16" + example.substr(2)) ==
          "Payload type unknown, currently standard format supported");
    // VIF 0x99 is no quantity of the table.
    CHECK(error_of("elvaco-cmi4140", 2, "150499" + example.substr(6)) == "Unknown dif 04 and vif 99 at offset 1");
    // DIF 0x84 (a DIFE follows): the reference reads two VIF bytes, and knows no such record.
    CHECK(error_of("elvaco-cmi4140", 2, "1584" + example.substr(4)) == "Unknown dif 84 and vif 05fc at offset 1");
    // The error flags' VIF extension is recognised only near the end, where the meter puts it.
    CHECK(error_of("elvaco-cmi4140", 2, "1504fd1700000100" + example.substr(2, 72))
              .rfind("Unknown dif 04 and vif fd", 0) == 0);
}

TEST_CASE("CMi4140: the meter's date and the error flags read as decimal digits, as the reference does",
          "[unit][decoders]") {
    // 04 6d with bytes 00 0a 2b 31 → reversed hex "312b0a00" → parseInt takes the leading "312".
    const std::string payload = "150405fc437f0e041340919822022e9015023c482b0259d825025de814046d000a2b3104fd1700000100";
    const Json object = object_of("elvaco-cmi4140", 2, payload);
    CHECK(object["datetime_heat_meter"] == 312);
    CHECK(object["error_flag"] == 10000);
    // Reversed digits that start with a letter: NaN, printed as null.
    const std::string letters = payload.substr(0, payload.size() - 8) + "000000a0";
    CHECK(object_of("elvaco-cmi4140", 2, letters)["error_flag"].is_null());
}
