// Cayenne LPP against the examples of the Cayenne LPP documentation (myDevices, "Cayenne Low Power Payload",
// Examples) and the scales of its type table: expected values are the documented ones, in the `object` form of
// ChirpStack v4's built-in decoder.

#include <vector>

#include "decoder_test_support.hpp"

using schwebe::decoders::Reading;
using schwebe::test::boolean_reading;
using schwebe::test::decode;
using schwebe::test::reading;
using Json = nlohmann::json;

namespace {

Json object_of(std::string_view hex_bytes) {
    const auto result = decode("cayenne-lpp", 1, hex_bytes);
    INFO(hex_bytes);
    REQUIRE(result.ok());
    return result.decoded->object;
}

std::vector<Reading> readings_of(std::string_view hex_bytes) {
    const auto result = decode("cayenne-lpp", 1, hex_bytes);
    REQUIRE(result.ok());
    return result.decoded->readings;
}

}  // namespace

TEST_CASE("Cayenne LPP: the specification's examples", "[unit][decoders]") {
    SECTION("device with two temperature sensors: 27.2 °C on channel 3, 25.5 °C on channel 5") {
        CHECK(object_of("03670110056700FF") == Json::parse(R"({"temperatureSensor":{"3":27.2,"5":25.5}})"));
        CHECK(readings_of("03670110056700FF") ==
              std::vector<Reading>{reading("temperature", 27.2, "Cel"), reading("temperature", 25.5, "Cel")});
    }
    SECTION("device with temperature and acceleration, frame N: -4.1 °C") {
        CHECK(object_of("0167FFD7") == Json::parse(R"({"temperatureSensor":{"1":-4.1}})"));
        CHECK(readings_of("0167FFD7") == std::vector<Reading>{reading("temperature", -4.1, "Cel")});
    }
    SECTION("device with temperature and acceleration, frame N+1: x 1.234 G, y -1.234 G, z 0 G") {
        CHECK(object_of("067104D2FB2E0000") == Json::parse(R"({"accelerometer":{"6":{"x":1.234,"y":-1.234,"z":0}}})"));
        CHECK(readings_of("067104D2FB2E0000").empty());
    }
    SECTION("device with GPS: 42.3519 N, 87.9094 W, 10 m") {
        CHECK(object_of("018806765FF2960A0003E8") ==
              Json::parse(R"({"gpsLocation":{"1":{"latitude":42.3519,"longitude":-87.9094,"altitude":10}}})"));
        CHECK(readings_of("018806765FF2960A0003E8").empty());
    }
}

TEST_CASE("Cayenne LPP: every IPSO type of LPP v1, two channels each", "[unit][decoders]") {
    // Value bytes chosen per type and decoded by the type table's resolution: digital 1, analog 0.01 signed,
    // illuminance 1 lx, presence 1, temperature 0.1 °C signed, humidity 0.5 %, accelerometer 0.001 G, barometer
    // 0.1 hPa, gyrometer 0.01 °/s.
    const char* payload =
        "0300640500D2"                      // digital input 100, 210
        "0301640501D2"                      // digital output
        "0302000A050203E8"                  // analog input 0.10, 10.00
        "0303000A050303E8"                  // analog output
        "0365000A056503E8"                  // illuminance 10, 1000 lx
        "036605056603"                      // presence 5, 3
        "03670110056700FF"                  // temperature 27.2, 25.5
        "036829056896"                      // humidity 20.5, 75 %
        "0371000100020003057103EA07D30BBB"  // accelerometer
        "0373041F057309C4"                  // barometer 105.5, 250 hPa
        "0386000100020003058603E907D20BBB"  // gyrometer
        "018806765FF2960A0003E8";           // GPS
    CHECK(object_of(payload) == Json::parse(R"({
        "digitalInput": {"3": 100, "5": 210},
        "digitalOutput": {"3": 100, "5": 210},
        "analogInput": {"3": 0.1, "5": 10},
        "analogOutput": {"3": 0.1, "5": 10},
        "illuminanceSensor": {"3": 10, "5": 1000},
        "presenceSensor": {"3": 5, "5": 3},
        "temperatureSensor": {"3": 27.2, "5": 25.5},
        "humiditySensor": {"3": 20.5, "5": 75},
        "accelerometer": {"3": {"x": 0.001, "y": 0.002, "z": 0.003}, "5": {"x": 1.002, "y": 2.003, "z": 3.003}},
        "barometer": {"3": 105.5, "5": 250},
        "gyrometer": {"3": {"x": 0.01, "y": 0.02, "z": 0.03}, "5": {"x": 10.01, "y": 20.02, "z": 30.03}},
        "gpsLocation": {"1": {"latitude": 42.3519, "longitude": -87.9094, "altitude": 10}}
    })"));
    // Analog, digital, accelerometer, gyrometer and GPS have no known meaning as a reading.
    CHECK(readings_of(payload) == std::vector<Reading>{
                                      reading("illuminance", 10, "lx"),
                                      reading("illuminance", 1000, "lx"),
                                      boolean_reading("presence", true),
                                      boolean_reading("presence", true),
                                      reading("temperature", 27.2, "Cel"),
                                      reading("temperature", 25.5, "Cel"),
                                      reading("relative_humidity", 20.5, "%"),
                                      reading("relative_humidity", 75, "%"),
                                      reading("barometric_pressure", 105.5, "hPa"),
                                      reading("barometric_pressure", 250, "hPa"),
                                  });
}

TEST_CASE("Cayenne LPP: the extended IPSO types", "[unit][decoders]") {
    struct Case {
        const char* hex;
        const char* object;
        std::vector<Reading> readings;
    };
    const std::vector<Case> cases{
        {"016400BC614E", R"({"genericSensor":{"1":12345678}})", {}},
        {"0174014A", R"({"voltage":{"1":3.3}})", {reading("voltage", 3.3, "V")}},
        {"017503E8", R"({"current":{"1":1}})", {reading("current", 1, "A")}},
        {"01760000C350", R"({"frequency":{"1":50000}})", {reading("frequency", 50000, "Hz")}},
        {"017864", R"({"percentage":{"1":100}})", {}},
        {"0179FF9C", R"({"altitude":{"1":-100}})", {reading("altitude", -100, "m")}},
        {"017D0190", R"({"concentration":{"1":400}})", {}},
        {"018004D2", R"({"power":{"1":1234}})", {reading("power", 1234, "W")}},
        {"018200003039", R"({"distance":{"1":12.345}})", {reading("distance", 12.345, "m")}},
        {"01830001E240", R"({"energy":{"1":123.456}})", {reading("active_energy", 123.456, "kWh")}},
        {"0184010E", R"({"direction":{"1":270}})", {reading("direction", 270, "deg")}},
        {"0185617BD7B4", R"({"unixTime":{"1":1635506100}})", {}},
        {"0187FF8000", R"({"colour":{"1":{"r":255,"g":128,"b":0}}})", {}},
        {"018E01", R"({"switch":{"1":1}})", {}},
    };
    for (const Case& c : cases) {
        INFO(c.hex);
        CHECK(object_of(c.hex) == Json::parse(c.object));
        CHECK(readings_of(c.hex) == c.readings);
    }
}

TEST_CASE("Cayenne LPP: a channel repeated within a type keeps its last value", "[unit][decoders]") {
    CHECK(object_of("01670110016700FF") == Json::parse(R"({"temperatureSensor":{"1":25.5}})"));
    CHECK(readings_of("01670110016700FF") == std::vector<Reading>{reading("temperature", 25.5, "Cel")});
    // The same channel in two types is two values.
    CHECK(object_of("016700FF016850") == Json::parse(R"({"temperatureSensor":{"1":25.5},"humiditySensor":{"1":40}})"));
    CHECK(readings_of("016600") == std::vector<Reading>{boolean_reading("presence", false)});
}

TEST_CASE("Cayenne LPP: limits of the signed and unsigned fields", "[unit][decoders]") {
    CHECK(object_of("01678000") == Json::parse(R"({"temperatureSensor":{"1":-3276.8}})"));
    CHECK(object_of("01677FFF") == Json::parse(R"({"temperatureSensor":{"1":3276.7}})"));
    CHECK(object_of("0102FFFF") == Json::parse(R"({"analogInput":{"1":-0.01}})"));
    CHECK(object_of("0173FFFF") == Json::parse(R"({"barometer":{"1":6553.5}})"));
    CHECK(object_of("0168FF") == Json::parse(R"({"humiditySensor":{"1":127.5}})"));
    CHECK(object_of("0164FFFFFFFF") == Json::parse(R"({"genericSensor":{"1":4294967295}})"));
    CHECK(object_of("0188800000800000800000") ==
          Json::parse(R"({"gpsLocation":{"1":{"latitude":-838.8608,"longitude":-838.8608,"altitude":-83886.08}}})"));
    CHECK(object_of("01887FFFFF7FFFFF7FFFFF") ==
          Json::parse(R"({"gpsLocation":{"1":{"latitude":838.8607,"longitude":838.8607,"altitude":83886.07}}})"));
}

TEST_CASE("Cayenne LPP: an unknown type or a record cut short is an error", "[unit][decoders]") {
    const auto unknown = decode("cayenne-lpp", 1, "0167011001050000");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error->reason == "unknown type 0x05 at offset 5");

    const auto cut = decode("cayenne-lpp", 1, "01670110018806765F");
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error->reason == "truncated: type 0x88 needs 9 bytes, 3 left at offset 6");

    const auto header = decode("cayenne-lpp", 1, "0167011001");
    REQUIRE_FALSE(header.ok());
    CHECK(header.error->reason == "truncated: record header needs 2 bytes, 1 left at offset 4");
}
