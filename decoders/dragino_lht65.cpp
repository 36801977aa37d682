// Dragino LHT65 temperature and humidity sensor. Reference: TheThingsNetwork/lorawan-devices vendor/dragino/lht65.js;
// `object` has its field names and values. Periodic uplinks on FPort 2, 11 bytes:
//
//   ┌────────────────┬──────────────┬───────────────┬─────┬──────────────────────┐
//   │ 0..1           │ 2..3         │ 4..5          │ 6   │ 7..10                │
//   │ battery:       │ SHT20 temp.  │ SHT20 humid.  │ Ext │ external sensor data │
//   │ b15..14 status │ int16, 0.01° │ b11..0, 0.1 % │     │ (by Ext type)        │
//   │ b13..0 mV      │              │               │     │                      │
//   └────────────────┴──────────────┴───────────────┴─────┴──────────────────────┘
//   Ext: bit 7 external sensor not connected, bit 6 poll message reply, bits 3..0 external sensor type:
//   0 none, 1 DS18B20 temperature (7..8), 4 interrupt (7 pin level, 8 status), 5 illumination (7..8 lux),
//   6 ADC (7..8 mV), 7 counter (7..8), 8 counter (7..10), 9 DS18B20 in 0..1 with the device time in 7..10 (battery
//   status moves to bits 15..14 of 4..5), 15 DS18B20 ID (2..5 and 7..10; no SHT20 values).
//
// The reference decodes only 11-byte periodic uplinks; a datalog poll reply (bit 6) or another length is refused.

#include <chrono>
#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

constexpr std::size_t uplink_size = 11;

namespace ext {
constexpr std::uint8_t none = 0;
constexpr std::uint8_t ds18b20 = 1;
constexpr std::uint8_t interrupt = 4;
constexpr std::uint8_t illumination = 5;
constexpr std::uint8_t adc = 6;
constexpr std::uint8_t counter16 = 7;
constexpr std::uint8_t counter32 = 8;
constexpr std::uint8_t ds18b20_timestamp = 9;
constexpr std::uint8_t ds18b20_id = 15;
}  // namespace ext

/// The DS18B20 reports 327.67 °C (0x7fff) when it is absent.
constexpr std::int16_t ds18b20_absent = 0x7fff;

std::uint16_t be16(std::uint8_t hi, std::uint8_t lo) {
    return static_cast<std::uint16_t>((hi << 8) | lo);
}
std::uint32_t be32(std::uint8_t b0, std::uint8_t b1, std::uint8_t b2, std::uint8_t b3) {
    return (std::uint32_t{b0} << 24) | (std::uint32_t{b1} << 16) | (std::uint32_t{b2} << 8) | b3;
}

class DraginoLht65 final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "dragino-lht65"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (input.f_port != 2) return DecodeResult::failure(std::string(unknown_f_port));
        if (auto refused = check_length(input)) return *refused;
        PayloadReader r(input.bytes);
        const auto b = r.array<uplink_size>();
        if (!b) return DecodeResult::failure(truncated("uplink", uplink_size, r.remaining(), 0));
        if (!r.empty()) {
            return DecodeResult::failure("length " + std::to_string(input.bytes.size()) + ", an uplink has " +
                                         std::to_string(uplink_size) + " bytes");
        }
        const std::uint8_t ext_byte = (*b)[6];
        if ((ext_byte & 0x40) != 0) return DecodeResult::failure("datalog poll reply not supported");
        const std::uint8_t ext_type = ext_byte & 0x0f;
        const bool not_connected = (ext_byte & 0x80) != 0;

        Decoded out;
        nlohmann::json& data = out.object;
        data = nlohmann::json::object();
        std::optional<std::int16_t> ds_raw;  // the DS18B20, from whichever bytes the mode puts it in

        if (ext_type == ext::ds18b20_timestamp) {
            ds_raw = static_cast<std::int16_t>(be16((*b)[0], (*b)[1]));
            data["Bat_status"] = (*b)[4] >> 6;
        } else {
            const double battery_v = (be16((*b)[0], (*b)[1]) & 0x3fff) / 1000.0;
            data["BatV"] = json_number(battery_v);
            data["Bat_status"] = (*b)[0] >> 6;
            out.readings.push_back(reading("battery_voltage", battery_v, "V"));
        }
        if (ext_type != ext::ds18b20_id) {
            // The reference rounds with toFixed(2) and toFixed(1); a quotient of integers by 100 or 10 is already the
            // double nearest to the rounded decimal, so dividing gives the same numbers.
            const double temperature = static_cast<std::int16_t>(be16((*b)[2], (*b)[3])) / 100.0;
            const double humidity = (be16((*b)[4], (*b)[5]) & 0x0fff) / 10.0;
            data["TempC_SHT"] = json_number(temperature);
            data["Hum_SHT"] = json_number(humidity);
            out.readings.push_back(reading("temperature", temperature, "Cel"));
            out.readings.push_back(reading("relative_humidity", humidity, "%"));
        }
        if (not_connected) data["No_connect"] = "Sensor no connection";

        std::optional<SystemTime> device_time;
        switch (ext_type) {
            case ext::none: data["Ext_sensor"] = "No external sensor"; break;
            case ext::ds18b20:
                data["Ext_sensor"] = "Temperature Sensor";
                ds_raw = static_cast<std::int16_t>(be16((*b)[7], (*b)[8]));
                break;
            case ext::interrupt:
                data["Work_mode"] = "Interrupt Sensor send";
                data["Exti_pin_level"] = (*b)[7] != 0 ? "High" : "Low";
                data["Exti_status"] = (*b)[8] != 0 ? "True" : "False";
                break;
            case ext::illumination: {
                const int lux = be16((*b)[7], (*b)[8]);
                data["Work_mode"] = "Illumination Sensor";
                data["ILL_lx"] = lux;
                out.readings.push_back(reading("illuminance", lux, "lx"));
                break;
            }
            case ext::adc:
                data["Work_mode"] = "ADC Sensor";
                data["ADC_V"] = json_number(be16((*b)[7], (*b)[8]) / 1000.0);
                break;
            case ext::counter16:
                data["Work_mode"] = "Interrupt Sensor count";
                data["Exit_count"] = be16((*b)[7], (*b)[8]);
                break;
            case ext::counter32:
                data["Work_mode"] = "Interrupt Sensor count";
                // JavaScript's 32-bit bitwise operators: from 2^31 the reference prints negative numbers.
                data["Exit_count"] = static_cast<std::int32_t>(be32((*b)[7], (*b)[8], (*b)[9], (*b)[10]));
                break;
            case ext::ds18b20_timestamp: {
                const std::uint32_t seconds = be32((*b)[7], (*b)[8], (*b)[9], (*b)[10]);
                data["Work_mode"] = "DS18B20 & timestamp";
                data["Systimestamp"] = static_cast<std::int32_t>(seconds);
                device_time = SystemTime{std::chrono::seconds{seconds}};
                break;
            }
            case ext::ds18b20_id: {
                data["Work_mode"] = "DS18B20ID";
                std::string id;
                for (std::size_t i : {2, 3, 4, 5, 7, 8, 9, 10}) {
                    const std::uint8_t one[] = {(*b)[i]};
                    id += hex(one) + " ";
                }
                data["ID"] = id;
                break;
            }
            default: break;
        }

        if (ds_raw) {
            const double ds_temperature = *ds_raw / 100.0;
            data["TempC_DS"] = json_number(ds_temperature);
            if (!not_connected && *ds_raw != ds18b20_absent) {
                out.readings.push_back(reading("external_temperature", ds_temperature, "Cel"));
            }
        }
        // Mode 9 carries the time of the measurement: every reading of this uplink was taken then.
        if (device_time) {
            for (Reading& reading : out.readings) reading.time = device_time;
        }
        return DecodeResult::success(std::move(out));
    }
};

}  // namespace

std::unique_ptr<Codec> make_dragino_lht65() {
    return std::make_unique<DraginoLht65>();
}

}  // namespace schwebe::decoders
