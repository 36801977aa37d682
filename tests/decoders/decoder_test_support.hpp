#pragma once
// Helpers of the codec tests: run a native codec by name on hex bytes, and build the readings a test expects.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "decoders/codec.hpp"
#include "test_support.hpp"

namespace schwebe::test {

inline const decoders::CodecRegistry& native_codecs() {
    static const decoders::CodecRegistry registry = decoders::CodecRegistry::with_native_codecs();
    return registry;
}

inline decoders::DecodeResult decode_bytes(std::string_view codec, std::uint8_t f_port, const lorawan::Bytes& bytes) {
    const decoders::Codec* c = native_codecs().find(codec);
    REQUIRE(c != nullptr);
    return c->decode(decoders::DecodeInput{f_port, bytes, decoders::SystemTime{}});
}

inline decoders::DecodeResult decode(std::string_view codec, std::uint8_t f_port, std::string_view hex_bytes) {
    return decode_bytes(codec, f_port, hex(hex_bytes));
}

inline decoders::Reading reading(std::string quantity, double value, std::string unit) {
    decoders::Reading r;
    r.quantity = std::move(quantity);
    r.value = value;
    r.unit = std::move(unit);
    return r;
}

inline decoders::Reading boolean_reading(std::string quantity, bool value) {
    decoders::Reading r = reading(std::move(quantity), value ? 1 : 0, "1");
    r.boolean = true;
    return r;
}

/// The decoded payload; fails the test if there is none.
inline decoders::Decoded decoded_of(std::string_view codec, std::uint8_t f_port, std::string_view hex_bytes) {
    decoders::DecodeResult result = decode(codec, f_port, hex_bytes);
    INFO(codec << " FPort " << int{f_port} << " " << hex_bytes);
    if (result.error) INFO("error: " << result.error->reason);
    REQUIRE(result.ok());
    return std::move(*result.decoded);
}

/// The reason a payload is refused; fails the test if it is decoded.
inline std::string error_of_bytes(std::string_view codec, std::uint8_t f_port, const lorawan::Bytes& bytes) {
    const decoders::DecodeResult result = decode_bytes(codec, f_port, bytes);
    INFO(codec << " FPort " << int{f_port} << " " << lorawan::to_hex(bytes));
    REQUIRE_FALSE(result.ok());
    REQUIRE(result.error.has_value());
    return result.error->reason;
}

inline std::string error_of(std::string_view codec, std::uint8_t f_port, std::string_view hex_bytes) {
    return error_of_bytes(codec, f_port, hex(hex_bytes));
}

/// CRC-8 (polynomial 0x07, initial 0) appended: the EMU meter's check byte, for payloads built in a test.
inline std::string with_emu_crc(const std::string& hex_bytes) {
    std::uint8_t crc = 0;
    for (std::uint8_t b : hex(hex_bytes)) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = static_cast<std::uint8_t>((crc & 0x80) != 0 ? (crc << 1) ^ 0x07 : crc << 1);
    }
    static constexpr char digits[] = "0123456789abcdef";
    return hex_bytes + digits[crc >> 4] + digits[crc & 0x0f];
}

inline decoders::Reading at(decoders::Reading r, std::int64_t unix_seconds) {
    r.time = decoders::SystemTime{std::chrono::seconds{unix_seconds}};
    return r;
}

}  // namespace schwebe::test

namespace Catch {
template <>
struct StringMaker<schwebe::decoders::Reading> {
    static std::string convert(const schwebe::decoders::Reading& r) {
        std::string out = "{" + r.quantity + " " + StringMaker<double>::convert(r.value) + " " + r.unit;
        if (r.boolean) out += " boolean";
        if (r.time) {
            out += " at " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(r.time->time_since_epoch()).count());
        }
        return out + "}";
    }
};
}  // namespace Catch
