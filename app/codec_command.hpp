#pragma once
// `schwebe codec run` and `schwebe codec list`: run a payload codec on bytes, the check a city's team does when it
// onboards a device type (DESIGN.md, Command line).

#include <optional>
#include <string>

#include "common/config.hpp"

namespace schwebe::app {

struct CodecRunArgs {
    std::string codec;  ///< a native codec's name, or a JavaScript codec file (.js)
    int f_port = 0;
    std::optional<std::string> hex;     ///< uplink (or with `downlink`, downlink) bytes
    std::optional<std::string> encode;  ///< a JSON object for encodeDownlink
    bool downlink = false;              ///< decode `hex` with decodeDownlink
    bool pretty = false;
};

/// Prints the TS013 result as JSON: `{data, warnings, errors, readings}` for a decode, `{bytes, hex, fPort,
/// warnings, errors}` for an encode. Exit 0 decoded or encoded, 1 the codec reported errors, 2 invalid input.
int codec_run(const common::Config& config, const CodecRunArgs& args);
int codec_list(bool json);

}  // namespace schwebe::app
