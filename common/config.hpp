#pragma once
// Configuration: one table of settings with defaults (DESIGN.md, Command line), a TOML file over them, and
// environment variables `SCHWEBE_SECTION_KEY` over both. Every effective value knows where it came from, for
// `schwebe config print`. An unknown key in the file or an unknown SCHWEBE_ variable is an error that names it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lorawan/result.hpp"

namespace schwebe::common {

enum class SettingKind : std::uint8_t { string, integer, boolean };

struct SettingSpec {
    std::string_view key;  ///< "section.name"
    SettingKind kind;
    std::string_view default_value;
    std::string_view help;
    bool secret = false;  ///< printed as <redacted>
};

/// Every setting Schwebe knows.
[[nodiscard]] const std::vector<SettingSpec>& setting_specs();

class Config {
public:
    struct Entry {
        std::string key;
        std::string value;   ///< string form; booleans "true"/"false"
        std::string source;  ///< "default", "file /path", "env SCHWEBE_…"
        const SettingSpec* spec = nullptr;
    };

    /// Defaults, then `file` (if given; it must exist), then the SCHWEBE_* entries of `env`.
    [[nodiscard]] static lorawan::Result<Config, std::string> load(const std::optional<std::string>& file,
                                                                   const std::map<std::string, std::string>& env);
    /// The process environment's SCHWEBE_* variables.
    [[nodiscard]] static std::map<std::string, std::string> process_environment();

    [[nodiscard]] const std::string& get(std::string_view key) const;
    [[nodiscard]] std::int64_t get_int(std::string_view key) const;
    [[nodiscard]] bool get_bool(std::string_view key) const;
    [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }

    /// `key = value  # source` lines, secrets redacted.
    [[nodiscard]] std::string print() const;
    /// A JSON object {key: {"value", "source"}}, secrets redacted.
    [[nodiscard]] std::string print_json() const;

private:
    const Entry& entry(std::string_view key) const;
    std::vector<Entry> entries_;
};

/// "SCHWEBE_" + the key upper-cased with '.' as '_': bridge.udp_bind → SCHWEBE_BRIDGE_UDP_BIND.
[[nodiscard]] std::string env_name(std::string_view key);

/// "host:port" with an IPv4 address, or "[v6]:port".
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
[[nodiscard]] std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace schwebe::common
