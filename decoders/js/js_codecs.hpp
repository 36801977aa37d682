#pragma once
// JavaScript payload codecs (README, "JavaScript codecs"): a device profile names a codec file by its path
// (ending in ".js"); the file is read once, compiled in every worker of the pool (js_pool.hpp), and read again on
// reload() (SIGHUP). The codec's answers become what the native codecs give:
//
//   decodeUplink → `object` (its `data`), warnings, errors (any error: not decoded, with the errors as reason);
//   readings     ← normalizeUplink's measurements (The Things Network's normalized payload: air.temperature,
//                  air.relativeHumidity, air.pressure, air.co2, air.lightIntensity, wind.*, soil.*), and the
//                  Schwebe extension `readings: [{quantity, value, unit, time?}]` beside `data`, which other
//                  servers ignore;
//   encodeDownlink / Encoder / Encode → downlink bytes and FPort.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoders/codec.hpp"
#include "decoders/js/js_pool.hpp"

namespace schwebe::decoders::js {

/// A codec file's path as profiles name it.
[[nodiscard]] inline bool is_js_codec(std::string_view codec) { return codec.size() > 3 && codec.ends_with(".js"); }

class JsCodecs final : public ScriptCodecs {
public:
    explicit JsCodecs(PoolOptions options) : pool_(std::move(options)) {}

    [[nodiscard]] bool handles(std::string_view codec) const override { return is_js_codec(codec); }

    /// Reads and compiles a codec file; the reason when it cannot be read or does not compile (its uplinks then
    /// get that reason as their decode error until a reload succeeds).
    std::optional<std::string> load_file(const std::string& path);
    /// Reads every loaded file again and recompiles it; returns the failures as (path, reason).
    std::vector<std::pair<std::string, std::string>> reload();
    [[nodiscard]] std::vector<std::string> files() const;

    [[nodiscard]] std::vector<DecodeResult> decode_uplinks(std::span<const Uplink> uplinks) override;
    [[nodiscard]] EncodeResult encode_downlink(std::string_view codec, std::optional<std::uint8_t> f_port,
                                               const nlohmann::json& data) override;
    /// TS013 decodeDownlink: what a downlink's bytes mean (the onboarding check of `schwebe codec run`).
    [[nodiscard]] DecodeResult decode_downlink(std::string_view codec, std::uint8_t f_port,
                                               std::span<const std::uint8_t> bytes);

    [[nodiscard]] Pool& pool() noexcept { return pool_; }

private:
    /// Loads a file met for the first time (a profile added while running), or one that failed to load 10 s or
    /// more ago; false (with the reason) when it is not loaded.
    bool ensure_loaded(std::string_view codec, std::string& reason);
    /// Whether the codec rests after hard failures (FileState); the reason when it does.
    bool resting(std::string_view codec, std::string& reason);
    void note_outcome(std::string_view codec, const Reply& reply);

    struct FileState {
        std::optional<std::string> failure;
        std::chrono::steady_clock::time_point loaded_at;
        /// Calls in a row that overran the time limit or ended their worker; at 3 the codec rests for a minute
        /// (its uplinks fail at once with the reason), so that one bad codec cannot keep the network server's
        /// thread waiting on every uplink. After the rest one call is tried again.
        unsigned hard_failures = 0;
        std::chrono::steady_clock::time_point resting_until{};
        std::string rest_reason;
    };
    Pool pool_;
    std::map<std::string, FileState, std::less<>> files_;
};

/// A decodeUplink answer (the codec function's return value, as the worker sends it) as a decode result.
[[nodiscard]] DecodeResult decode_result_of(const Reply& reply);
/// An encodeDownlink answer as an encode result.
[[nodiscard]] EncodeResult encode_result_of(const Reply& reply);
/// The readings of normalizeUplink's `data` (one measurement or an array of them); problems go to `warnings`.
[[nodiscard]] std::vector<Reading> readings_of_normalized(const nlohmann::json& data, std::vector<std::string>& warnings);

}  // namespace schwebe::decoders::js
