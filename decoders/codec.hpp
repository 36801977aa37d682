#pragma once
// Payload codecs (DESIGN.md, Data flow: decoders): turn a device's application payload into ChirpStack's `object`
// (the vendor's own field names, as the vendor's reference codec returns them) and a list of normalized readings
// (one vocabulary for every vendor: quantity, value, unit). Selected by the device profile's codec name.
//
// Codecs are pure: bytes in, values out, no clock (the uplink's time comes in), no I/O. They never throw on bad
// input: a payload a codec cannot decode gives an error naming the reason, and the uplink is still stored and
// published, without `object`.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schwebe::decoders {

using SystemTime = std::chrono::system_clock::time_point;

/// One measured value in the common vocabulary (README, "Readings"). Booleans (occupancy, motion detected) have
/// value 1 or 0 and `boolean` set; everything else is a number in `unit`, which is UCUM ("Cel", "%", "ppm",
/// "ug/m3", "kWh", "m3", "V", "W", "lx", "hPa", "1" for counts).
struct Reading {
    std::string quantity;  ///< e.g. "occupancy", "temperature", "relative_humidity", "co2", "active_energy"
    double value = 0;
    std::string unit;
    bool boolean = false;
    /// The time the device says it measured (a meter's timestamp); nullopt: the uplink's time.
    std::optional<SystemTime> time;
    bool operator==(const Reading&) const = default;
};

struct DecodeInput {
    std::uint8_t f_port = 0;
    std::span<const std::uint8_t> bytes;
    SystemTime recv_time;
};

struct Decoded {
    nlohmann::json object;  ///< always a JSON object
    std::vector<Reading> readings;
    std::vector<std::string> warnings;  ///< decoded, but something was odd (TS013 `warnings`)
};

/// Why a payload could not be decoded, e.g. "unknown FPort", "truncated: 3 bytes, type 0x01 needs 4".
struct DecodeError {
    std::string reason;
};

/// Either a decoded payload or the reason there is none.
struct DecodeResult {
    std::optional<Decoded> decoded;
    std::optional<DecodeError> error;
    [[nodiscard]] bool ok() const noexcept { return decoded.has_value(); }
    static DecodeResult success(Decoded d) { return {std::move(d), std::nullopt}; }
    static DecodeResult failure(std::string reason) { return {std::nullopt, DecodeError{std::move(reason)}}; }
};

class Codec {
public:
    virtual ~Codec() = default;
    /// The name device profiles use: "cayenne-lpp", "nwave-nps405", …
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;
    /// Never throws on any input.
    [[nodiscard]] virtual DecodeResult decode(const DecodeInput& input) const = 0;
};

/// A downlink payload encoded from the application's `object` (TS013 encodeDownlink), or the reason there is none.
struct EncodeResult {
    std::vector<std::uint8_t> bytes;
    std::optional<std::uint8_t> f_port;  ///< the codec's choice; nullopt: the one the application asked for
    std::vector<std::string> warnings;
    std::optional<std::string> error;
    [[nodiscard]] bool ok() const noexcept { return !error.has_value(); }
};

/// Codecs that run outside the server's own code, in batches so that slow ones run side by side: the JavaScript
/// codecs (decoders/js), named by a file path ending in ".js".
class ScriptCodecs {
public:
    struct Uplink {
        std::string_view codec;
        DecodeInput input;
    };
    virtual ~ScriptCodecs() = default;
    [[nodiscard]] virtual bool handles(std::string_view codec) const = 0;
    /// One result per uplink, in order. Never throws.
    [[nodiscard]] virtual std::vector<DecodeResult> decode_uplinks(std::span<const Uplink> uplinks) = 0;
    /// `object` → bytes with the codec's encoder. Never throws.
    [[nodiscard]] virtual EncodeResult encode_downlink(std::string_view codec, std::optional<std::uint8_t> f_port,
                                                       const nlohmann::json& data) = 0;
};

/// Codecs by name. Built once at start-up, then only read (safe to share between threads once built).
class CodecRegistry {
public:
    /// Every native codec: "cayenne-lpp", "nwave-nps405", "bosch-tps110", "elsys-ers-co2", "dragino-lht65",
    /// "emu-prof-ii", "elvaco-cmi4140".
    [[nodiscard]] static CodecRegistry with_native_codecs();

    /// Replaces a codec of the same name.
    void add(std::unique_ptr<Codec> codec);
    /// nullptr for an unknown name (and for the empty name: no codec).
    [[nodiscard]] const Codec* find(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> names() const;

private:
    std::map<std::string, std::unique_ptr<Codec>, std::less<>> codecs_;
};

}  // namespace schwebe::decoders
