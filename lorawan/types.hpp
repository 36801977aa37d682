#pragma once
/// Strong types for the identifiers and keys of LoRaWAN, so that a DevEUI cannot be passed for a JoinEUI by
/// accident of position and an AppSKey cannot be used where the NwkSKey belongs: each key role is its own type.
/// All values are held most significant byte first, as displayed; ByteReader/ByteWriter turn them around for the
/// air.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace schwebe::lorawan {

/// A 64-bit extended unique identifier (DevEUI, JoinEUI, gateway EUI).
class Eui64 {
public:
    using Array = std::array<std::uint8_t, 8>;

    constexpr Eui64() = default;
    explicit constexpr Eui64(const Array& big_endian) : bytes_(big_endian) {}
    static std::optional<Eui64> from_hex(std::string_view hex);
    static constexpr Eui64 from_u64(std::uint64_t v) {
        Array a{};
        for (int i = 7; i >= 0; --i, v >>= 8) a[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
        return Eui64{a};
    }

    [[nodiscard]] const Array& bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::uint64_t to_u64() const noexcept;
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const Eui64&) const = default;

private:
    Array bytes_{};
};

/// The 32-bit device address of a session.
class DevAddr {
public:
    constexpr DevAddr() = default;
    explicit constexpr DevAddr(std::uint32_t value) : value_(value) {}
    static std::optional<DevAddr> from_hex(std::string_view hex);

    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return value_; }
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const DevAddr&) const = default;

private:
    std::uint32_t value_ = 0;
};

/// The 24-bit network identifier (LoRaWAN Backend Interfaces §13).
class NetId {
public:
    constexpr NetId() = default;
    explicit constexpr NetId(std::uint32_t value) : value_(value & 0xffffffU) {}
    static std::optional<NetId> from_hex(std::string_view hex);

    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return value_; }
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const NetId&) const = default;

private:
    std::uint32_t value_ = 0;
};

/// An AES-128 key of one role. The role is part of the type; the bytes never appear in a string conversion.
template <class Role>
class Key {
public:
    using Array = std::array<std::uint8_t, 16>;

    constexpr Key() = default;
    explicit constexpr Key(const Array& bytes) : bytes_(bytes) {}
    static std::optional<Key> from_hex(std::string_view hex);

    [[nodiscard]] const Array& bytes() const noexcept { return bytes_; }
    /// For logs: the role only, never the material.
    [[nodiscard]] static std::string_view redacted() noexcept { return Role::redacted; }

    bool operator==(const Key&) const = default;

private:
    Array bytes_{};
};

struct NwkSKeyRole {
    static constexpr std::string_view redacted = "nwk_s_key=<redacted>";
};
struct AppSKeyRole {
    static constexpr std::string_view redacted = "app_s_key=<redacted>";
};
struct AppKeyRole {
    static constexpr std::string_view redacted = "app_key=<redacted>";
};

/// Network session key: MIC of data frames, FRMPayload of FPort 0.
using NwkSKey = Key<NwkSKeyRole>;
/// Application session key: FRMPayload of FPort 1..255.
using AppSKey = Key<AppSKeyRole>;
/// Root key of an OTAA device (LoRaWAN 1.0.x): join MICs, join-accept encryption, session key derivation.
using AppKey = Key<AppKeyRole>;

/// The 4-byte message integrity code, in the order it is carried on the air.
using Mic = std::array<std::uint8_t, 4>;

/// Which way a frame travels; part of the B0 and A blocks (LoRaWAN 1.0.4 §4.3.3, §4.4).
enum class Direction : std::uint8_t { uplink = 0, downlink = 1 };

namespace detail {
std::optional<std::array<std::uint8_t, 16>> key_from_hex(std::string_view hex);
}

template <class Role>
std::optional<Key<Role>> Key<Role>::from_hex(std::string_view hex) {
    const auto bytes = detail::key_from_hex(hex);
    if (!bytes) return std::nullopt;
    return Key{*bytes};
}

}  // namespace schwebe::lorawan
