#include "decoders/codec_support.hpp"

#include <cmath>
#include <utility>

namespace schwebe::decoders {

nlohmann::json json_number(double v) {
    if (!std::isfinite(v)) return nullptr;
    // 2^53: beyond it a double no longer holds every integer, and JavaScript prints it in exponent form anyway.
    constexpr double max_exact_integer = 9007199254740992.0;
    if (std::trunc(v) == v && std::fabs(v) <= max_exact_integer) return static_cast<std::int64_t>(v);
    return v;
}

nlohmann::json json_bytes(ByteView bytes) {
    nlohmann::json out = nlohmann::json::array();
    for (std::uint8_t b : bytes) out.push_back(b);
    return out;
}

std::string hex(ByteView bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

std::string hex_byte(std::uint8_t b) {
    const std::uint8_t one[] = {b};
    return "0x" + hex(one);
}

std::string latin1_to_utf8(ByteView bytes) {
    std::string out;
    for (std::uint8_t b : bytes) {
        if (b < 0x80) {
            out.push_back(static_cast<char>(b));
        } else {
            out.push_back(static_cast<char>(0xc0 | (b >> 6)));
            out.push_back(static_cast<char>(0x80 | (b & 0x3f)));
        }
    }
    return out;
}

std::string truncated(std::string_view what, std::size_t needed, std::size_t left, std::size_t offset) {
    return "truncated: " + std::string(what) + " needs " + std::to_string(needed) + " bytes, " + std::to_string(left) +
           " left at offset " + std::to_string(offset);
}

Reading reading(std::string quantity, double value, std::string unit) {
    Reading r;
    r.quantity = std::move(quantity);
    r.value = value;
    r.unit = std::move(unit);
    return r;
}

Reading boolean_reading(std::string quantity, bool value) {
    Reading r = reading(std::move(quantity), value ? 1 : 0, "1");
    r.boolean = true;
    return r;
}

void set_reading(std::vector<Reading>& readings, Reading r) {
    for (Reading& existing : readings) {
        if (existing.quantity == r.quantity) {
            existing = std::move(r);
            return;
        }
    }
    readings.push_back(std::move(r));
}

std::optional<DecodeResult> check_length(const DecodeInput& input) {
    if (input.bytes.empty()) return DecodeResult::failure("empty payload");
    if (input.bytes.size() > max_application_payload) {
        return DecodeResult::failure("length " + std::to_string(input.bytes.size()) + ", longer than any uplink (" +
                                     std::to_string(max_application_payload) + " bytes)");
    }
    return std::nullopt;
}

std::optional<DecodeResult> check_application_port_and_length(const DecodeInput& input) {
    if (!is_application_port(input.f_port)) return DecodeResult::failure(std::string(unknown_f_port));
    return check_length(input);
}

void warn_trailing(Decoded& out, std::size_t size, std::size_t message_size, std::string_view message) {
    if (size <= message_size) return;
    out.warnings.push_back(std::to_string(size - message_size) + " bytes after the " + std::string(message) + " (" +
                           std::to_string(message_size) + " bytes) not decoded");
}

}  // namespace schwebe::decoders
