// Cayenne Low Power Payload v1 (myDevices), with the IPSO types of the extended Arduino libraries (ElectronicCats
// CayenneLPP) that TTN's and ChirpStack's users send. The payload is a sequence of records:
//
//   ┌─────────┬──────┬──────────────────────────────────────────┐
//   │ channel │ type │ value: size and scale by type, big endian │
//   │ 1 byte  │ 1    │ 1..9 bytes                                │
//   └─────────┴──────┴──────────────────────────────────────────┘
//
// `object` is what ChirpStack v4's built-in decoder (chirpstack/src/codec/cayenne_lpp.rs) gives: one member per
// type, keyed by channel, `{"temperatureSensor": {"3": 27.2, "5": 25.5}}`; a channel repeated within a type keeps
// its last value. The extended types, which ChirpStack does not know, follow the same form under camelCase names.
// Unlike ChirpStack, which ignores an empty payload, an empty payload is an error here (every codec refuses it).

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

/// How a type's value is laid out.
enum class Layout {
    unsigned_scalar,  ///< unsigned big-endian integer of `size` bytes, divided by `divisor`
    signed_scalar,    ///< two's complement big-endian integer of `size` bytes, divided by `divisor`
    xyz,              ///< three signed 16-bit axes, each divided by `divisor` (accelerometer, gyrometer)
    gps,              ///< latitude and longitude in 1e-4 °, altitude in 0.01 m: three signed 24-bit values
    rgb,              ///< three unsigned bytes
};

/// The reading a type gives, if its meaning is known (an analog input could be anything: no reading).
struct ReadingKind {
    std::string_view quantity;
    std::string_view unit;
    bool boolean = false;
};

struct LppType {
    std::uint8_t type = 0;
    std::string_view key;  ///< the member of `object`
    std::size_t size = 0;  ///< bytes of the value
    Layout layout = Layout::unsigned_scalar;
    double divisor = 1;
    std::optional<ReadingKind> reading;
};

// Cayenne LPP v1 (IPSO object id − 3200) and the extended types (ElectronicCats CayenneLPP.h).
constexpr std::array<LppType, 26> lpp_types{{
    {0, "digitalInput", 1, Layout::unsigned_scalar, 1, std::nullopt},
    {1, "digitalOutput", 1, Layout::unsigned_scalar, 1, std::nullopt},
    {2, "analogInput", 2, Layout::signed_scalar, 100, std::nullopt},
    {3, "analogOutput", 2, Layout::signed_scalar, 100, std::nullopt},
    {100, "genericSensor", 4, Layout::unsigned_scalar, 1, std::nullopt},
    {101, "illuminanceSensor", 2, Layout::unsigned_scalar, 1, ReadingKind{"illuminance", "lx"}},
    {102, "presenceSensor", 1, Layout::unsigned_scalar, 1, ReadingKind{"presence", "1", true}},
    {103, "temperatureSensor", 2, Layout::signed_scalar, 10, ReadingKind{"temperature", "Cel"}},
    {104, "humiditySensor", 1, Layout::unsigned_scalar, 2, ReadingKind{"relative_humidity", "%"}},
    {113, "accelerometer", 6, Layout::xyz, 1000, std::nullopt},
    {115, "barometer", 2, Layout::unsigned_scalar, 10, ReadingKind{"barometric_pressure", "hPa"}},
    {116, "voltage", 2, Layout::unsigned_scalar, 100, ReadingKind{"voltage", "V"}},
    {117, "current", 2, Layout::unsigned_scalar, 1000, ReadingKind{"current", "A"}},
    {118, "frequency", 4, Layout::unsigned_scalar, 1, ReadingKind{"frequency", "Hz"}},
    {120, "percentage", 1, Layout::unsigned_scalar, 1, std::nullopt},
    {121, "altitude", 2, Layout::signed_scalar, 1, ReadingKind{"altitude", "m"}},
    {125, "concentration", 2, Layout::unsigned_scalar, 1, std::nullopt},
    {128, "power", 2, Layout::unsigned_scalar, 1, ReadingKind{"power", "W"}},
    {130, "distance", 4, Layout::unsigned_scalar, 1000, ReadingKind{"distance", "m"}},
    {131, "energy", 4, Layout::unsigned_scalar, 1000, ReadingKind{"active_energy", "kWh"}},
    {132, "direction", 2, Layout::unsigned_scalar, 1, ReadingKind{"direction", "deg"}},
    {133, "unixTime", 4, Layout::unsigned_scalar, 1, std::nullopt},
    {134, "gyrometer", 6, Layout::xyz, 100, std::nullopt},
    {135, "colour", 3, Layout::rgb, 1, std::nullopt},
    {136, "gpsLocation", 9, Layout::gps, 1, std::nullopt},
    {142, "switch", 1, Layout::unsigned_scalar, 1, std::nullopt},
}};

const LppType* find_type(std::uint8_t type) {
    for (const LppType& t : lpp_types) {
        if (t.type == type) return &t;
    }
    return nullptr;
}

/// A scalar value of `size` bytes (1, 2 or 4), read from a view of exactly that size.
double scalar(ByteView value, bool is_signed) {
    std::uint32_t raw = 0;
    for (std::uint8_t b : value) raw = (raw << 8) | b;
    if (!is_signed) return static_cast<double>(raw);
    const unsigned bits = static_cast<unsigned>(value.size() * 8);
    const std::uint32_t sign = std::uint32_t{1} << (bits - 1);
    if (bits < 32 && (raw & sign) != 0)
        return static_cast<double>(static_cast<std::int64_t>(raw) - (std::int64_t{1} << bits));
    return static_cast<double>(static_cast<std::int32_t>(raw));
}

/// The value of one record as ChirpStack prints it, and the number a reading takes (scalars only).
struct RecordValue {
    nlohmann::json json;
    std::optional<double> number;
};

RecordValue decode_value(const LppType& t, ByteView value) {
    PayloadReader r(value);  // `value` has exactly t.size bytes: the reads below cannot fail
    switch (t.layout) {
        case Layout::unsigned_scalar:
        case Layout::signed_scalar: {
            // ChirpStack divides the integer as f64 (`(val as f64) / 10.0`); so does this, for the same doubles.
            const double v = scalar(value, t.layout == Layout::signed_scalar) / t.divisor;
            return {json_number(v), v};
        }
        case Layout::xyz: {
            nlohmann::json xyz = nlohmann::json::object();
            xyz["x"] = json_number(r.i16_be().value_or(0) / t.divisor);
            xyz["y"] = json_number(r.i16_be().value_or(0) / t.divisor);
            xyz["z"] = json_number(r.i16_be().value_or(0) / t.divisor);
            return {std::move(xyz), std::nullopt};
        }
        case Layout::gps: {
            nlohmann::json gps = nlohmann::json::object();
            gps["latitude"] = json_number(r.i24_be().value_or(0) / 10000.0);
            gps["longitude"] = json_number(r.i24_be().value_or(0) / 10000.0);
            gps["altitude"] = json_number(r.i24_be().value_or(0) / 100.0);
            return {std::move(gps), std::nullopt};
        }
        case Layout::rgb: {
            nlohmann::json rgb = nlohmann::json::object();
            rgb["r"] = r.u8().value_or(0);
            rgb["g"] = r.u8().value_or(0);
            rgb["b"] = r.u8().value_or(0);
            return {std::move(rgb), std::nullopt};
        }
    }
    return {nullptr, std::nullopt};
}

class CayenneLpp final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "cayenne-lpp"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (auto refused = check_application_port_and_length(input)) return *refused;

        Decoded out;
        out.object = nlohmann::json::object();
        // Readings by (type, channel): a repeated channel replaces its reading as it replaces its `object` value.
        std::map<std::pair<std::uint8_t, std::uint8_t>, Reading> readings;

        PayloadReader r(input.bytes);
        while (!r.empty()) {
            const std::size_t offset = r.position();
            const auto header = r.array<2>();
            if (!header) return DecodeResult::failure(truncated("record header", 2, r.remaining(), offset));
            const std::uint8_t channel = (*header)[0];
            const LppType* t = find_type((*header)[1]);
            if (t == nullptr) {
                return DecodeResult::failure("unknown type " + hex_byte((*header)[1]) + " at offset " +
                                             std::to_string(offset + 1));
            }
            const auto value = r.take(t->size);
            if (!value) {
                return DecodeResult::failure(
                    truncated("type " + hex_byte(t->type), t->size, r.remaining(), offset + 2));
            }

            RecordValue v = decode_value(*t, *value);
            if (t->reading && v.number) {
                readings[{t->type, channel}] =
                    t->reading->boolean
                        ? boolean_reading(std::string(t->reading->quantity), *v.number != 0)
                        : reading(std::string(t->reading->quantity), *v.number, std::string(t->reading->unit));
            }
            nlohmann::json& by_channel = out.object[std::string(t->key)];
            if (!by_channel.is_object()) by_channel = nlohmann::json::object();
            by_channel[std::to_string(channel)] = std::move(v.json);
        }

        for (auto& [key, reading] : readings) out.readings.push_back(std::move(reading));
        return DecodeResult::success(std::move(out));
    }
};

}  // namespace

std::unique_ptr<Codec> make_cayenne_lpp() {
    return std::make_unique<CayenneLpp>();
}

}  // namespace schwebe::decoders
