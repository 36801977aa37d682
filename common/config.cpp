#include "common/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <toml++/toml.h>

extern char** environ;  // NOLINT: POSIX

namespace schwebe::common {

namespace {
using K = SettingKind;

const std::vector<SettingSpec> specs = {
    {"bridge.capture_file", K::string, "",
     "record every datagram received to this file (JSON lines, for schwebe replay); empty: no capture"},
    {"bridge.udp_bind", K::string, "0.0.0.0:1700", "Semtech UDP listen address of the gateway bridge"},
    {"bridge.gateway_policy", K::string, "accept",
     "accept: take traffic from any gateway and list unknown ones; allowlist: registered gateways only"},
    {"bridge.offline_after_s", K::integer, "30", "a gateway silent this long (no PULL_DATA/PUSH_DATA) is offline"},
    {"bridge.rate_limit_per_s", K::integer, "1000", "datagrams per second accepted from one gateway"},
    {"bridge.rate_limit_burst", K::integer, "2000", "datagrams one gateway may send at once above the rate"},
    {"bridge.max_gateways", K::integer, "10000", "gateways tracked at most (registered and unknown)"},
    {"bridge.tx_ack_timeout_ms", K::integer, "2000", "a PULL_RESP without TX_ACK after this long has failed"},
    {"bridge.store_flush_interval_s", K::integer, "10", "how often gateway activity is written to SQLite"},
    {"bridge.mqtt_topic_prefix", K::string, "eu868", "region prefix of the gateway MQTT topics"},
    {"api.bind", K::string, "127.0.0.1:8080", "HTTP API, metrics and dashboard listen address"},
    {"api.max_body_bytes", K::integer, "16777216", "a request body larger than this is refused (413)"},
    {"api.request_timeout_ms", K::integer, "30000", "reading a request, and answering it, must end within this"},
    {"api.max_connections", K::integer, "256", "HTTP connections open at once; more are answered 503"},
    {"storage.sqlite_path", K::string, "schwebe-data/schwebe.db", "the SQLite database file"},
    {"storage.retention_days", K::integer, "365",
     "uplinks, readings and gateway stats older than this are deleted; 0 keeps them for ever"},
    {"mqtt.enabled", K::boolean, "true", "publish events to an MQTT broker"},
    {"mqtt.server", K::string, "tcp://127.0.0.1:1883", "broker URL (tcp:// or ssl://)"},
    {"mqtt.client_id", K::string, "schwebe", "MQTT client id"},
    {"mqtt.username", K::string, "", "MQTT user name"},
    {"mqtt.password", K::string, "", "MQTT password", true},
    {"mqtt.qos", K::integer, "1", "QoS of published events (0 or 1)"},
    {"mqtt.ca_file", K::string, "", "CA certificate for ssl:// brokers"},
    {"mqtt.cert_file", K::string, "", "client certificate for ssl:// brokers"},
    {"mqtt.key_file", K::string, "", "client key for ssl:// brokers", true},
    {"mqtt.city_topic_prefix", K::string, "city", "first level of the city topics (parking, readings)"},
    {"mqtt.reconnect_max_s", K::integer, "30", "longest wait between reconnection attempts (starting at 1 s)"},
    {"parking.unknown_after_s", K::integer, "90000",
     "a parking sensor unheard this long makes its spot unknown (default 25 h: a missed daily heartbeat)"},
    {"codecs.js_node", K::string, "node", "the Node.js binary that runs JavaScript codecs (a path, or a name in PATH)"},
    {"codecs.js_workers", K::integer, "2", "Node.js worker processes for JavaScript codecs"},
    {"codecs.js_timeout_ms", K::integer, "100", "time limit of one JavaScript codec call"},
    {"codecs.js_memory_mb", K::integer, "128", "heap limit of a JavaScript codec worker"},
    {"codecs.js_max_output_bytes", K::integer, "1048576", "a JavaScript codec result larger than this is an error"},
    {"network_server.dedup_window_ms", K::integer, "200", "how long copies of a frame are collected"},
    {"network_server.dedup_cooldown_ms", K::integer, "1000",
     "copies arriving this long after their window closed are dropped as late"},
    {"network_server.net_id", K::string, "000000", "NetID (6 hex digits) DevAddrs are allocated from"},
    {"network_server.gateway_backend", K::string, "udp",
     "udp: the in-process bridge; mqtt: gateway events from MQTT (a standalone bridge elsewhere)"},
    {"network_server.extra_channels_mhz", K::string, "867.1,867.3,867.5,867.7,867.9",
     "channels 3..7 sent in the join-accept CFList (EU868), comma-separated MHz; empty for none"},
    {"network_server.downlink_tx_power_dbm", K::integer, "14", "transmit power of downlinks (RX1 and RX2)"},
    {"network_server.confirmed_downlink_retries", K::integer, "2",
     "a confirmed downlink is sent again this many times before ack reports acknowledged=false"},
    {"log.level", K::string, "info", "debug, info, warn or error"},
};

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    const auto* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc{} || p != end || s.empty()) return std::nullopt;
    return v;
}

std::optional<std::string> normalise(const SettingSpec& spec, std::string_view text) {
    switch (spec.kind) {
        case K::string: return std::string(text);
        case K::integer:
            if (!parse_int(text)) return std::nullopt;
            return std::string(text);
        case K::boolean:
            if (text == "true" || text == "1" || text == "yes") return std::string("true");
            if (text == "false" || text == "0" || text == "no") return std::string("false");
            return std::nullopt;
    }
    return std::nullopt;
}

std::string_view kind_name(K k) {
    switch (k) {
        case K::string: return "a string";
        case K::integer: return "an integer";
        case K::boolean: return "a boolean";
    }
    return "";
}

/// The file's value for a spec as text; nullopt when the TOML type is not the setting's.
std::optional<std::string> from_toml(const SettingSpec& spec, const toml::node& node) {
    std::optional<std::string> text;
    switch (spec.kind) {
        case K::string:
            if (const auto v = node.value<std::string>(); v && node.is_string()) text = *v;
            break;
        case K::integer:
            if (node.is_integer()) text = std::to_string(*node.value<std::int64_t>());
            break;
        case K::boolean:
            if (node.is_boolean()) text = *node.value<bool>() ? "true" : "false";
            break;
    }
    return text;
}
}  // namespace

const std::vector<SettingSpec>& setting_specs() { return specs; }

std::string env_name(std::string_view key) {
    std::string out = "SCHWEBE_";
    for (const char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::map<std::string, std::string> Config::process_environment() {
    std::map<std::string, std::string> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view kv{*e};
        if (!kv.starts_with("SCHWEBE_")) continue;
        const auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        out.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return out;
}

lorawan::Result<Config, std::string> Config::load(const std::optional<std::string>& file,
                                                  const std::map<std::string, std::string>& env) {
    Config c;
    for (const SettingSpec& s : specs) c.entries_.push_back({std::string(s.key), std::string(s.default_value), "default", &s});

    if (file) {
        toml::table table;
        try {
            table = toml::parse_file(*file);
        } catch (const toml::parse_error& e) {
            std::string where;
            if (e.source().begin.line != 0) where = " (line " + std::to_string(e.source().begin.line) + ")";
            return std::string("config file ") + *file + where + ": " + std::string(e.description());
        }
        for (const auto& [section, node] : table) {
            const auto* sub = node.as_table();
            if (sub == nullptr) return "config file " + *file + ": unknown key '" + std::string(section.str()) + "'";
            for (const auto& [name, value] : *sub) {
                const std::string key = std::string(section.str()) + "." + std::string(name.str());
                auto it = std::find_if(c.entries_.begin(), c.entries_.end(), [&](const Entry& e) { return e.key == key; });
                if (it == c.entries_.end()) return "config file " + *file + ": unknown key '" + key + "'";
                auto text = from_toml(*it->spec, value);
                if (!text) return "config file " + *file + ": " + key + " must be " + std::string(kind_name(it->spec->kind));
                it->value = std::move(*text);
                it->source = "file " + *file;
            }
        }
    }

    for (const auto& variable : env) {
        const std::string& name = variable.first;
        const std::string& value = variable.second;
        if (!name.starts_with("SCHWEBE_")) continue;
        auto it = std::find_if(c.entries_.begin(), c.entries_.end(), [&](const Entry& e) { return env_name(e.key) == name; });
        if (it == c.entries_.end()) return "environment: unknown variable " + name;
        auto text = normalise(*it->spec, value);
        if (!text) return "environment: " + name + " must be " + std::string(kind_name(it->spec->kind));
        it->value = std::move(*text);
        it->source = "env " + name;
    }
    return c;
}

const Config::Entry& Config::entry(std::string_view key) const {
    for (const Entry& e : entries_) {
        if (e.key == key) return e;
    }
    throw std::logic_error("no such setting: " + std::string(key));
}

const std::string& Config::get(std::string_view key) const { return entry(key).value; }
std::int64_t Config::get_int(std::string_view key) const { return parse_int(entry(key).value).value_or(0); }
bool Config::get_bool(std::string_view key) const { return entry(key).value == "true"; }

std::string Config::print() const {
    std::string out;
    for (const Entry& e : entries_) {
        const std::string value = e.spec->secret && !e.value.empty() ? "<redacted>" : e.value;
        out += e.key + " = " + (e.spec->kind == K::string ? nlohmann::json(value).dump() : value) + "  # " + e.source +
               "\n";
    }
    return out;
}

std::string Config::print_json() const {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const Entry& e : entries_) {
        const std::string value = e.spec->secret && !e.value.empty() ? "<redacted>" : e.value;
        out[e.key] = {{"value", value}, {"source", e.source}};
    }
    return out.dump(2);
}

std::optional<HostPort> parse_host_port(std::string_view text) {
    HostPort hp;
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        hp.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        hp.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    const auto p = parse_int(port);
    if (!p || *p < 0 || *p > 65535 || hp.host.empty()) return std::nullopt;
    hp.port = static_cast<std::uint16_t>(*p);
    return hp;
}

}  // namespace schwebe::common
