#include "app/device_csv.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

namespace schwebe::app {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 15> known_columns{
    "dev_eui", "name",      "application", "profile", "join_eui", "app_key",  "dev_addr", "nwk_s_key",
    "app_s_key", "zone",    "spot",        "latitude", "longitude", "altitude", "tags"};
constexpr std::array<std::string_view, 3> required_columns{"dev_eui", "name", "profile"};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string number_text(double value) {
    std::array<char, 32> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return ec == std::errc{} ? std::string(buffer.data(), end) : std::string{};
}

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

/// A registry error names its field first ("join_eui: required ..."); the column that holds the field.
CsvRowError from_registry(std::size_t line, const std::string& error) {
    static const std::map<std::string, std::string, std::less<>> columns{
        {"device_profile_id", "profile"}, {"application_id", "application"}};
    const auto colon = error.find(": ");
    std::string field = colon == std::string::npos ? std::string{} : error.substr(0, colon);
    const std::string reason = colon == std::string::npos ? error : error.substr(colon + 2);
    if (const auto it = columns.find(field); it != columns.end()) field = it->second;
    return {line, field, reason};
}

/// The header's columns by name, or the reason the header is unusable.
struct Header {
    std::map<std::string, std::size_t, std::less<>> index;

    [[nodiscard]] std::string_view get(const std::vector<std::string>& record, std::string_view column) const {
        const auto it = index.find(column);
        if (it == index.end() || it->second >= record.size()) return {};
        return trim(record[it->second]);
    }
};

std::optional<std::string> read_header(const std::vector<std::string>& record, Header& header) {
    for (std::size_t i = 0; i < record.size(); ++i) {
        std::string name(trim(record[i]));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name.empty()) return "column " + std::to_string(i + 1) + " has no name";
        if (std::find(known_columns.begin(), known_columns.end(), name) == known_columns.end()) {
            std::string known;
            for (const auto k : known_columns) known += std::string(known.empty() ? "" : ", ") + std::string(k);
            return "unknown column '" + name + "' (the columns: " + known + ")";
        }
        if (!header.index.emplace(name, i).second) return "column '" + name + "' appears twice";
    }
    for (const auto required : required_columns) {
        if (!header.index.contains(required)) return "the header has no column '" + std::string(required) + "'";
    }
    return std::nullopt;
}

/// The device a row describes (application and profile by name in `application`, `profile`), or why not.
struct RowDevice {
    ns::Device device;
    std::string application;
    std::string profile;
};

template <class Key>
bool read_key(std::string_view text, std::optional<Key>& out, const char* column, std::size_t line,
              CsvRowError& error) {
    if (text.empty()) return true;
    out = Key::from_hex(text);
    // Never the value itself: it is a key.
    if (!out) error = {line, column, "expected 32 hex digits"};
    return out.has_value();
}

std::optional<RowDevice> read_row(const Header& header, const std::vector<std::string>& record, std::size_t line,
                                  CsvRowError& error) {
    const auto field = [&](std::string_view column) { return header.get(record, column); };
    RowDevice row;
    ns::Device& d = row.device;

    const auto dev_eui = field("dev_eui");
    if (dev_eui.empty()) return error = {line, "dev_eui", "required"}, std::nullopt;
    const auto eui = lorawan::Eui64::from_hex(dev_eui);
    if (!eui) return error = {line, "dev_eui", "expected 16 hex digits, got '" + std::string(dev_eui) + "'"}, std::nullopt;
    d.dev_eui = *eui;
    d.name = std::string(field("name"));
    if (d.name.empty()) return error = {line, "name", "required"}, std::nullopt;
    row.profile = std::string(field("profile"));
    if (row.profile.empty()) return error = {line, "profile", "required"}, std::nullopt;
    row.application = std::string(field("application"));
    if (row.application.empty()) row.application = "default";

    if (const auto text = field("join_eui"); !text.empty()) {
        d.join_eui = lorawan::Eui64::from_hex(text);
        if (!d.join_eui) return error = {line, "join_eui", "expected 16 hex digits, got '" + std::string(text) + "'"}, std::nullopt;
    }
    if (const auto text = field("dev_addr"); !text.empty()) {
        d.dev_addr = lorawan::DevAddr::from_hex(text);
        if (!d.dev_addr) return error = {line, "dev_addr", "expected 8 hex digits, got '" + std::string(text) + "'"}, std::nullopt;
    }
    if (!read_key(field("app_key"), d.app_key, "app_key", line, error) ||
        !read_key(field("nwk_s_key"), d.nwk_s_key, "nwk_s_key", line, error) ||
        !read_key(field("app_s_key"), d.app_s_key, "app_s_key", line, error)) {
        return std::nullopt;
    }

    if (const auto tags = field("tags"); !tags.empty()) {
        std::size_t start = 0;
        while (start <= tags.size()) {
            const auto end = std::min(tags.find(';', start), tags.size());
            const auto tag = trim(tags.substr(start, end - start));
            start = end + 1;
            if (tag.empty()) continue;
            const auto eq = tag.find('=');
            if (eq == std::string_view::npos || trim(tag.substr(0, eq)).empty()) {
                return error = {line, "tags", "expected key=value;key=value, got '" + std::string(tag) + "'"}, std::nullopt;
            }
            d.tags[std::string(trim(tag.substr(0, eq)))] = std::string(trim(tag.substr(eq + 1)));
        }
    }
    const auto zone = field("zone");
    const auto spot = field("spot");
    if (zone.empty() != spot.empty()) {
        return error = {line, zone.empty() ? "zone" : "spot", "a parking spot needs both zone and spot"}, std::nullopt;
    }
    if (!zone.empty()) {
        if ((d.tags.contains("zone") && d.tags["zone"] != zone) || (d.tags.contains("spot") && d.tags["spot"] != spot)) {
            return error = {line, "tags", "zone or spot given twice, differently"}, std::nullopt;
        }
        d.tags["zone"] = std::string(zone);
        d.tags["spot"] = std::string(spot);
    }

    const auto lat = field("latitude");
    const auto lon = field("longitude");
    const auto alt = field("altitude");
    if (lat.empty() != lon.empty()) {
        return error = {line, lat.empty() ? "latitude" : "longitude", "give both latitude and longitude, or neither"},
               std::nullopt;
    }
    if (!lat.empty()) {
        common::Location location;
        const auto la = parse_number(lat);
        if (!la) return error = {line, "latitude", "expected a number, got '" + std::string(lat) + "'"}, std::nullopt;
        const auto lo = parse_number(lon);
        if (!lo) return error = {line, "longitude", "expected a number, got '" + std::string(lon) + "'"}, std::nullopt;
        location.latitude = *la;
        location.longitude = *lo;
        if (!alt.empty()) {
            const auto al = parse_number(alt);
            if (!al) return error = {line, "altitude", "expected a number, got '" + std::string(alt) + "'"}, std::nullopt;
            location.altitude = *al;
        }
        d.location = location;
    } else if (!alt.empty()) {
        return error = {line, "altitude", "needs latitude and longitude"}, std::nullopt;
    }
    return row;
}

}  // namespace

std::optional<CsvTable> parse_csv(std::string_view text, std::string& error) {
    CsvTable table;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    std::size_t i = 0;
    std::size_t line = 1;
    while (i < text.size()) {
        std::vector<std::string> record;
        const std::size_t record_line = line;
        bool end_of_record = false;
        while (!end_of_record) {
            std::string value;
            if (i < text.size() && text[i] == '"') {
                const std::size_t quote_line = line;
                ++i;
                for (;;) {
                    if (i >= text.size()) {
                        error = "line " + std::to_string(quote_line) + ": a quoted field is never closed";
                        return std::nullopt;
                    }
                    if (text[i] == '"') {
                        if (i + 1 < text.size() && text[i + 1] == '"') {
                            value += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (text[i] == '\n') ++line;
                    value += text[i++];
                }
                if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                    error = "line " + std::to_string(line) + ": text after a closing quote";
                    return std::nullopt;
                }
            } else {
                while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') value += text[i++];
            }
            record.push_back(std::move(value));
            if (i >= text.size()) {
                end_of_record = true;
            } else if (text[i] == ',') {
                ++i;
            } else {
                if (text[i] == '\r') ++i;
                if (i < text.size() && text[i] == '\n') ++i;
                ++line;
                end_of_record = true;
            }
        }
        // Blank lines are no records.
        if (record.size() == 1 && trim(record[0]).empty()) continue;
        table.records.push_back(std::move(record));
        table.lines.push_back(record_line);
    }
    return table;
}

std::string csv_field(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos && trim(value) == value) return std::string(value);
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

Json ImportResult::to_json() const {
    Json errors_json = Json::array();
    for (const auto& e : errors) {
        errors_json.push_back({{"line", e.line}, {"column", e.column.empty() ? Json(nullptr) : Json(e.column)},
                               {"reason", e.reason}});
    }
    Json j{{"rows", rows},
           {"added", added},
           {"updated", updated},
           {"unchanged", unchanged},
           {"refused", errors.size()},
           {"applications_created", applications_created},
           {"committed", committed},
           {"errors", errors_json}};
    if (fatal) j["error"] = *fatal;
    return j;
}

ImportResult import_devices_csv(sqlite::Database& db, sqlite::SqliteDeviceRegistry& registry, std::string_view csv,
                                const ImportOptions& options) {
    ImportResult result;
    std::string parse_error;
    const auto table = parse_csv(csv, parse_error);
    if (!table) {
        result.fatal = parse_error;
        return result;
    }
    if (table->records.empty()) {
        result.fatal = "the file is empty: expected a header row (dev_eui,name,profile,...)";
        return result;
    }
    Header header;
    if (const auto error = read_header(table->records[0], header)) {
        result.fatal = "line " + std::to_string(table->lines[0]) + ": " + *error;
        return result;
    }

    // One transaction for the whole file: fast (one fsync), and all or nothing when asked.
    sqlite::Transaction transaction(db);
    std::map<std::string, std::string> application_ids;  // name -> id, as found or created
    std::map<std::string, std::optional<ns::DeviceProfile>> profiles;
    std::map<std::string, std::size_t> seen;  // dev_eui -> line

    for (std::size_t r = 1; r < table->records.size(); ++r) {
        const auto& record = table->records[r];
        const std::size_t line = table->lines[r];
        ++result.rows;
        if (record.size() != header.index.size()) {
            result.errors.push_back({line, {},
                                     "expected " + std::to_string(header.index.size()) + " fields as in the header, got " +
                                         std::to_string(record.size())});
            continue;
        }
        CsvRowError error;
        auto row = read_row(header, record, line, error);
        if (!row) {
            result.errors.push_back(std::move(error));
            continue;
        }
        const std::string eui_text = row->device.dev_eui.to_string();
        if (const auto [it, fresh] = seen.emplace(eui_text, line); !fresh) {
            result.errors.push_back({line, "dev_eui", eui_text + " is already on line " + std::to_string(it->second)});
            continue;
        }

        auto& profile = profiles[row->profile];
        if (!profile) {
            profile = registry.find_device_profile_by_name(row->profile);
            if (!profile) profile = registry.find_device_profile_by_id(row->profile);
        }
        if (!profile) {
            profiles.erase(row->profile);
            result.errors.push_back({line, "profile", "no device profile '" + row->profile + "'"});
            continue;
        }
        row->device.device_profile_id = profile->id;

        const auto existing = registry.find_device(row->device.dev_eui);
        if (existing) {
            // Keys are write-only (an export leaves them out): a blank key column keeps the stored key.
            // Only those of the profile's activation: a device moved to ABP does not keep its AppKey.
            if (profile->activation == ns::Activation::otaa) {
                if (!row->device.app_key) row->device.app_key = existing->app_key;
            } else {
                if (!row->device.nwk_s_key) row->device.nwk_s_key = existing->nwk_s_key;
                if (!row->device.app_s_key) row->device.app_s_key = existing->app_s_key;
            }
        }
        auto app_it = application_ids.find(row->application);
        if (app_it == application_ids.end()) {
            auto application = registry.find_application_by_name(row->application);
            if (!application) application = registry.find_application_by_id(row->application);
            if (!application) {
                // Checked first, so that a refused row does not leave an application behind.
                if (const auto valid = sqlite::SqliteDeviceRegistry::validate(row->device, *profile); !valid) {
                    result.errors.push_back(from_registry(line, valid.error()));
                    continue;
                }
                auto created = registry.create_application(row->application);
                if (!created) {
                    result.errors.push_back({line, "application", created.error()});
                    continue;
                }
                ++result.applications_created;
                application = std::move(created).value();
            }
            app_it = application_ids.emplace(row->application, application->id).first;
        }
        row->device.application_id = app_it->second;

        if (existing && *existing == row->device) {
            ++result.unchanged;
            continue;
        }
        const auto written = existing ? registry.update_device(row->device) : registry.add_device(row->device);
        if (!written) {
            result.errors.push_back(from_registry(line, written.error()));
            continue;
        }
        ++(existing ? result.updated : result.added);
    }

    if (options.dry_run || (options.all_or_nothing && !result.errors.empty())) return result;  // rolled back
    transaction.commit();
    result.committed = true;
    return result;
}

std::string export_devices_csv(sqlite::SqliteDeviceRegistry& registry, const std::optional<std::string>& application_id,
                               bool with_keys) {
    std::map<std::string, std::string> applications, profiles;
    for (const auto& a : registry.list_applications()) applications[a.id] = a.name;
    for (const auto& p : registry.list_device_profiles()) profiles[p.id] = p.name;
    const auto name_of = [](const std::map<std::string, std::string>& names, const std::string& id) {
        const auto it = names.find(id);
        return it == names.end() ? id : it->second;
    };
    const auto key_hex = [&](const auto& key) -> std::string {
        if (!key || !with_keys) return {};
        return lorawan::to_hex(lorawan::ByteView{key->bytes().data(), key->bytes().size()});
    };

    std::string out;
    for (std::size_t i = 0; i < known_columns.size(); ++i) out += std::string(i ? "," : "") + std::string(known_columns[i]);
    out += '\n';
    for (const auto& d : registry.list_devices(application_id)) {
        auto tags = d.tags;
        std::string zone, spot;
        if (tags.contains("zone") && tags.contains("spot")) {
            zone = tags["zone"];
            spot = tags["spot"];
            tags.erase("zone");
            tags.erase("spot");
        }
        std::string tag_text;
        for (const auto& [k, v] : tags) tag_text += (tag_text.empty() ? "" : ";") + k + "=" + v;
        const std::vector<std::string> fields{
            d.dev_eui.to_string(),
            d.name,
            name_of(applications, d.application_id),
            name_of(profiles, d.device_profile_id),
            d.join_eui ? d.join_eui->to_string() : std::string{},
            key_hex(d.app_key),
            d.dev_addr ? d.dev_addr->to_string() : std::string{},
            key_hex(d.nwk_s_key),
            key_hex(d.app_s_key),
            zone,
            spot,
            d.location ? number_text(d.location->latitude) : std::string{},
            d.location ? number_text(d.location->longitude) : std::string{},
            d.location && d.location->altitude != 0 ? number_text(d.location->altitude) : std::string{},
            tag_text};
        for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
        out += '\n';
    }
    return out;
}

}  // namespace schwebe::app
