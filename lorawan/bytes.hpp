#pragma once
/// Bounds-checked byte reading and writing, and hex conversion.
///
/// Every parser in `lorawan/` reads through ByteReader, so no parser can read past the end of its input, and every
/// little-endian field of the air interface is converted here and nowhere else (LoRaWAN 1.0.4 §4: multi-octet
/// fields are transmitted little endian).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace schwebe::lorawan {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Little-endian stores into a fixed buffer (for blocks built on the stack); ByteWriter uses the same.
constexpr void put_u16_le(std::uint8_t* dst, std::uint16_t v) noexcept {
    dst[0] = static_cast<std::uint8_t>(v);
    dst[1] = static_cast<std::uint8_t>(v >> 8);
}
constexpr void put_u24_le(std::uint8_t* dst, std::uint32_t v) noexcept {
    dst[0] = static_cast<std::uint8_t>(v);
    dst[1] = static_cast<std::uint8_t>(v >> 8);
    dst[2] = static_cast<std::uint8_t>(v >> 16);
}
constexpr void put_u32_le(std::uint8_t* dst, std::uint32_t v) noexcept {
    put_u16_le(dst, static_cast<std::uint16_t>(v));
    put_u16_le(dst + 2, static_cast<std::uint16_t>(v >> 16));
}

/// Reads fields from a byte span; every read checks the remaining length and returns nullopt instead of reading
/// past the end. A failed read consumes nothing.
class ByteReader {
public:
    explicit ByteReader(ByteView data) noexcept : data_(data) {}

    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] bool empty() const noexcept { return remaining() == 0; }

    std::optional<std::uint8_t> u8() noexcept;
    std::optional<std::uint16_t> u16_le() noexcept;
    std::optional<std::uint32_t> u24_le() noexcept;
    std::optional<std::uint32_t> u32_le() noexcept;
    /// The next `n` bytes as a view into the input.
    std::optional<ByteView> take(std::size_t n) noexcept;
    /// Everything not read yet.
    ByteView rest() noexcept;
    /// Copies the next N bytes in reversed order: the air carries EUIs and DevAddr little endian, Schwebe keeps
    /// them most significant byte first, as they are displayed.
    template <std::size_t N>
    std::optional<std::array<std::uint8_t, N>> reversed() noexcept {
        if (remaining() < N) return std::nullopt;
        std::array<std::uint8_t, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[N - 1 - i] = data_[pos_ + i];
        pos_ += N;
        return out;
    }

private:
    ByteView data_;
    std::size_t pos_ = 0;
};

/// Appends fields to a byte vector, little endian where the air interface is.
class ByteWriter {
public:
    explicit ByteWriter(Bytes& out) noexcept : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16_le(std::uint16_t v);
    void u24_le(std::uint32_t v);
    void u32_le(std::uint32_t v);
    void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    /// Counterpart of ByteReader::reversed: writes a big-endian value little endian.
    template <std::size_t N>
    void reversed(const std::array<std::uint8_t, N>& v) {
        out_.insert(out_.end(), v.rbegin(), v.rend());
    }

private:
    Bytes& out_;
};

/// Lower-case hex, two digits per byte.
std::string to_hex(ByteView data);
/// Parses hex (either case, no separators, even length); nullopt on anything else.
std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace schwebe::lorawan
