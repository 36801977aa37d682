// Elsys ERS family (ERS CO2 and its siblings share one format). Reference: TheThingsNetwork/lorawan-devices
// vendor/elsys/elsys.js ("ELSYS simple payload decoder"); `object` has its field names and values. The payload is a
// sequence of records, on any application port (the port is configurable on the device):
//
//   ┌──────┬──────────────────────────────────────────────┐
//   │ type │ value: size by type, big endian               │
//   │ 1    │ 1..65 bytes                                   │
//   └──────┴──────────────────────────────────────────────┘
//
// Differences from the reference, on malformed input only: a record cut short is an error (the reference reads
// past the end and prints garbage), and so is an unknown type (the reference stops there and returns what it
// had, silently dropping the rest).

#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

enum Type : std::uint8_t {
    temperature = 0x01,       // int16, 0.1 °C
    humidity = 0x02,          // uint8, %
    acceleration = 0x03,      // 3 × int8, ±63 = 1 G
    light = 0x04,             // uint16, lux
    motion = 0x05,            // uint8, PIR count
    co2 = 0x06,               // uint16, ppm
    vdd = 0x07,               // uint16, mV
    analog1 = 0x08,           // uint16, mV
    gps = 0x09,               // 2 × uint24, as the reference prints them (raw)
    pulse1 = 0x0a,            // uint16, relative pulse count
    pulse1_abs = 0x0b,        // uint32
    ext_temperature1 = 0x0c,  // int16, 0.1 °C
    ext_digital = 0x0d,       // uint8
    ext_distance = 0x0e,      // uint16, mm
    acc_motion = 0x0f,        // uint8, count
    ir_temperature = 0x10,    // 2 × int16, 0.1 °C: internal, external
    occupancy = 0x11,         // uint8: 0 unoccupied, 1 pending, 2 occupied
    waterleak = 0x12,         // uint8, 0..255
    grideye = 0x13,           // uint8 reference + 64 × uint8 (0.1 °C above it)
    pressure = 0x14,          // uint32, 0.001 hPa
    sound = 0x15,             // uint8 peak, uint8 average, dB
    pulse2 = 0x16,            // uint16
    pulse2_abs = 0x17,        // uint32
    analog2 = 0x18,           // uint16, mV
    ext_temperature2 = 0x19,  // int16, 0.1 °C; repeated records collect into an array
    ext_digital2 = 0x1a,      // uint8
    ext_analog_uv = 0x1b,     // int32, µV
    tvoc = 0x1c,              // uint16, ppb
};

/// Value bytes after the type byte; 0 for a type this format does not define.
std::size_t value_size(std::uint8_t type) {
    switch (type) {
        case humidity:
        case motion:
        case ext_digital:
        case acc_motion:
        case occupancy:
        case waterleak:
        case ext_digital2: return 1;
        case temperature:
        case light:
        case co2:
        case vdd:
        case analog1:
        case pulse1:
        case ext_temperature1:
        case ext_distance:
        case sound:
        case pulse2:
        case analog2:
        case ext_temperature2:
        case tvoc: return 2;
        case acceleration: return 3;
        case pulse1_abs:
        case ir_temperature:
        case pressure:
        case pulse2_abs:
        case ext_analog_uv: return 4;
        case gps: return 6;
        case grideye: return 65;
        default: return 0;
    }
}

/// The reference combines bytes with JavaScript's 32-bit bitwise operators: a uint32 from 2^31 comes out negative.
double js_int32(std::uint32_t v) {
    return static_cast<std::int32_t>(v);
}

void decode_record(std::uint8_t type, PayloadReader& v, nlohmann::json& obj, std::vector<Reading>& readings) {
    // `v` holds exactly value_size(type) bytes: the reads below cannot fail.
    switch (type) {
        case temperature: {
            const double t = v.i16_be().value_or(0) / 10.0;
            obj["temperature"] = json_number(t);
            set_reading(readings, reading("temperature", t, "Cel"));
            break;
        }
        case humidity: {
            const int h = v.u8().value_or(0);
            obj["humidity"] = h;
            set_reading(readings, reading("relative_humidity", h, "%"));
            break;
        }
        case acceleration:
            obj["x"] = v.i8().value_or(0);
            obj["y"] = v.i8().value_or(0);
            obj["z"] = v.i8().value_or(0);
            break;
        case light: {
            const int lux = v.u16_be().value_or(0);
            obj["light"] = lux;
            set_reading(readings, reading("illuminance", lux, "lx"));
            break;
        }
        case motion: {
            const int count = v.u8().value_or(0);
            obj["motion"] = count;
            set_reading(readings, reading("motion", count, "1"));
            break;
        }
        case co2: {
            const int ppm = v.u16_be().value_or(0);
            obj["co2"] = ppm;
            set_reading(readings, reading("co2", ppm, "ppm"));
            break;
        }
        case vdd: {
            const int mv = v.u16_be().value_or(0);
            obj["vdd"] = mv;
            set_reading(readings, reading("battery_voltage", mv / 1000.0, "V"));
            break;
        }
        case analog1: obj["analog1"] = v.u16_be().value_or(0); break;
        case gps:
            obj["lat"] = v.u24_be().value_or(0);
            obj["long"] = v.u24_be().value_or(0);
            break;
        case pulse1: obj["pulse1"] = v.u16_be().value_or(0); break;
        case pulse1_abs: obj["pulseAbs"] = json_number(js_int32(v.u32_be().value_or(0))); break;
        case ext_temperature1: {
            const double t = v.i16_be().value_or(0) / 10.0;
            obj["externalTemperature"] = json_number(t);
            set_reading(readings, reading("external_temperature", t, "Cel"));
            break;
        }
        case ext_digital: obj["digital"] = v.u8().value_or(0); break;
        case ext_distance: {
            const int mm = v.u16_be().value_or(0);
            obj["distance"] = mm;
            set_reading(readings, reading("distance", mm / 1000.0, "m"));
            break;
        }
        case acc_motion: obj["accMotion"] = v.u8().value_or(0); break;
        case ir_temperature:
            obj["irInternalTemperature"] = json_number(v.i16_be().value_or(0) / 10.0);
            obj["irExternalTemperature"] = json_number(v.i16_be().value_or(0) / 10.0);
            break;
        case occupancy: {
            const int state = v.u8().value_or(0);
            obj["occupancy"] = state;
            // 1 is "pending" (someone entering or leaving): neither occupied nor free, so no reading.
            if (state == 0 || state == 2) set_reading(readings, boolean_reading("occupancy", state == 2));
            break;
        }
        case waterleak: obj["waterleak"] = v.u8().value_or(0); break;
        case grideye: {
            const int ref = v.u8().value_or(0);
            nlohmann::json pixels = nlohmann::json::array();
            for (std::uint8_t p : v.rest()) pixels.push_back(json_number(ref + p / 10.0));
            obj["grideye"] = std::move(pixels);
            break;
        }
        case pressure: {
            const double hpa = js_int32(v.u32_be().value_or(0)) / 1000;
            obj["pressure"] = json_number(hpa);
            set_reading(readings, reading("barometric_pressure", hpa, "hPa"));
            break;
        }
        case sound: {
            obj["soundPeak"] = v.u8().value_or(0);
            const int avg = v.u8().value_or(0);
            obj["soundAvg"] = avg;
            set_reading(readings, reading("sound_level", avg, "dB"));
            break;
        }
        case pulse2: obj["pulse2"] = v.u16_be().value_or(0); break;
        case pulse2_abs: obj["pulseAbs2"] = json_number(js_int32(v.u32_be().value_or(0))); break;
        case analog2: obj["analog2"] = v.u16_be().value_or(0); break;
        case ext_temperature2: {
            // The first record gives a number, the following ones turn it into an array of all of them.
            nlohmann::json t = json_number(v.i16_be().value_or(0) / 10.0);
            nlohmann::json& slot = obj["externalTemperature2"];
            if (slot.is_null()) {
                slot = std::move(t);
            } else {
                if (!slot.is_array()) slot = nlohmann::json::array({slot});
                slot.push_back(std::move(t));
            }
            break;
        }
        case ext_digital2: obj["digital2"] = v.u8().value_or(0); break;
        case ext_analog_uv: obj["analogUv"] = v.i32_be().value_or(0); break;
        case tvoc: {
            const int ppb = v.u16_be().value_or(0);
            obj["tvoc"] = ppb;
            set_reading(readings, reading("tvoc", ppb, "ppb"));
            break;
        }
        default: break;
    }
}

class ElsysErsCo2 final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "elsys-ers-co2"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (auto refused = check_application_port_and_length(input)) return *refused;
        Decoded out;
        out.object = nlohmann::json::object();
        PayloadReader r(input.bytes);
        while (!r.empty()) {
            const std::size_t offset = r.position();
            const std::uint8_t type = r.u8().value_or(0);
            const std::size_t size = value_size(type);
            if (size == 0) {
                return DecodeResult::failure("unknown type " + hex_byte(type) + " at offset " + std::to_string(offset));
            }
            const auto value = r.take(size);
            if (!value) {
                return DecodeResult::failure(truncated("type " + hex_byte(type), size, r.remaining(), offset + 1));
            }
            PayloadReader v(*value);
            decode_record(type, v, out.object, out.readings);
        }
        return DecodeResult::success(std::move(out));
    }
};

}  // namespace

std::unique_ptr<Codec> make_elsys_ers_co2() {
    return std::make_unique<ElsysErsCo2>();
}

}  // namespace schwebe::decoders
