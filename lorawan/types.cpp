#include "lorawan/types.hpp"

#include "lorawan/bytes.hpp"

namespace schwebe::lorawan {

namespace {
/// Parses exactly `N` big-endian bytes of hex.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex) {
    if (hex.size() != 2 * N) return std::nullopt;
    const auto bytes = lorawan::from_hex(hex);
    if (!bytes) return std::nullopt;
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
    return out;
}

std::optional<std::uint32_t> u32_from_hex(std::string_view hex, std::size_t width) {
    if (hex.size() != 2 * width) return std::nullopt;
    const auto bytes = lorawan::from_hex(hex);
    if (!bytes) return std::nullopt;
    std::uint32_t v = 0;
    for (const std::uint8_t b : *bytes) v = (v << 8) | b;
    return v;
}

std::string u32_to_hex(std::uint32_t v, std::size_t width) {
    std::array<std::uint8_t, 4> be{};
    for (std::size_t i = 0; i < width; ++i) be[width - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    return to_hex(ByteView{be.data(), width});
}
}  // namespace

std::optional<Eui64> Eui64::from_hex(std::string_view hex) {
    const auto a = fixed_from_hex<8>(hex);
    if (!a) return std::nullopt;
    return Eui64{*a};
}

std::uint64_t Eui64::to_u64() const noexcept {
    std::uint64_t v = 0;
    for (const std::uint8_t b : bytes_) v = (v << 8) | b;
    return v;
}

std::string Eui64::to_string() const {
    return to_hex(bytes_);
}

std::optional<DevAddr> DevAddr::from_hex(std::string_view hex) {
    const auto v = u32_from_hex(hex, 4);
    if (!v) return std::nullopt;
    return DevAddr{*v};
}

std::string DevAddr::to_string() const {
    return u32_to_hex(value_, 4);
}

std::optional<NetId> NetId::from_hex(std::string_view hex) {
    const auto v = u32_from_hex(hex, 3);
    if (!v) return std::nullopt;
    return NetId{*v};
}

std::string NetId::to_string() const {
    return u32_to_hex(value_, 3);
}

namespace detail {
std::optional<std::array<std::uint8_t, 16>> key_from_hex(std::string_view hex) {
    return fixed_from_hex<16>(hex);
}
}  // namespace detail

}  // namespace schwebe::lorawan
