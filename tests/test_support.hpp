#pragma once
// Helpers shared by the tests: hex literals and the vector files.

#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "lorawan/bytes.hpp"

namespace schwebe::test {

/// Hex to bytes; a malformed literal in a test is a test bug and fails loudly.
inline lorawan::Bytes hex(std::string_view h) {
    auto b = lorawan::from_hex(h);
    REQUIRE(b.has_value());
    return *b;
}

inline nlohmann::json load_vectors(const std::string& name) {
    std::ifstream in(std::string(SCHWEBE_VECTORS_DIR) + "/" + name);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

}  // namespace schwebe::test
