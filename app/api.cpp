#include "app/api.hpp"

#include <boost/asio/post.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "app/device_csv.hpp"
#include "app/registry_json.hpp"
#include "common/base64.hpp"
#include "common/log.hpp"
#include "dashboards/web_assets.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "integrations/sqlite/query_store.hpp"
#include "integrations/sqlite/token_store.hpp"

namespace schwebe::app {

namespace asio = boost::asio;
using dashboards::Answer;
using dashboards::error_response;
using dashboards::Request;
using dashboards::Respond;
using dashboards::Response;
using Json = nlohmann::ordered_json;

namespace {

Response json_response(unsigned status, const Json& body) {
    Response r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    return r;
}

/// A refusal that names the field at fault: thrown inside a handler, answered as 400 (or its status).
struct Refusal {
    unsigned status;
    std::string message;
    std::string field;
};

[[noreturn]] void refuse(const std::string& field, const std::string& message, unsigned status = 400) {
    throw Refusal{status, field.empty() ? message : field + ": " + message, field};
}

/// A registry error starts with the field's name ("join_eui: required for …").
[[noreturn]] void refuse_registry(const std::string& error, unsigned status = 400) {
    const auto colon = error.find(':');
    const std::string field = colon == std::string::npos ? std::string() : error.substr(0, colon);
    throw Refusal{status, error, field.find(' ') == std::string::npos ? field : std::string()};
}

Json parse_body(const Request& request) {
    if (request.body.empty()) refuse("body", "expected a JSON object, got an empty body");
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) refuse("body", "not JSON");
    if (!body.is_object()) refuse("body", "expected a JSON object");
    return body;
}

/// The fields of a body, each taken once; what is left over is refused by name (a typo never passes unnoticed).
class Fields {
public:
    explicit Fields(const Json& body) : body_(body) {}

    [[nodiscard]] bool has(const std::string& name) const { return body_.contains(name) && !body_[name].is_null(); }

    std::optional<std::string> text(const std::string& name, bool required = false) {
        taken_.insert(name);
        if (!has(name)) {
            if (required) refuse_missing(name);
            return std::nullopt;
        }
        if (!body_[name].is_string()) refuse(name, "expected a string");
        return body_[name].get<std::string>();
    }
    std::optional<double> number(const std::string& name) {
        taken_.insert(name);
        if (!has(name)) return std::nullopt;
        if (!body_[name].is_number()) refuse(name, "expected a number");
        return body_[name].get<double>();
    }
    std::optional<long long> integer(const std::string& name, long long min, long long max) {
        taken_.insert(name);
        if (!has(name)) return std::nullopt;
        if (!body_[name].is_number_integer()) refuse(name, "expected an integer");
        const auto v = body_[name].get<long long>();
        if (v < min || v > max) refuse(name, "out of range " + std::to_string(min) + ".." + std::to_string(max));
        return v;
    }
    std::optional<bool> boolean(const std::string& name) {
        taken_.insert(name);
        if (!has(name)) return std::nullopt;
        if (!body_[name].is_boolean()) refuse(name, "expected true or false");
        return body_[name].get<bool>();
    }
    const Json* object(const std::string& name) {
        taken_.insert(name);
        if (!has(name)) return nullptr;
        if (!body_[name].is_object()) refuse(name, "expected an object");
        return &body_[name];
    }
    void ignore(const std::string& name) { taken_.insert(name); }
    void done() const {
        for (const auto& [name, value] : body_.items()) {
            if (!taken_.contains(name)) refuse(name, "unknown field");
        }
    }

private:
    /// A missing required field is often a misspelt one: the misspelling is named, since it is what to fix.
    [[noreturn]] void refuse_missing(const std::string& name) const {
        for (const auto& [key, value] : body_.items()) {
            if (!taken_.contains(key) && key != name && edit_distance(key, name) <= 2) {
                refuse(key, "unknown field (did you mean '" + name + "'?)");
            }
        }
        refuse(name, "required");
    }
    static std::size_t edit_distance(const std::string& a, const std::string& b) {
        std::vector<std::size_t> row(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i) {
            std::size_t diagonal = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j) {
                const std::size_t above = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
                diagonal = above;
            }
        }
        return row[b.size()];
    }

    const Json& body_;
    std::set<std::string> taken_;
};

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t pos = 1;
    while (pos <= path.size()) {
        const auto slash = path.find('/', pos);
        const auto end = slash == std::string::npos ? path.size() : slash;
        if (end > pos) parts.push_back(path.substr(pos, end - pos));
        pos = end + 1;
    }
    return parts;
}

lorawan::Eui64 eui_in_path(const std::string& text, const std::string& field) {
    const auto eui = lorawan::Eui64::from_hex(text);
    if (!eui || text.size() != 16) refuse(field, "expected 16 hex digits, got '" + text + "'");
    return *eui;
}

std::optional<common::Location> location_of(Fields& fields) {
    const Json* location = fields.object("location");
    if (!location) return std::nullopt;
    Fields inner(*location);
    common::Location l;
    const auto lat = inner.number("latitude");
    const auto lon = inner.number("longitude");
    if (!lat) refuse("location.latitude", "required");
    if (!lon) refuse("location.longitude", "required");
    if (*lat < -90 || *lat > 90) refuse("location.latitude", "expected -90..90");
    if (*lon < -180 || *lon > 180) refuse("location.longitude", "expected -180..180");
    l.latitude = *lat;
    l.longitude = *lon;
    l.altitude = inner.number("altitude").value_or(0);
    try {
        inner.done();
    } catch (const Refusal& r) {
        refuse("location." + r.field, "unknown field");
    }
    return l;
}

std::map<std::string, std::string> tags_of(Fields& fields) {
    std::map<std::string, std::string> tags;
    const Json* object = fields.object("tags");
    if (!object) return tags;
    for (const auto& [key, value] : object->items()) {
        if (key.empty()) refuse("tags", "a tag needs a name");
        if (!value.is_string()) refuse("tags." + key, "expected a string");
        tags[key] = value.get<std::string>();
    }
    return tags;
}

Json location_json(const std::optional<common::Location>& l) {
    if (!l) return nullptr;
    return Json{{"latitude", l->latitude}, {"longitude", l->longitude}, {"altitude", l->altitude}};
}

Json optional_json(const std::optional<std::string>& s) {
    return s ? Json(*s) : Json(nullptr);
}
template <class T>
Json optional_number(const std::optional<T>& v) {
    return v ? Json(*v) : Json(nullptr);
}

std::optional<double> best(const Json& rx_info, const char* field) {
    std::optional<double> out;
    if (!rx_info.is_array()) return out;
    for (const auto& rx : rx_info) {
        if (rx.is_object() && rx.contains(field) && rx[field].is_number()) {
            const double v = rx[field].get<double>();
            if (!out || v > *out) out = v;
        }
    }
    return out;
}

bool truthy(const std::map<std::string, std::string>& query, const std::string& name) {
    const auto it = query.find(name);
    return it != query.end() && (it->second == "true" || it->second == "1" || it->second.empty());
}

/// An RFC 3339 query parameter, checked for shape ("2026-12-06T10:00:00Z", fractions and offsets allowed), turned
/// into the stored form's UTC text so that it compares as the rows do.
std::optional<std::string> time_param(const std::map<std::string, std::string>& query, const std::string& name) {
    const auto it = query.find(name);
    if (it == query.end() || it->second.empty()) return std::nullopt;
    std::tm tm{};
    const std::string& text = it->second;
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
        refuse(name, "expected an RFC 3339 time such as 2026-12-06T10:00:00Z");
    }
    std::size_t pos = static_cast<std::size_t>(consumed);
    int millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
            if (digits < 3) millis = millis * 10 + (text[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) refuse(name, "expected digits after the decimal point");
        for (int d = digits; d < 3; ++d) millis *= 10;
    }
    long offset_s = 0;
    const std::string zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
        offset_s = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        const int h = std::atoi(zone.substr(1, 2).c_str());
        const int m = std::atoi(zone.substr(4, 2).c_str());
        offset_s = (zone[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    } else {
        refuse(name, "expected Z or ±hh:mm after the time");
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t t = timegm(&tm);
    if (t == -1 || tm.tm_mon < 0) refuse(name, "not a valid time");
    const auto point = std::chrono::system_clock::from_time_t(t - offset_s) + std::chrono::milliseconds{millis};
    return sqlite::format_timestamp(point);
}

long long int_param(const std::map<std::string, std::string>& query, const std::string& name, long long fallback,
                    long long min, long long max) {
    const auto it = query.find(name);
    if (it == query.end() || it->second.empty()) return fallback;
    char* end = nullptr;
    const long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (end != it->second.c_str() + it->second.size()) refuse(name, "expected an integer");
    if (v < min || v > max) refuse(name, "out of range " + std::to_string(min) + ".." + std::to_string(max));
    return v;
}

std::string param(const std::map<std::string, std::string>& query, const std::string& name) {
    const auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
}

}  // namespace

struct Api::Impl {
    asio::io_context& io;
    sqlite::Database& db;
    ApiOptions options;
    ApiHooks hooks;
    Counters& counters;
    sqlite::SqliteDeviceRegistry registry{db};
    sqlite::SqliteGatewayStore gateways{db};
    sqlite::SqliteNsStore ns_store{db};
    sqlite::SqliteQueryStore queries{db};
    sqlite::SqliteTokenStore tokens{db};
    std::vector<std::weak_ptr<dashboards::EventStream>> streams;
    asio::steady_timer stream_timer{io};
    std::int64_t last_streamed_id = -1;
    bool stopped = false;

    Impl(asio::io_context& io_, sqlite::Database& db_, ApiOptions o, ApiHooks h, Counters& c)
        : io(io_), db(db_), options(o), hooks(std::move(h)), counters(c) {}

    // ---- authentication ----

    void require_token(const Request& request) {
        const std::string& header = request.authorization;
        if (header.empty()) {
            refuse("", "this request needs a token: Authorization: Bearer <token> (schwebe token create)", 401);
        }
        if (!header.starts_with("Bearer ") || header.size() <= 7) {
            refuse("", "Authorization: expected 'Bearer <token>'", 401);
        }
        if (!tokens.verify(header.substr(7))) refuse("", "unknown or revoked token", 403);
    }

    // ---- names ----

    std::optional<ns::DeviceProfile> profile_by(const std::string& name_or_id) {
        if (auto p = registry.find_device_profile_by_name(name_or_id)) return p;
        return registry.find_device_profile_by_id(name_or_id);
    }
    std::optional<ns::Application> application_by(const std::string& name_or_id) {
        if (auto a = registry.find_application_by_name(name_or_id)) return a;
        return registry.find_application_by_id(name_or_id);
    }

    Json application_json(const ns::Application& a) {
        return Json{{"id", a.id}, {"name", a.name}, {"description", a.description}};
    }

    // ---- applications ----

    Response create_application(const Request& request) {
        const Json body = parse_body(request);
        Fields f(body);
        const auto name = f.text("name", true);
        const auto description = f.text("description").value_or("");
        f.done();
        auto created = registry.create_application(*name, description);
        if (!created) refuse_registry(created.error(), created.error().find(" exists") != std::string::npos ? 409 : 400);
        return json_response(201, application_json(*created));
    }

    // ---- device profiles ----

    Response create_profile(const Request& request) {
        const Json body = parse_body(request);
        Fields f(body);
        ns::DeviceProfile p;
        p.name = *f.text("name", true);
        const auto activation = ns::activation_from_string(f.text("activation", true).value());
        if (!activation) refuse("activation", "expected otaa or abp");
        p.activation = *activation;
        const auto mac_version = ns::mac_version_from_string(f.text("mac_version").value_or("1.0.3"));
        if (!mac_version) refuse("mac_version", "expected 1.0.2, 1.0.3 or 1.0.4");
        p.mac_version = *mac_version;
        if (const auto mode = f.text("f_cnt_mode")) {
            const auto m = ns::f_cnt_mode_from_string(*mode);
            if (!m) refuse("f_cnt_mode", "expected strict or relaxed");
            p.f_cnt_mode = *m;
        }
        if (const auto region = f.text("region"); region && *region != "EU868") refuse("region", "expected EU868");
        if (const auto codec = f.text("codec"); codec && !codec->empty()) {
            std::string error;
            if (!resolve_codec(*codec, p.codec, error)) refuse("codec", error);
        }
        p.adr_enabled = f.boolean("adr_enabled").value_or(true);
        p.adr_margin_db = f.number("adr_margin_db").value_or(p.adr_margin_db);
        p.rx1_delay_s = static_cast<std::uint8_t>(f.integer("rx1_delay_s", 0, 255).value_or(p.rx1_delay_s));
        p.rx1_dr_offset = static_cast<std::uint8_t>(f.integer("rx1_dr_offset", 0, 255).value_or(p.rx1_dr_offset));
        p.rx2_dr = static_cast<std::uint8_t>(f.integer("rx2_dr", 0, 255).value_or(p.rx2_dr));
        p.rx2_frequency_hz =
            static_cast<std::uint32_t>(f.integer("rx2_frequency_hz", 0, 0xffffffffLL).value_or(p.rx2_frequency_hz));
        p.dev_status_interval = std::chrono::seconds{
            f.integer("dev_status_interval_s", 0, 365LL * 24 * 3600).value_or(p.dev_status_interval.count())};
        f.ignore("id");
        f.done();
        auto created = registry.create_device_profile(p);
        if (!created) refuse_registry(created.error(), created.error().find(" exists") != std::string::npos ? 409 : 400);
        if (hooks.profiles_changed) hooks.profiles_changed();
        return json_response(201, profile_json(*created));
    }

    // ---- devices ----

    /// A device from a JSON body; on update, `previous` supplies the keys the body leaves out (keys are
    /// write-only, so a client that read the device cannot send them back).
    ns::Device device_of(const Json& body, const std::optional<lorawan::Eui64>& path_eui,
                         const std::optional<ns::Device>& previous) {
        Fields f(body);
        ns::Device d;
        if (path_eui) {
            d.dev_eui = *path_eui;
            if (const auto eui = f.text("dev_eui"); eui && lorawan::Eui64::from_hex(*eui) != path_eui) {
                refuse("dev_eui", "differs from the device in the path");
            }
        } else {
            const auto eui_text = f.text("dev_eui", true);
            d.dev_eui = eui_in_path(*eui_text, "dev_eui");
        }
        d.name = f.text("name", !previous).value_or(previous ? previous->name : std::string());
        const auto profile_name = f.text("profile", !previous);
        std::optional<ns::DeviceProfile> profile;
        if (profile_name) {
            profile = profile_by(*profile_name);
            if (!profile) refuse("profile", "no device profile '" + *profile_name + "'");
            d.device_profile_id = profile->id;
        } else {
            d.device_profile_id = previous->device_profile_id;
        }
        // The application as a GET shows it ({"id", "name"}) or by name or id.
        std::optional<std::string> application_name;
        if (f.has("application") && body.at("application").is_object()) {
            const Json* shown = f.object("application");
            const auto id = shown->find("id");
            if (id == shown->end() || !id->is_string()) refuse("application", "expected a name or {\"id\": ...}");
            application_name = id->get<std::string>();
        } else {
            application_name = f.text("application");
        }
        if (application_name) {
            auto application = application_by(*application_name);
            if (!application) {
                auto created = registry.create_application(*application_name);
                if (!created) refuse_registry("application: " + created.error());
                application = *created;
            }
            d.application_id = application->id;
        } else if (previous) {
            d.application_id = previous->application_id;
        } else {
            auto application = application_by("default");
            if (!application) {
                auto created = registry.create_application("default");
                if (!created) refuse_registry("application: " + created.error());
                application = *created;
            }
            d.application_id = application->id;
        }
        const auto parse = [&]<class T>(const std::string& name, std::optional<T>& out, std::optional<T> keep) {
            const auto text = f.text(name);
            if (!text) {
                out = keep;
                return;
            }
            if (text->empty()) {
                out.reset();
                return;
            }
            // A key as a GET shows it: unchanged.
            if (*text == "set" || *text == "not set") {
                out = keep;
                return;
            }
            out = T::from_hex(*text);
            if (!out) refuse(name, "expected hex digits of the right length");  // never echo a key
        };
        parse("join_eui", d.join_eui, previous ? previous->join_eui : std::nullopt);
        parse("dev_addr", d.dev_addr, previous ? previous->dev_addr : std::nullopt);
        parse("app_key", d.app_key, previous ? previous->app_key : std::nullopt);
        parse("nwk_s_key", d.nwk_s_key, previous ? previous->nwk_s_key : std::nullopt);
        parse("app_s_key", d.app_s_key, previous ? previous->app_s_key : std::nullopt);
        if (f.has("tags")) {
            d.tags = tags_of(f);
        } else {
            f.ignore("tags");
            if (previous) d.tags = previous->tags;
        }
        const auto zone = f.text("zone");
        const auto spot = f.text("spot");
        if (zone) d.tags["zone"] = *zone;
        if (spot) d.tags["spot"] = *spot;
        if (f.has("location")) {
            d.location = location_of(f);
        } else {
            f.ignore("location");
            if (previous) d.location = previous->location;
        }
        // What a GET returns, sent back unchanged, is accepted.
        for (const char* read_only : {"activation", "device_profile", "keys"}) f.ignore(read_only);
        f.done();
        return d;
    }

    // ---- gateways ----

    Json gateway_json(const bridge::GatewayRecord& g) {
        const auto now = std::chrono::system_clock::now();
        const bool online = g.last_seen && now - *g.last_seen < options.gateway_offline_after;
        Json stats = nullptr;
        if (g.last_stats) {
            stats = Json{{"rx_received", g.last_stats->rx_received}, {"rx_ok", g.last_stats->rx_ok},
                         {"rx_forwarded", g.last_stats->rx_forwarded}, {"tx_received", g.last_stats->tx_received},
                         {"tx_emitted", g.last_stats->tx_emitted}};
        }
        return Json{{"gateway_id", g.gateway_id.to_string()},
                    {"name", g.name},
                    {"online", online},
                    {"registered", g.registered},
                    {"first_seen", g.first_seen ? Json(sqlite::format_timestamp(*g.first_seen)) : Json(nullptr)},
                    {"last_seen", g.last_seen ? Json(sqlite::format_timestamp(*g.last_seen)) : Json(nullptr)},
                    {"frames_received", g.frames_received},
                    {"location", location_json(g.location)},
                    {"tags", g.tags},
                    {"last_stats", stats}};
    }

    // ---- uplinks and the stream ----

    std::map<std::string, std::string> device_names() {
        std::map<std::string, std::string> names;
        for (const auto& d : registry.list_devices()) names[d.dev_eui.to_string()] = d.name;
        return names;
    }

    Json uplink_json(const sqlite::UplinkSummary& u) {
        const Json event = Json::parse(u.event_json, nullptr, false);
        const Json rx = event.is_object() && event.contains("rxInfo") ? event["rxInfo"] : Json::array();
        return Json{{"id", u.id},
                    {"time", u.time},
                    {"dev_eui", u.dev_eui},
                    {"device_name", u.device_name},
                    {"dev_addr", u.dev_addr},
                    {"f_cnt", u.f_cnt},
                    {"f_port", optional_number(u.f_port)},
                    {"dr", u.dr},
                    {"frequency", u.frequency},
                    {"rssi", optional_number(best(rx, "rssi"))},
                    {"snr", optional_number(best(rx, "snr"))},
                    {"gateways", rx.is_array() ? rx.size() : 0},
                    {"object", event.is_object() && event.contains("object") ? event["object"] : Json(nullptr)}};
    }

    void poll_streams() {
        std::erase_if(streams, [](const auto& w) {
            const auto s = w.lock();
            return !s || !s->open();
        });
        if (streams.empty() || stopped) return;
        try {
            const auto fresh = queries.uplinks(200, last_streamed_id);
            if (!fresh.empty()) {
                // Oldest first, as they happened.
                for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {
                    const std::string data = uplink_json(*it).dump(-1, ' ', false, Json::error_handler_t::replace);
                    for (const auto& w : streams) {
                        if (auto s = w.lock()) s->send(data);
                    }
                    counters.stream_events.fetch_add(1, std::memory_order_relaxed);
                    last_streamed_id = std::max(last_streamed_id, it->id);
                }
            }
        } catch (const std::exception& e) {
            log::warn("live stream: uplinks not read", {{"error", e.what()}});
        }
        stream_timer.expires_after(options.stream_poll);
        stream_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) poll_streams();
        });
    }

    void open_stream(Respond respond) {
        std::erase_if(streams, [](const auto& w) { return w.expired(); });
        if (streams.size() >= options.max_stream_clients) {
            refuse("", "too many live streams open (" + std::to_string(options.max_stream_clients) + ")", 503);
        }
        if (last_streamed_id < 0) {
            const auto latest = queries.uplinks(1);
            last_streamed_id = latest.empty() ? 0 : latest.front().id;
        }
        Answer answer;
        answer.stream = [this](std::shared_ptr<dashboards::EventStream> stream) {
            const bool first = streams.empty();
            streams.push_back(stream);
            if (first) {
                stream_timer.expires_after(options.stream_poll);
                stream_timer.async_wait([this](const boost::system::error_code& ec) {
                    if (!ec) poll_streams();
                });
            }
        };
        respond(std::move(answer));
    }

    // ---- the router ----

    void route(const Request& request, Respond& respond) {
        const auto parts = split_path(request.path);
        const std::string& m = request.method;
        const bool get = m == "GET" || m == "HEAD";
        const auto reply = [&](Response r) { respond(Answer{std::move(r), {}}); };
        const auto not_allowed = [&](const char* allowed) {
            Response r = error_response(405, "method " + m + " not allowed here; allowed: " + allowed);
            r.headers.emplace_back("Allow", allowed);
            reply(std::move(r));
        };

        if (parts.empty() || (parts.size() == 1 && parts[0] != "api" && parts[0] != "metrics")) {
            if (!get) return not_allowed("GET, HEAD");
            const std::string name = parts.empty() ? "index.html" : parts[0];
            for (const auto& asset : dashboards::web_assets()) {
                if (asset.name == name) {
                    Response r;
                    r.content_type = std::string(asset.content_type);
                    r.body = std::string(asset.body);
                    return reply(std::move(r));
                }
            }
            return reply(error_response(404, "no such page: " + request.path));
        }
        if (parts[0] == "metrics" && parts.size() == 1) {
            if (!get) return not_allowed("GET, HEAD");
            if (!hooks.render_metrics) return reply(error_response(503, "metrics are not available"));
            auto shared = std::make_shared<Respond>(std::move(respond));
            hooks.render_metrics([this, shared](std::string text) {
                asio::post(io, [shared, text = std::move(text)]() mutable {
                    Response r;
                    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                    r.body = std::move(text);
                    (*shared)(Answer{std::move(r), {}});
                });
            });
            return;
        }
        if (parts[0] != "api" || parts.size() < 2) return reply(error_response(404, "no such resource: " + request.path));
        const std::string& collection = parts[1];
        const std::size_t n = parts.size();

        if (collection == "health" && n == 2) {
            if (!get) return not_allowed("GET, HEAD");
            return reply(json_response(200, Json{{"status", "ok"}}));
        }
        if (collection == "openapi.json" && n == 2) {
            if (!get) return not_allowed("GET, HEAD");
            Response r;
            r.body = std::string(dashboards::openapi_document());
            return reply(std::move(r));
        }
        if (collection == "applications") {
            if (n == 2) {
                if (get) {
                    Json out = Json::array();
                    for (const auto& a : registry.list_applications()) out.push_back(application_json(a));
                    return reply(json_response(200, Json{{"applications", out}}));
                }
                if (m == "POST") {
                    require_token(request);
                    return reply(create_application(request));
                }
                return not_allowed("GET, HEAD, POST");
            }
            if (n == 3) {
                if (!get) return not_allowed("GET, HEAD");
                const auto a = application_by(parts[2]);
                if (!a) return reply(error_response(404, "no application '" + parts[2] + "'"));
                return reply(json_response(200, application_json(*a)));
            }
        }
        if (collection == "device-profiles") {
            if (n == 2) {
                if (get) {
                    Json out = Json::array();
                    for (const auto& p : registry.list_device_profiles()) out.push_back(profile_json(p));
                    return reply(json_response(200, Json{{"device_profiles", out}}));
                }
                if (m == "POST") {
                    require_token(request);
                    return reply(create_profile(request));
                }
                return not_allowed("GET, HEAD, POST");
            }
            if (n == 3) {
                if (!get) return not_allowed("GET, HEAD");
                const auto p = profile_by(parts[2]);
                if (!p) return reply(error_response(404, "no device profile '" + parts[2] + "'"));
                return reply(json_response(200, profile_json(*p)));
            }
        }
        if (collection == "devices") return route_devices(request, parts, respond);
        if (collection == "gateways") {
            if (n == 2) {
                if (!get) return not_allowed("GET, HEAD");
                Json out = Json::array();
                for (const auto& g : gateways.load_gateways()) out.push_back(gateway_json(g));
                return reply(json_response(200, Json{{"gateways", out}}));
            }
            if (n == 3) {
                const auto id = eui_in_path(parts[2], "gateway_id");
                if (get) {
                    for (const auto& g : gateways.load_gateways()) {
                        if (g.gateway_id == id) return reply(json_response(200, gateway_json(g)));
                    }
                    return reply(error_response(404, "no gateway " + id.to_string()));
                }
                if (m == "PUT") {
                    require_token(request);
                    const Json body = parse_body(request);
                    Fields f(body);
                    bridge::GatewayRecord g;
                    g.gateway_id = id;
                    g.name = f.text("name").value_or("");
                    g.location = location_of(f);
                    g.tags = tags_of(f);
                    g.registered = true;
                    for (const char* read_only : {"gateway_id", "online", "registered", "first_seen", "last_seen",
                                                  "frames_received", "last_stats"}) {
                        f.ignore(read_only);
                    }
                    f.done();
                    gateways.save_registered_gateway(g);
                    for (const auto& stored : gateways.load_gateways()) {
                        if (stored.gateway_id == id) return reply(json_response(200, gateway_json(stored)));
                    }
                    return reply(error_response(500, "gateway not stored"));
                }
                if (m == "DELETE") {
                    require_token(request);
                    if (!gateways.remove_gateway(id)) return reply(error_response(404, "no gateway " + id.to_string()));
                    Response r;
                    r.status = 204;
                    return reply(std::move(r));
                }
                return not_allowed("GET, HEAD, PUT, DELETE");
            }
        }
        if (collection == "readings") {
            if (!get) return not_allowed("GET, HEAD");
            if (n == 3 && parts[2] == "series") {
                const auto names = device_names();
                Json out = Json::array();
                for (const auto& s : queries.series()) {
                    const auto name = names.find(s.dev_eui);
                    out.push_back(Json{{"dev_eui", s.dev_eui},
                                       {"device_name", name == names.end() ? std::string() : name->second},
                                       {"quantity", s.quantity},
                                       {"unit", s.unit},
                                       {"count", s.count},
                                       {"last_time", s.last_time},
                                       {"last_value", s.last_value}});
                }
                return reply(json_response(200, Json{{"series", out}}));
            }
            if (n == 2) {
                sqlite::ReadingsQuery q;
                q.dev_eui = param(request.query, "dev_eui");
                if (!q.dev_eui.empty()) q.dev_eui = eui_in_path(q.dev_eui, "dev_eui").to_string();
                q.quantity = param(request.query, "quantity");
                q.from = time_param(request.query, "from");
                q.to = time_param(request.query, "to");
                q.limit = static_cast<std::size_t>(int_param(request.query, "limit", 10'000, 1, 100'000));
                const auto interval = int_param(request.query, "interval", 0, 0, 366LL * 24 * 3600);
                if (interval > 0) {
                    Json out = Json::array();
                    for (const auto& b : queries.reading_buckets(q, interval)) {
                        out.push_back(Json{{"start", b.start}, {"count", b.count}, {"min", b.min}, {"max", b.max},
                                           {"mean", b.mean}, {"unit", b.unit}});
                    }
                    return reply(json_response(200, Json{{"interval_s", interval}, {"buckets", out}}));
                }
                Json out = Json::array();
                for (const auto& p : queries.readings(q)) {
                    out.push_back(Json{{"time", p.time}, {"value", p.value}, {"unit", p.unit}});
                }
                return reply(json_response(200, Json{{"points", out}}));
            }
        }
        if (collection == "parking") {
            if (!get) return not_allowed("GET, HEAD");
            const auto spots_json = [&](const std::string& zone) {
                Json out = Json::array();
                for (const auto& s : queries.spots(zone)) {
                    out.push_back(Json{{"zone", s.zone}, {"spot", s.spot}, {"dev_eui", s.dev_eui},
                                       {"status", s.status}, {"since", s.since}, {"last_seen", s.last_seen}});
                }
                return out;
            };
            if (n == 3 && parts[2] == "zones") {
                Json out = Json::array();
                for (const auto& z : queries.zones()) {
                    out.push_back(Json{{"zone", z.zone}, {"free", z.free}, {"occupied", z.occupied},
                                       {"unknown", z.unknown}, {"total", z.free + z.occupied + z.unknown}});
                }
                return reply(json_response(200, Json{{"zones", out}}));
            }
            if (n == 4 && parts[2] == "zones") {
                const Json spots = spots_json(parts[3]);
                if (spots.empty()) return reply(error_response(404, "no parking zone '" + parts[3] + "'"));
                Json zone{{"zone", parts[3]}, {"free", 0}, {"occupied", 0}, {"unknown", 0}};
                for (const auto& s : spots) zone[s["status"].get<std::string>()] = zone[s["status"].get<std::string>()].get<int>() + 1;
                zone["total"] = spots.size();
                zone["spots"] = spots;
                return reply(json_response(200, zone));
            }
            if (n == 3 && parts[2] == "spots") {
                return reply(json_response(200, Json{{"spots", spots_json(param(request.query, "zone"))}}));
            }
        }
        if (collection == "uplinks" && n == 2) {
            if (!get) return not_allowed("GET, HEAD");
            const auto limit = int_param(request.query, "limit", 50, 1, 1000);
            const auto after = int_param(request.query, "after", 0, 0, INT64_MAX);
            std::string dev_eui = param(request.query, "dev_eui");
            if (!dev_eui.empty()) dev_eui = eui_in_path(dev_eui, "dev_eui").to_string();
            Json out = Json::array();
            for (const auto& u : queries.uplinks(static_cast<std::size_t>(limit), after, dev_eui)) {
                out.push_back(uplink_json(u));
            }
            return reply(json_response(200, Json{{"uplinks", out}}));
        }
        if (collection == "stream" && n == 2) {
            if (m != "GET") return not_allowed("GET");
            return open_stream(respond);
        }
        if (collection == "tokens") {
            require_token(request);  // the list of tokens is for their holders only
            if (n == 2) {
                if (get) {
                    Json out = Json::array();
                    for (const auto& t : tokens.list()) {
                        out.push_back(Json{{"id", t.id}, {"name", t.name}, {"created_at", t.created_at},
                                           {"last_used_at", optional_json(t.last_used_at)}});
                    }
                    return reply(json_response(200, Json{{"tokens", out}}));
                }
                if (m == "POST") {
                    const Json body = parse_body(request);
                    Fields f(body);
                    const auto name = f.text("name", true);
                    f.done();
                    std::string error;
                    auto created = tokens.create(*name, error);
                    if (!created) refuse_registry(error, error.find(" exists") != std::string::npos ? 409 : 400);
                    return reply(json_response(201, Json{{"id", created->token.id},
                                                         {"name", created->token.name},
                                                         {"created_at", created->token.created_at},
                                                         {"token", created->secret}}));
                }
                return not_allowed("GET, HEAD, POST");
            }
            if (n == 3) {
                if (m != "DELETE") return not_allowed("DELETE");
                if (!tokens.revoke(parts[2])) return reply(error_response(404, "no token '" + parts[2] + "'"));
                Response r;
                r.status = 204;
                return reply(std::move(r));
            }
        }
        return reply(error_response(404, "no such resource: " + request.path));
    }

    void route_devices(const Request& request, const std::vector<std::string>& parts, Respond& respond) {
        const std::string& m = request.method;
        const auto reply = [&](Response r) { respond(Answer{std::move(r), {}}); };
        const auto not_allowed = [&](const char* allowed) {
            Response r = error_response(405, "method " + m + " not allowed here; allowed: " + allowed);
            r.headers.emplace_back("Allow", allowed);
            reply(std::move(r));
        };
        const bool get = m == "GET" || m == "HEAD";
        const std::size_t n = parts.size();
        if (n == 2) {
            if (get) {
                std::optional<std::string> application_id;
                if (const auto a = param(request.query, "application"); !a.empty()) {
                    const auto found = application_by(a);
                    if (!found) refuse("application", "no application '" + a + "'", 404);
                    application_id = found->id;
                }
                const Names names(registry);
                Json out = Json::array();
                for (const auto& d : registry.list_devices(application_id)) out.push_back(device_json(d, names));
                return reply(json_response(200, Json{{"devices", out}}));
            }
            if (m == "POST") {
                require_token(request);
                const Json body = parse_body(request);
                const ns::Device device = device_of(body, std::nullopt, std::nullopt);
                if (registry.find_device(device.dev_eui)) {
                    refuse("dev_eui", "a device with dev_eui " + device.dev_eui.to_string() + " exists", 409);
                }
                auto added = registry.add_device(device);
                if (!added) refuse_registry(added.error());
                return reply(json_response(201, device_json(*registry.find_device(device.dev_eui), Names(registry))));
            }
            return not_allowed("GET, HEAD, POST");
        }
        if (n == 3 && parts[2] == "import") {
            if (m != "POST") return not_allowed("POST");
            require_token(request);
            ImportOptions options;
            options.all_or_nothing = truthy(request.query, "all_or_nothing");
            options.dry_run = truthy(request.query, "dry_run");
            const ImportResult result = import_devices_csv(db, registry, request.body, options);
            Json out = result.to_json();
            // 200: every row in; 422: some rows refused (the rest in unless all_or_nothing); 400: not a device CSV.
            const unsigned status = result.fatal ? 400 : result.errors.empty() ? 200 : 422;
            if (result.fatal) out["error"] = Json{{"code", 400}, {"message", *result.fatal}, {"field", "body"}};
            if (result.committed && hooks.profiles_changed) hooks.profiles_changed();
            return reply(json_response(status, out));
        }
        if (n == 3 && parts[2] == "export") {
            if (!get) return not_allowed("GET, HEAD");
            std::optional<std::string> application_id;
            if (const auto a = param(request.query, "application"); !a.empty()) {
                const auto found = application_by(a);
                if (!found) refuse("application", "no application '" + a + "'", 404);
                application_id = found->id;
            }
            Response r;
            r.content_type = "text/csv; charset=utf-8";
            r.body = export_devices_csv(registry, application_id, false);
            return reply(std::move(r));
        }
        if (n == 3 && parts[2] == "status") {
            if (!get) return not_allowed("GET, HEAD");
            std::map<std::string, sqlite::DeviceState> states;
            for (auto& s : queries.device_states()) states[s.dev_eui] = std::move(s);
            const Names names(registry);
            Json out = Json::array();
            for (const auto& d : registry.list_devices()) {
                const auto eui = d.dev_eui.to_string();
                const auto it = states.find(eui);
                const sqlite::DeviceState* s = it == states.end() ? nullptr : &it->second;
                out.push_back(Json{{"dev_eui", eui},
                                   {"name", d.name},
                                   {"profile", names.profile(d.device_profile_id)},
                                   {"application", names.application(d.application_id)},
                                   {"last_seen", s ? optional_json(s->last_seen) : Json(nullptr)},
                                   {"f_cnt", s ? optional_number(s->f_cnt) : Json(nullptr)},
                                   {"rssi", s ? optional_number(s->rssi) : Json(nullptr)},
                                   {"snr", s ? optional_number(s->snr) : Json(nullptr)},
                                   {"battery", s ? optional_number(s->battery) : Json(nullptr)},
                                   {"battery_unit", s ? s->battery_unit : std::string()},
                                   {"uplinks", s ? s->uplinks : 0},
                                   {"codec_errors", s ? s->codec_errors : 0}});
            }
            return reply(json_response(200, Json{{"devices", out}}));
        }
        const auto dev_eui = eui_in_path(parts[2], "dev_eui");
        if (n == 3) {
            if (get) {
                const auto d = registry.find_device(dev_eui);
                if (!d) return reply(error_response(404, "no device " + dev_eui.to_string()));
                return reply(json_response(200, device_json(*d, Names(registry))));
            }
            if (m == "PUT") {
                require_token(request);
                const auto previous = registry.find_device(dev_eui);
                if (!previous) return reply(error_response(404, "no device " + dev_eui.to_string()));
                const Json body = parse_body(request);
                const ns::Device device = device_of(body, dev_eui, previous);
                auto updated = registry.update_device(device);
                if (!updated) refuse_registry(updated.error());
                return reply(json_response(200, device_json(*registry.find_device(dev_eui), Names(registry))));
            }
            if (m == "DELETE") {
                require_token(request);
                if (!registry.remove_device(dev_eui)) return reply(error_response(404, "no device " + dev_eui.to_string()));
                Response r;
                r.status = 204;
                return reply(std::move(r));
            }
            return not_allowed("GET, HEAD, PUT, DELETE");
        }
        if (n == 4 && parts[3] == "queue") {
            if (!registry.find_device(dev_eui)) return reply(error_response(404, "no device " + dev_eui.to_string()));
            if (get) {
                Json out = Json::array();
                for (const auto& item : ns_store.queue(dev_eui)) out.push_back(queue_item_json(item));
                return reply(json_response(200, Json{{"queue", out}}));
            }
            if (m == "DELETE") {
                require_token(request);
                const auto removed = ns_store.flush_queue(dev_eui);
                return reply(json_response(200, Json{{"removed", removed}}));
            }
            if (m == "POST") {
                require_token(request);
                const Json body = parse_body(request);
                Fields f(body);
                const auto f_port = f.integer("f_port", 1, 223);
                if (!f_port) refuse("f_port", "required (1..223)");
                const auto hex = f.text("hex");
                const auto data_b64 = f.text("data");
                const bool confirmed = f.boolean("confirmed").value_or(false);
                f.done();
                if (hex && data_b64) refuse("data", "give hex or data (base64), not both");
                lorawan::Bytes data;
                if (hex) {
                    auto bytes = lorawan::from_hex(*hex);
                    if (!bytes) refuse("hex", "expected an even number of hex digits");
                    data = std::move(*bytes);
                } else if (data_b64) {
                    auto bytes = common::base64_decode(*data_b64);
                    if (!bytes) refuse("data", "expected base64");
                    data = std::move(*bytes);
                }
                if (data.size() > 242) refuse(hex ? "hex" : "data", "longer than 242 bytes, the most any data rate carries");
                const auto finish = [](Respond done, lorawan::Result<ns::QueueItem, ns::QueueError> item) {
                    if (!item) {
                        const auto& error = item.error();
                        const auto colon = error.find(':');
                        done(Answer{error_response(400, error, colon == std::string::npos ? "" : error.substr(0, colon)), {}});
                        return;
                    }
                    done(Answer{json_response(201, queue_item_json(*item)), {}});
                };
                if (!hooks.enqueue) {
                    return finish(respond, ns_store.enqueue(dev_eui, static_cast<std::uint8_t>(*f_port), data, confirmed));
                }
                auto shared = std::make_shared<Respond>(respond);
                hooks.enqueue(dev_eui, static_cast<std::uint8_t>(*f_port), std::move(data), confirmed,
                              [this, shared, finish](lorawan::Result<ns::QueueItem, ns::QueueError> item) {
                                  asio::post(io, [shared, finish, item = std::move(item)]() mutable {
                                      finish(std::move(*shared), std::move(item));
                                  });
                              });
                return;
            }
            return not_allowed("GET, HEAD, POST, DELETE");
        }
        return reply(error_response(404, "no such resource: " + request.path));
    }
};

Api::Api(asio::io_context& io, sqlite::Database& db, ApiOptions options, ApiHooks hooks)
    : impl_(std::make_unique<Impl>(io, db, options, std::move(hooks), counters_)) {}

Api::~Api() = default;

void Api::stop() {
    impl_->stopped = true;
    impl_->stream_timer.cancel();
}

void Api::handle(const Request& request, Respond respond) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    // Count what goes out by its status class.
    Respond counted = [this, respond = std::move(respond)](Answer answer) {
        const unsigned status = answer.stream ? 200 : answer.response.status;
        if (status >= 500) counters_.server_errors.fetch_add(1, std::memory_order_relaxed);
        if (status >= 400 && status < 500) counters_.client_errors.fetch_add(1, std::memory_order_relaxed);
        if (status == 401 || status == 403) counters_.unauthorized.fetch_add(1, std::memory_order_relaxed);
        respond(std::move(answer));
    };
    try {
        impl_->route(request, counted);
    } catch (const Refusal& r) {
        counted(Answer{error_response(r.status, r.message, r.field), {}});
    } catch (const std::exception& e) {
        log::error("API request failed", {{"method", request.method}, {"path", request.path}, {"error", e.what()}});
        counted(Answer{error_response(500, "internal error: " + std::string(e.what())), {}});
    }
}

}  // namespace schwebe::app
