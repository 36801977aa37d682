// Nwave NPS405 (Smart Parking Sensor G4, FM and SM). Reference: TheThingsNetwork/lorawan-devices
// vendor/nwave/nps405.js; `object` has its field names and values. One message type per FPort:
//
//   FPort 1  parking status     ┌──────────────────────────────┐
//                               │ b0: bits 7..1 duration code, │  occupied = bit 0
//                               │     bit 0 occupied           │
//                               └──────────────────────────────┘
//   FPort 2  heartbeat          b0: bit 0 occupied, bits 6..0 hardware health │ b1: battery (2500 + 4·b1 mV) │
//                               b2: temperature (int8 / 2 + 10 °C) │ further bytes not decoded
//   FPort 3  startup            b0.b1.b2 firmware │ b3 reset cause │ b4 bit 0 occupied
//   FPort 6  debug              the bytes as they are
//   FPort 10 SDI tag registration  b0 as in parking status │ b1..b4 tag id (big endian)
//
// The reference reads the bytes above and ignores any after them; a heartbeat has 6 bytes (3..5 not decoded), a
// tag registration may have a sixth (tag battery, newer firmware). Bytes beyond those sizes give a warning.
//
// The duration of the previous state is compressed into 7 bits: 0..89 minutes exact, then 5-minute steps up to
// 235, then hour steps up to 600, and 127 for "longer" (overflow).

#include <array>
#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

void put_previous_state(nlohmann::json& data, std::uint8_t code) {
    data["previous_state_duration_overflow"] = false;
    if (code < 90) {
        data["previous_state_duration"] = code;
        data["previous_state_duration_error"] = 0;
    } else if (code < 120) {
        data["previous_state_duration"] = 90 + (code - 90) * 5;
        data["previous_state_duration_error"] = 4;
    } else if (code < 127) {
        data["previous_state_duration"] = 240 + (code - 120) * 60;
        data["previous_state_duration_error"] = 59;
    } else {
        data["previous_state_duration"] = 660;
        data["previous_state_duration_error"] = nullptr;
        data["previous_state_duration_overflow"] = true;
    }
}

bool occupied_bit(std::uint8_t b) {
    return (b & 0x01) != 0;
}
std::uint8_t duration_code(std::uint8_t b) {
    return static_cast<std::uint8_t>((b >> 1) & 0x7f);
}

DecodeResult parking_status(PayloadReader& r) {
    const auto b = r.array<1>();
    if (!b) return DecodeResult::failure(truncated("parking status", 1, r.remaining(), 0));
    Decoded out;
    out.object["type"] = "parking_status";
    out.object["occupied"] = occupied_bit((*b)[0]);
    put_previous_state(out.object, duration_code((*b)[0]));
    out.readings.push_back(boolean_reading("occupancy", occupied_bit((*b)[0])));
    warn_trailing(out, r.position() + r.remaining(), 1, "parking status");
    return DecodeResult::success(std::move(out));
}

DecodeResult heartbeat(PayloadReader& r) {
    const auto b = r.array<3>();
    if (!b) return DecodeResult::failure(truncated("heartbeat", 3, r.remaining(), 0));
    const bool occupied = occupied_bit((*b)[0]);
    const int battery_mv = 2500 + (*b)[1] * 4;
    const double temperature = static_cast<std::int8_t>((*b)[2]) / 2.0 + 10;
    const double battery_v = battery_mv / 1000.0;

    // The battery thresholds depend on temperature: a cold lithium cell shows a lower voltage at the same charge.
    const int critical_mv = temperature >= -5 ? 2900 : 2800;
    const int low_mv = temperature >= -5 ? 3000 : 2900;
    const char* health = battery_mv >= low_mv ? "normal" : battery_mv >= critical_mv ? "low" : "critical";

    Decoded out;
    out.object["type"] = "heartbeat";
    out.object["occupied"] = occupied;
    // The reference reports the whole low 7 bits as health, occupied bit included.
    out.object["hw_health_status"] = (*b)[0] & 0x7f;
    out.object["temperature"] = json_number(temperature);
    out.object["battery_voltage"] = json_number(battery_v);
    out.object["battery_health"] = health;
    out.readings.push_back(boolean_reading("occupancy", occupied));
    out.readings.push_back(reading("temperature", temperature, "Cel"));
    out.readings.push_back(reading("battery_voltage", battery_v, "V"));
    warn_trailing(out, r.position() + r.remaining(), 6, "heartbeat");
    return DecodeResult::success(std::move(out));
}

DecodeResult startup(PayloadReader& r) {
    const auto b = r.array<5>();
    if (!b) return DecodeResult::failure(truncated("startup", 5, r.remaining(), 0));
    // Indexes 4, 5 and from 8 on are not defined: the reference leaves `reset_cause` out.
    static constexpr std::array<const char*, 8> reset_causes{
        "rejoining_lorawan_network", "watchdog", "power_on", "user_request", nullptr, nullptr, "brownout", "other"};
    Decoded out;
    out.object["type"] = "startup";
    out.object["firmware_version"] =
        std::to_string((*b)[0]) + "." + std::to_string((*b)[1]) + "." + std::to_string((*b)[2]);
    if ((*b)[3] < reset_causes.size() && reset_causes[(*b)[3]] != nullptr) {
        out.object["reset_cause"] = reset_causes[(*b)[3]];
    }
    out.object["occupied"] = occupied_bit((*b)[4]);
    out.readings.push_back(boolean_reading("occupancy", occupied_bit((*b)[4])));
    warn_trailing(out, r.position() + r.remaining(), 5, "startup message");
    return DecodeResult::success(std::move(out));
}

DecodeResult debug(PayloadReader& r) {
    Decoded out;
    out.object["type"] = "debug";
    out.object["bytes"] = json_bytes(r.rest());
    return DecodeResult::success(std::move(out));
}

/// JavaScript's `(int32).toString(16).toUpperCase()`: no leading zeros, a minus sign for the upper half.
std::string js_int32_hex_upper(std::int32_t v) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::int64_t magnitude = v < 0 ? -static_cast<std::int64_t>(v) : v;
    std::string out;
    do {
        out.insert(out.begin(), digits[magnitude % 16]);
        magnitude /= 16;
    } while (magnitude > 0);
    if (v < 0) out.insert(out.begin(), '-');
    return out;
}

DecodeResult tag_registration(PayloadReader& r) {
    const auto b = r.array<5>();
    if (!b) return DecodeResult::failure(truncated("user registration", 5, r.remaining(), 0));
    Decoded out;
    out.object["type"] = "user_registration";
    if (occupied_bit((*b)[0])) {
        out.object["occupied"] = true;
        put_previous_state(out.object, duration_code((*b)[0]));
        out.readings.push_back(boolean_reading("occupancy", true));
    } else {
        // A tag seen on a free spot: the reference reports the state as unknown.
        out.object["occupied"] = nullptr;
        out.object["previous_state_duration"] = nullptr;
        out.object["previous_state_duration_error"] = nullptr;
        out.object["previous_state_duration_overflow"] = nullptr;
    }
    const auto tag = static_cast<std::int32_t>((std::uint32_t{(*b)[1]} << 24) | (std::uint32_t{(*b)[2]} << 16) |
                                               (std::uint32_t{(*b)[3]} << 8) | (*b)[4]);
    out.object["tag_id"] = js_int32_hex_upper(tag);
    warn_trailing(out, r.position() + r.remaining(), 6, "user registration");
    return DecodeResult::success(std::move(out));
}

class NwaveNps405 final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "nwave-nps405"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (auto refused = check_application_port_and_length(input)) return *refused;
        PayloadReader r(input.bytes);
        switch (input.f_port) {
            case 1: return parking_status(r);
            case 2: return heartbeat(r);
            case 3: return startup(r);
            case 6: return debug(r);
            case 10: return tag_registration(r);
            default: return DecodeResult::failure(std::string(unknown_f_port));
        }
    }
};

}  // namespace

std::unique_ptr<Codec> make_nwave_nps405() {
    return std::make_unique<NwaveNps405>();
}

}  // namespace schwebe::decoders
