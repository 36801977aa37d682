#include "lorawan/net_id.hpp"

#include <array>

namespace schwebe::lorawan {

// LoRaWAN Backend Interfaces 1.0 §13: a DevAddr of a NetID of type t is
//
//   | prefix: t ones, one zero (t + 1 bits) | NwkID (the NetID's low n bits) | NwkAddr (the rest) |
//   31                                                                                            0
//
// so that the prefix alone tells the type, and prefix and NwkID together tell the network.

namespace {
constexpr std::array<std::uint8_t, 8> nwk_id_bits_by_type = {6, 6, 9, 10, 11, 13, 15, 17};

constexpr unsigned prefix_bits(std::uint8_t type) noexcept {
    return type + 1U;
}

/// t ones followed by a zero, as a (t + 1)-bit value: 0b0, 0b10, 0b110, …
constexpr std::uint32_t prefix_value(std::uint8_t type) noexcept {
    return ((1U << type) - 1U) << 1U;
}

constexpr std::uint32_t low_bits(std::uint32_t value, unsigned bits) noexcept {
    return value & ((std::uint32_t{1} << bits) - 1U);
}

/// Prefix and NwkID as one value: the top 32 − nwk_addr_bits bits of every DevAddr under `net_id`.
std::uint32_t dev_addr_head(NetId net_id) noexcept {
    const std::uint8_t type = net_id_type(net_id);
    const unsigned id_bits = nwk_id_bits_by_type[type];
    return (prefix_value(type) << id_bits) | low_bits(net_id.value(), id_bits);
}
}  // namespace

std::uint8_t nwk_addr_bits(NetId net_id) noexcept {
    const std::uint8_t type = net_id_type(net_id);
    return static_cast<std::uint8_t>(32U - prefix_bits(type) - nwk_id_bits_by_type[type]);
}

DevAddr dev_addr_for(NetId net_id, std::uint32_t nwk_addr) noexcept {
    const unsigned addr_bits = nwk_addr_bits(net_id);
    return DevAddr{(dev_addr_head(net_id) << addr_bits) | low_bits(nwk_addr, addr_bits)};
}

bool dev_addr_belongs_to(DevAddr dev_addr, NetId net_id) noexcept {
    return (dev_addr.value() >> nwk_addr_bits(net_id)) == dev_addr_head(net_id);
}

}  // namespace schwebe::lorawan
