#include "common/metrics.hpp"

#include <sstream>

namespace schwebe::common {

namespace {
std::string escape_label(const std::string& v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void write_labels(std::ostringstream& out, const Labels& labels) {
    if (labels.empty()) return;
    out << '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i != 0) out << ',';
        out << labels[i].first << "=\"" << escape_label(labels[i].second) << '"';
    }
    out << '}';
}
}  // namespace

Counter& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
    Family& f = families_[name];
    if (f.help.empty()) f.help = help;
    auto it = f.counters.find(labels);
    if (it != f.counters.end()) return *it->second;
    Counter& c = storage_.emplace_back();
    f.counters.emplace(labels, &c);
    return c;
}

void Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels,
                    std::function<double()> read) {
    Family& f = families_[name];
    f.help = help;
    f.is_gauge = true;
    f.gauges[labels] = std::move(read);
}

std::uint64_t Metrics::value(const std::string& name, const Labels& labels) const {
    const auto f = families_.find(name);
    if (f == families_.end()) return 0;
    const auto c = f->second.counters.find(labels);
    return c == f->second.counters.end() ? 0 : c->second->value();
}

std::string Metrics::render() const {
    std::ostringstream out;
    for (const auto& [name, f] : families_) {
        out << "# HELP " << name << ' ' << f.help << '\n';
        out << "# TYPE " << name << (f.is_gauge ? " gauge" : " counter") << '\n';
        for (const auto& [labels, c] : f.counters) {
            out << name;
            write_labels(out, labels);
            out << ' ' << c->value() << '\n';
        }
        for (const auto& [labels, read] : f.gauges) {
            out << name;
            write_labels(out, labels);
            out << ' ' << read() << '\n';
        }
    }
    return out.str();
}

}  // namespace schwebe::common
