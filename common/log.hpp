#pragma once
// Structured logs: one line per decision, `time level=… msg=… key=value …` on stderr. Keys never carry key
// material (the types in lorawan/types.hpp have no string form for keys). Input from the network is logged through
// a RateLimiter so that a flood of bad datagrams cannot flood the log.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace schwebe::log {

enum class Level : std::uint8_t { debug, info, warn, error };

struct Field {
    std::string_view key;
    std::string value;

    Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v) {}
    template <std::integral T>
    Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
    Field(std::string_view k, double v);
    Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
};

void set_level(Level level);
[[nodiscard]] Level level();
/// Parses "debug", "info", "warn", "error".
[[nodiscard]] bool parse_level(std::string_view text, Level& out);
/// Replaces the output (default: stderr); tests capture lines with it.
void set_sink(std::function<void(std::string_view line)> sink);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields);
inline void debug(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::debug, msg, fields); }
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::info, msg, fields); }
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::warn, msg, fields); }
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::error, msg, fields); }

/// Lets `burst` lines through per `interval`, then counts what it holds back; the next line let through reports
/// how many were suppressed. Time is a parameter.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    RateLimiter(std::uint32_t burst, Clock::duration interval) : burst_(burst), interval_(interval) {}

    /// True when a line may be written now; `suppressed` is then the number held back since the last one.
    bool allow(Clock::time_point now, std::uint64_t& suppressed);

private:
    std::uint32_t burst_;
    Clock::duration interval_;
    Clock::time_point window_start_{};
    std::uint32_t used_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace schwebe::log
