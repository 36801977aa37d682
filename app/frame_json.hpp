#pragma once
// JSON vocabulary of `schwebe frame decode|encode`: the field names of the shared frame vectors (snake_case, hex
// lower-case, EUIs/keys/DevAddr big-endian as displayed). Third-party throws (nlohmann) stop at this edge.

#include <nlohmann/json.hpp>

namespace schwebe::app {

using Json = nlohmann::ordered_json;

/// Decodes the frame described by `input` ({"phy_payload": hex, keys and counters as needed}). Returns the
/// decoded object; it holds "error" (a reject reason or "invalid_input") when the input is not a valid frame, its
/// MIC does not verify, or the input itself is wrong.
[[nodiscard]] Json decode_frame(const Json& input);

/// Builds a frame from the same vocabulary; returns {"phy_payload": hex, …} or {"error": …}.
[[nodiscard]] Json encode_frame(const Json& input);

/// Process exit code for a result of decode_frame/encode_frame: 0 success, 1 frame refused, 2 invalid input.
[[nodiscard]] int exit_code_of(const Json& result);

}  // namespace schwebe::app
