#pragma once
// RFC 4122 version 4 (random) UUIDs: ChirpStack-style ids of applications, profiles and deduplicated uplinks.

#include <random>
#include <string>

namespace schwebe::common {

/// A lower-case version-4 UUID drawn from `rng`.
[[nodiscard]] std::string uuid_v4(std::mt19937_64& rng);

}  // namespace schwebe::common
