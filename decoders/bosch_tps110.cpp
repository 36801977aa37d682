// Bosch TPS110 parking lot sensor, firmware 0.29.2. Reference: TheThingsNetwork/lorawan-devices
// vendor/bosch/tpl110-0292.js; `object` has its field names and values. One message type per FPort:
//
//   FPort 1  parking status      b0 bit 0 occupied
//   FPort 2  heartbeat           b0 bit 0 occupied │ b1 temperature (int8 °C), optional
//   FPort 3  startup (17 bytes)  ┌──────────┬──────────┬──────────┬──────────────┬─────────────┬──────────┐
//                                │ 0..3     │ 4..7     │ 8..11    │ 12.13.14     │ 15          │ 16       │
//                                │ debug 1  │ debug 2  │ debug 3  │ firmware     │ reset cause │ occupied │
//                                └──────────┴──────────┴──────────┴──────────────┴─────────────┴──────────┘
//                                each debug code: 12 bits, little endian, in the first two bytes; 0 = none
//   FPort 4  device information  the bytes as they are
//   FPort 5  device usage        the bytes as they are
//   FPort 6  debug (10 bytes)    0..3 timestamp (LE) │ 4..5 debug code (12 bits, LE) │ 8..9 sequence number (LE)
//
// Bytes after these layouts, which the reference ignores, give a warning.

#include <array>
#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

bool occupied_bit(std::uint8_t b) {
    return (b & 0x01) != 0;
}

DecodeResult parking_status(PayloadReader& r) {
    const auto b = r.array<1>();
    if (!b) return DecodeResult::failure(truncated("parking status", 1, r.remaining(), 0));
    Decoded out;
    out.object["type"] = "parking status";
    out.object["occupied"] = occupied_bit((*b)[0]);
    out.readings.push_back(boolean_reading("occupancy", occupied_bit((*b)[0])));
    warn_trailing(out, r.position() + r.remaining(), 1, "parking status");
    return DecodeResult::success(std::move(out));
}

DecodeResult heartbeat(PayloadReader& r) {
    const auto b = r.array<1>();
    if (!b) return DecodeResult::failure(truncated("heartbeat", 1, r.remaining(), 0));
    Decoded out;
    out.object["type"] = "heartbeat";
    out.object["occupied"] = occupied_bit((*b)[0]);
    out.readings.push_back(boolean_reading("occupancy", occupied_bit((*b)[0])));
    // Older firmware sends the status byte alone.
    if (const auto temperature = r.i8()) {
        out.object["temperature"] = *temperature;
        out.readings.push_back(reading("temperature", *temperature, "Cel"));
    }
    warn_trailing(out, r.position() + r.remaining(), 2, "heartbeat");
    return DecodeResult::success(std::move(out));
}

DecodeResult startup(PayloadReader& r) {
    const auto b = r.array<17>();
    if (!b) return DecodeResult::failure(truncated("startup", 17, r.remaining(), 0));
    static constexpr std::array<const char*, 5> reset_causes{nullptr, "watchdog", "power on", "system request",
                                                             "other"};
    Decoded out;
    out.object["type"] = "startup";
    nlohmann::json codes = nlohmann::json::array();
    for (std::size_t i = 0; i <= 8; i += 4) {
        const int code = (((*b)[i + 1] & 0x0f) << 8) | (*b)[i];
        if (code != 0) codes.push_back(code);
    }
    out.object["debugCodes"] = std::move(codes);
    out.object["firmwareVersion"] =
        std::to_string((*b)[12]) + "." + std::to_string((*b)[13]) + "." + std::to_string((*b)[14]);
    if ((*b)[15] < reset_causes.size() && reset_causes[(*b)[15]] != nullptr) {
        out.object["resetCause"] = reset_causes[(*b)[15]];
    }
    out.object["occupied"] = occupied_bit((*b)[16]);
    out.readings.push_back(boolean_reading("occupancy", occupied_bit((*b)[16])));
    warn_trailing(out, r.position() + r.remaining(), 17, "startup message");
    return DecodeResult::success(std::move(out));
}

DecodeResult raw_bytes(PayloadReader& r, const char* type) {
    Decoded out;
    out.object["type"] = type;
    out.object["bytes"] = json_bytes(r.rest());
    return DecodeResult::success(std::move(out));
}

DecodeResult debug(PayloadReader& r) {
    const auto b = r.array<10>();
    if (!b) return DecodeResult::failure(truncated("debug", 10, r.remaining(), 0));
    // The reference combines the timestamp with 32-bit signed bitwise operators: values from 2^31 come out negative.
    const auto timestamp = static_cast<std::int32_t>((std::uint32_t{(*b)[3]} << 24) | (std::uint32_t{(*b)[2]} << 16) |
                                                     (std::uint32_t{(*b)[1]} << 8) | (*b)[0]);
    Decoded out;
    out.object["type"] = "debug";
    out.object["timestamp"] = timestamp;
    out.object["debugCode"] = (((*b)[5] & 0x0f) << 8) | (*b)[4];
    out.object["sequenceNumber"] = ((*b)[9] << 8) | (*b)[8];
    warn_trailing(out, r.position() + r.remaining(), 10, "debug message");
    return DecodeResult::success(std::move(out));
}

class BoschTps110 final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "bosch-tps110"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (auto refused = check_application_port_and_length(input)) return *refused;
        PayloadReader r(input.bytes);
        switch (input.f_port) {
            case 1: return parking_status(r);
            case 2: return heartbeat(r);
            case 3: return startup(r);
            case 4: return raw_bytes(r, "device information");
            case 5: return raw_bytes(r, "device usage");
            case 6: return debug(r);
            default: return DecodeResult::failure(std::string(unknown_f_port));
        }
    }
};

}  // namespace

std::unique_ptr<Codec> make_bosch_tps110() {
    return std::make_unique<BoschTps110>();
}

}  // namespace schwebe::decoders
