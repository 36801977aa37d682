#pragma once
// What the native codecs share: JSON numbers as the reference codecs print them, readings, and the reasons of the
// common refusals. Internal to decoders/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoders/codec.hpp"
#include "decoders/payload_reader.hpp"

namespace schwebe::decoders {

/// The error of every codec for a port its device does not send on. The exact text of the reference codecs (TTN
/// lorawan-devices `errors: ["unknown FPort"]`), which the shared vectors expect.
inline constexpr std::string_view unknown_f_port = "unknown FPort";

/// LoRaWAN 1.0.4 §4.3.2: FPort 1..223 carry application data; 0 is MAC only, 224 the test protocol, 225..255
/// reserved. A codec that accepts any application port still refuses the others.
[[nodiscard]] constexpr bool is_application_port(std::uint8_t f_port) noexcept {
    return f_port >= 1 && f_port <= 223;
}

/// A JavaScript number as JSON: integral values as integers (as JSON.stringify and ChirpStack print them), others as
/// doubles; NaN and infinities, which JSON.stringify prints as null, as null.
[[nodiscard]] nlohmann::json json_number(double v);

/// The payload as an array of byte values (the reference codecs' `data.bytes = input.bytes`).
[[nodiscard]] nlohmann::json json_bytes(ByteView bytes);

/// Lower-case hex, two digits per byte.
[[nodiscard]] std::string hex(ByteView bytes);
/// "0x4f"
[[nodiscard]] std::string hex_byte(std::uint8_t b);

/// Latin-1 bytes as UTF-8 (JavaScript's String.fromCharCode of a byte), so that any byte sequence becomes valid JSON.
[[nodiscard]] std::string latin1_to_utf8(ByteView bytes);

/// "truncated: heartbeat needs 3 bytes, 2 left at offset 0"
[[nodiscard]] std::string truncated(std::string_view what, std::size_t needed, std::size_t left, std::size_t offset);

[[nodiscard]] Reading reading(std::string quantity, double value, std::string unit);
[[nodiscard]] Reading boolean_reading(std::string quantity, bool value);

/// Adds a reading, replacing an earlier one of the same quantity (a record repeated in one payload: the last wins,
/// as it does in the reference codecs' objects).
void set_reading(std::vector<Reading>& readings, Reading r);

/// RP002-1.0.4: the largest application payload (N) of any region and data rate. A longer payload cannot have come
/// over the air; it is refused before any codec looks at it.
inline constexpr std::size_t max_application_payload = 242;

/// The length refusals every codec shares: an empty payload, and one longer than any uplink can be. nullopt: go on.
[[nodiscard]] std::optional<DecodeResult> check_length(const DecodeInput& input);
/// For codecs that take any application port: the port, then check_length.
[[nodiscard]] std::optional<DecodeResult> check_application_port_and_length(const DecodeInput& input);

/// A warning for bytes after a message of fixed layout, which the reference codecs ignore too: a newer firmware may
/// append fields, and the fields known are still right.
void warn_trailing(Decoded& out, std::size_t size, std::size_t message_size, std::string_view message);

}  // namespace schwebe::decoders
