// Base64 as RFC 4648 §4 defines it (standard alphabet, '=' padding). Semtech's rxpk.data is written with padding;
// txpk.data may come without (PROTOCOL.TXT §6), so decoding takes both.

#include "common/base64.hpp"

#include <array>
#include <cstdint>

namespace schwebe::common {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for the alphabet, `invalid` for everything else ('=' included: padding is handled before the lookup).
constexpr std::uint8_t invalid = 0xff;
constexpr std::array<std::uint8_t, 256> decode_table = [] {
    std::array<std::uint8_t, 256> t{};
    t.fill(invalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    return t;
}();

}  // namespace

std::string base64_encode(lorawan::ByteView data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out.push_back(alphabet[(v >> 18) & 0x3f]);
        out.push_back(alphabet[(v >> 12) & 0x3f]);
        out.push_back(alphabet[(v >> 6) & 0x3f]);
        out.push_back(alphabet[v & 0x3f]);
    }
    // RFC 4648 §4: a final group of 8 or 16 bits becomes 2 or 3 characters and "==" or "=".
    const std::size_t rest = data.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{data[i]} << 16;
        out.push_back(alphabet[(v >> 18) & 0x3f]);
        out.push_back(alphabet[(v >> 12) & 0x3f]);
        out.append("==");
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
        out.push_back(alphabet[(v >> 18) & 0x3f]);
        out.push_back(alphabet[(v >> 12) & 0x3f]);
        out.push_back(alphabet[(v >> 6) & 0x3f]);
        out.push_back('=');
    }
    return out;
}

std::optional<lorawan::Bytes> base64_decode(std::string_view text) {
    // Padding, when present, completes the last quantum to 4 characters (RFC 4648 §3.2); one or two '=' at the
    // very end, and nowhere else.
    if (!text.empty() && text.back() == '=') {
        if (text.size() % 4 != 0) return std::nullopt;
        text.remove_suffix(1);
        if (text.back() == '=') text.remove_suffix(1);
    }
    // 4n+1 characters carry 6 bits of a byte that does not exist: no encoder produces them.
    if (text.size() % 4 == 1) return std::nullopt;

    lorawan::Bytes out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const std::uint8_t v = decode_table[static_cast<unsigned char>(c)];
        if (v == invalid) return std::nullopt;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
            acc &= (1U << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) are the encoder's zero fill; RFC 4648 §3.5 lets a decoder ignore non-zero ones.
    return out;
}

}  // namespace schwebe::common
