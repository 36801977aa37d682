#include "common/log.hpp"

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace schwebe::log {

namespace {
Level current_level = Level::info;
std::function<void(std::string_view)> current_sink;

constexpr std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

bool needs_quotes(std::string_view v) {
    if (v.empty()) return true;
    for (const char c : v) {
        if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
    }
    return false;
}

void append_value(std::string& line, std::string_view v) {
    if (!needs_quotes(v)) {
        line += v;
        return;
    }
    line += '"';
    for (const char c : v) {
        if (c == '"' || c == '\\') line += '\\';
        if (c == '\n') {
            line += "\\n";
            continue;
        }
        line += c;
    }
    line += '"';
}

std::string timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}
}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
    std::ostringstream s;
    s << std::setprecision(10) << v;
    value = s.str();
}

void set_level(Level l) { current_level = l; }
Level level() { return current_level; }

bool parse_level(std::string_view text, Level& out) {
    for (const Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

void set_sink(std::function<void(std::string_view)> sink) { current_sink = std::move(sink); }

void write(Level l, std::string_view msg, std::initializer_list<Field> fields) {
    if (l < current_level) return;
    std::string line = timestamp();
    line += " level=";
    line += level_name(l);
    line += " msg=";
    append_value(line, msg);
    for (const Field& f : fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_value(line, f.value);
    }
    if (current_sink) {
        current_sink(line);
        return;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

bool RateLimiter::allow(Clock::time_point now, std::uint64_t& suppressed) {
    if (now - window_start_ >= interval_) {
        window_start_ = now;
        used_ = 0;
    }
    if (used_ < burst_) {
        ++used_;
        suppressed = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace schwebe::log
