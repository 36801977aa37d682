#pragma once
// Counters and gauges, rendered in the Prometheus text format (version 0.0.4) for `/metrics`. A counter is looked
// up once and then incremented through a stable reference, so the hot path pays one relaxed atomic add.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace schwebe::common {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Metrics {
public:
    /// The counter `name{labels}`, created at zero on first use. The reference stays valid for the registry's life.
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    /// A gauge read when rendering.
    void gauge(const std::string& name, const std::string& help, const Labels& labels, std::function<double()> read);

    /// Current value of a counter (0 when it does not exist): for tests and summaries.
    [[nodiscard]] std::uint64_t value(const std::string& name, const Labels& labels = {}) const;
    /// Prometheus text exposition format.
    [[nodiscard]] std::string render() const;

private:
    struct Family {
        std::string help;
        bool is_gauge = false;
        std::map<Labels, Counter*> counters;
        std::map<Labels, std::function<double()>> gauges;
    };
    std::map<std::string, Family> families_;
    std::deque<Counter> storage_;  // deque: references stay valid as it grows
};

}  // namespace schwebe::common
