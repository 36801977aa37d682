#pragma once
/// DevAddr allocation under a NetID (LoRaWAN Backend Interfaces 1.0 §13): the NetID's type fixes a prefix of the
/// DevAddr, followed by the NwkID (the NetID's low bits) and the NwkAddr the network chooses.
///
///   type | DevAddr prefix | NwkID bits | NwkAddr bits
///   0    | 0              | 6          | 25
///   1    | 10             | 6          | 24
///   2    | 110            | 9          | 20
///   3    | 1110           | 10         | 18
///   4    | 11110          | 11         | 16
///   5    | 111110         | 13         | 13
///   6    | 1111110        | 15         | 10
///   7    | 11111110       | 17         | 7

#include <cstdint>

#include "lorawan/types.hpp"

namespace schwebe::lorawan {

/// The NetID type: its top 3 bits.
[[nodiscard]] constexpr std::uint8_t net_id_type(NetId net_id) noexcept {
    return static_cast<std::uint8_t>(net_id.value() >> 21);
}
/// How many NwkAddr bits a DevAddr under `net_id` has (25 for type 0 … 7 for type 7).
[[nodiscard]] std::uint8_t nwk_addr_bits(NetId net_id) noexcept;
/// The DevAddr with the prefix and NwkID of `net_id` and the low nwk_addr_bits(net_id) bits of `nwk_addr`.
[[nodiscard]] DevAddr dev_addr_for(NetId net_id, std::uint32_t nwk_addr) noexcept;
/// True when `dev_addr` carries the prefix and NwkID of `net_id`.
[[nodiscard]] bool dev_addr_belongs_to(DevAddr dev_addr, NetId net_id) noexcept;

}  // namespace schwebe::lorawan
