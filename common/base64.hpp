#pragma once
// Base64 (RFC 4648 §4, standard alphabet): Semtech rxpk/txpk data and ChirpStack JSON carry bytes this way.

#include <optional>
#include <string>
#include <string_view>

#include "lorawan/bytes.hpp"

namespace schwebe::common {

/// With padding.
[[nodiscard]] std::string base64_encode(lorawan::ByteView data);
/// Accepts input with or without padding; nullopt for any other character, a misplaced '=', or a length that no
/// encoding has (4n+1).
[[nodiscard]] std::optional<lorawan::Bytes> base64_decode(std::string_view text);

}  // namespace schwebe::common
