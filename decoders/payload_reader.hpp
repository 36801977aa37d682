#pragma once
// The one bounds-checked reader of the payload codecs (STYLE.md habit 3). Vendors mix byte orders, so unlike
// lorawan::ByteReader (the air interface is little endian only) every multi-byte read names its order. A read that
// does not fit returns nullopt and consumes nothing, so no codec can read past the end of its payload.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace schwebe::decoders {

using ByteView = std::span<const std::uint8_t>;

class PayloadReader {
public:
    explicit PayloadReader(ByteView data) noexcept : data_(data) {}

    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] bool empty() const noexcept { return remaining() == 0; }

    /// The next N bytes as a fixed array: a layout read this way is indexed only within N, checked at compile time.
    template <std::size_t N>
    std::optional<std::array<std::uint8_t, N>> array() noexcept {
        if (remaining() < N) return std::nullopt;
        std::array<std::uint8_t, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[i] = data_[pos_ + i];
        pos_ += N;
        return out;
    }

    /// The next `n` bytes as a view into the payload.
    std::optional<ByteView> take(std::size_t n) noexcept {
        if (remaining() < n) return std::nullopt;
        ByteView out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    /// Everything not read yet.
    ByteView rest() noexcept {
        ByteView out = data_.subspan(pos_);
        pos_ = data_.size();
        return out;
    }

    std::optional<std::uint8_t> u8() noexcept {
        if (empty()) return std::nullopt;
        return data_[pos_++];
    }
    std::optional<std::int8_t> i8() noexcept {
        auto v = u8();
        if (!v) return std::nullopt;
        return static_cast<std::int8_t>(*v);
    }
    std::optional<std::uint16_t> u16_be() noexcept { return unsigned_be<2, std::uint16_t>(); }
    std::optional<std::uint16_t> u16_le() noexcept { return unsigned_le<2, std::uint16_t>(); }
    std::optional<std::int16_t> i16_be() noexcept {
        auto v = u16_be();
        if (!v) return std::nullopt;
        return static_cast<std::int16_t>(*v);
    }
    std::optional<std::uint32_t> u24_be() noexcept { return unsigned_be<3, std::uint32_t>(); }
    /// A 24-bit two's complement value, sign-extended.
    std::optional<std::int32_t> i24_be() noexcept {
        auto v = u24_be();
        if (!v) return std::nullopt;
        const std::int32_t raw = static_cast<std::int32_t>(*v);
        return (raw & 0x800000) != 0 ? raw - 0x1000000 : raw;
    }
    std::optional<std::uint32_t> u32_be() noexcept { return unsigned_be<4, std::uint32_t>(); }
    std::optional<std::uint32_t> u32_le() noexcept { return unsigned_le<4, std::uint32_t>(); }
    std::optional<std::int32_t> i32_be() noexcept {
        auto v = u32_be();
        if (!v) return std::nullopt;
        return static_cast<std::int32_t>(*v);
    }
    std::optional<std::int32_t> i32_le() noexcept {
        auto v = u32_le();
        if (!v) return std::nullopt;
        return static_cast<std::int32_t>(*v);
    }
    std::optional<std::uint64_t> u64_le() noexcept { return unsigned_le<8, std::uint64_t>(); }

private:
    template <std::size_t N, class T>
    std::optional<T> unsigned_be() noexcept {
        auto b = array<N>();
        if (!b) return std::nullopt;
        T v = 0;
        for (std::uint8_t byte : *b) v = static_cast<T>((v << 8) | byte);
        return v;
    }
    template <std::size_t N, class T>
    std::optional<T> unsigned_le() noexcept {
        auto b = array<N>();
        if (!b) return std::nullopt;
        T v = 0;
        for (std::size_t i = N; i-- > 0;) v = static_cast<T>((v << 8) | (*b)[i]);
        return v;
    }

    ByteView data_;
    std::size_t pos_ = 0;
};

}  // namespace schwebe::decoders
