#pragma once
/// 32-bit frame counters from the 16 bits on the air (LoRaWAN 1.0.4 §4.3.1.5).

#include <cstdint>
#include <optional>

namespace schwebe::lorawan {

/// The 32-bit counter that `f_cnt_16` stands for, given the last accepted counter of the session: the upper half of
/// `last`, one epoch (2^16) further when that would fall below `last`. Equal to `last` means the same frame again.
/// With no frame accepted yet the 16 bits are the counter. nullopt when the counter would pass 2^32 - 1: the
/// session is exhausted and the device must join again.
[[nodiscard]] constexpr std::optional<std::uint32_t> reconstruct_f_cnt(std::uint16_t f_cnt_16,
                                                                       std::optional<std::uint32_t> last) noexcept {
    if (!last) return f_cnt_16;
    std::uint64_t candidate = (std::uint64_t{*last} & 0xffff0000U) | f_cnt_16;
    if (candidate < *last) candidate += 0x10000U;
    if (candidate > 0xffffffffU) return std::nullopt;
    return static_cast<std::uint32_t>(candidate);
}

/// How a device profile treats counters.
enum class FCntMode : std::uint8_t {
    strict,   ///< 32-bit counters only ever increase: a reset device is refused until it rejoins (the default)
    relaxed,  ///< ABP devices that restart from 0 after a power cycle: a frame whose MIC only verifies under the
              ///< 16-bit value as it stands is taken as a counter reset
};

}  // namespace schwebe::lorawan
