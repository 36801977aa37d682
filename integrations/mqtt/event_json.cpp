#include "integrations/mqtt/event_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <utility>

#include "common/base64.hpp"
#include "common/gateway_json.hpp"

namespace schwebe::mqtt {

namespace {

namespace chr = std::chrono;
using common::Json;  // ordered: fields come out in ChirpStack's order

// -------------------------------------------------------------------------------------------------------------------
// Events

/// RFC 3339 in UTC with nine fraction digits and a "+00:00" offset, as ChirpStack prints event times
/// ("2022-07-18T09:34:15.775023242+00:00").
std::string format_time(ns::SystemTime t) {
    const auto since_epoch = chr::duration_cast<chr::nanoseconds>(t.time_since_epoch());
    const auto day = chr::floor<chr::days>(since_epoch);
    const chr::year_month_day ymd{chr::sys_days{day}};
    const chr::hh_mm_ss<chr::nanoseconds> time_of_day{since_epoch - day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        std::array<char, 64> buf{};
        const int n = std::snprintf(
            buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%09lld+00:00", year,
            static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            static_cast<int>(time_of_day.hours().count()), static_cast<int>(time_of_day.minutes().count()),
            static_cast<int>(time_of_day.seconds().count()), static_cast<long long>(time_of_day.subseconds().count()));
        return std::string(buf.data(), static_cast<std::size_t>(n));
    }
    // Digit by digit: several per `up` event, and snprintf costs about a microsecond each.
    std::string out = "0000-00-00T00:00:00.000000000+00:00";
    const auto put = [&out](std::size_t pos, std::size_t width, long long value) {
        for (std::size_t i = 0; i < width; ++i, value /= 10) out[pos + width - 1 - i] = static_cast<char>('0' + value % 10);
    };
    put(0, 4, year);
    put(5, 2, static_cast<unsigned>(ymd.month()));
    put(8, 2, static_cast<unsigned>(ymd.day()));
    put(11, 2, time_of_day.hours().count());
    put(14, 2, time_of_day.minutes().count());
    put(17, 2, time_of_day.seconds().count());
    put(20, 9, time_of_day.subseconds().count());
    return out;
}

Json device_info_json(const ns::DeviceInfo& d) {
    Json tags = Json::object();
    for (const auto& [key, value] : d.tags) tags[key] = value;
    return Json{{"tenantId", std::string(tenant_id)},
                {"tenantName", std::string(tenant_name)},
                {"applicationId", d.application_id},
                {"applicationName", d.application_name},
                {"deviceProfileId", d.device_profile_id},
                {"deviceProfileName", d.device_profile_name},
                {"deviceName", d.device_name},
                {"devEui", d.dev_eui.to_string()},
                {"deviceClassEnabled", "CLASS_A"},  // Schwebe serves class A devices only
                {"tags", std::move(tags)}};
}

/// The gateway bridge's rxInfo, in the form ChirpStack's network server passes it to applications: the gateway's time
/// under its current gw.proto name `gwTime`, times with nanoseconds, `location` always present (`{}` when unknown,
/// so that `rxInfo[0].location.latitude` reads as undefined rather than failing), and the region in `metadata`.
Json rx_info_json(const common::RxInfo& rx) {
    const Json bridge = common::rx_info_to_json(rx);
    Json out = Json::object();
    for (const auto& field : bridge.items()) {
        const std::string& key = field.key();
        if (key == "time" || key == "nsTime") continue;
        if (key == "context" && !out.contains("location")) out["location"] = Json::object();
        out[key] = field.value();
        if (key == "uplinkId") {
            if (rx.time) out["gwTime"] = format_time(*rx.time);
            out["nsTime"] = format_time(rx.received_at);
        } else if (key == "context") {
            out["metadata"] =
                Json{{"region_common_name", "EU868"}, {"region_config_id", std::string(region_config_id)}};
        }
    }
    if (!out.contains("location")) out["location"] = Json::object();
    return out;
}

/// gw.proto DownlinkTxInfo of the item that went out: the bridge's own form of it, taken from the downlink command
/// JSON so that both stay one definition (frequency, power, modulation, board, antenna, timing, context).
Json downlink_tx_info_json(const common::DownlinkItem& item) {
    common::DownlinkFrame frame;
    frame.items.push_back(item);
    const Json command = Json::parse(common::to_gateway_json(frame), nullptr, false);
    const auto items = command.find("items");
    if (items == command.end() || !items->is_array() || items->empty()) return Json::object();
    const auto tx_info = items->front().find("txInfo");
    if (tx_info == items->front().end()) return Json::object();
    return *tx_info;
}

std::string_view level_name(ns::LogLevel level) {
    switch (level) {
        case ns::LogLevel::info: return "INFO";
        case ns::LogLevel::warning: return "WARNING";
        case ns::LogLevel::error: return "ERROR";
    }
    return "INFO";
}

struct EventToJson {
    const nlohmann::json* object;

    Json operator()(const ns::UplinkEvent& e) const {
        Json j{{"deduplicationId", e.deduplication_id},
               {"time", format_time(e.time)},
               {"deviceInfo", device_info_json(e.device_info)},
               {"devAddr", e.dev_addr.to_string()},
               {"adr", e.adr},
               {"dr", e.dr},
               {"fCnt", e.f_cnt},
               // No FPort (MAC commands only): the protobuf defaults, fPort 0 and empty data, as for FPort 0.
               {"fPort", e.f_port.value_or(0)},
               {"confirmed", e.confirmed},
               {"data", common::base64_encode(e.data)}};
        if (object != nullptr) j["object"] = Json(*object);
        Json rx_info = Json::array();
        for (const common::RxInfo& rx : e.rx_info) rx_info.push_back(rx_info_json(rx));
        j["rxInfo"] = std::move(rx_info);
        j["txInfo"] = common::tx_info_to_json(e.tx_info);
        j["regionConfigId"] = std::string(region_config_id);
        return j;
    }

    Json operator()(const ns::JoinEvent& e) const {
        return Json{{"deduplicationId", e.deduplication_id},
                    {"time", format_time(e.time)},
                    {"deviceInfo", device_info_json(e.device_info)},
                    {"devAddr", e.dev_addr.to_string()}};
    }

    Json operator()(const ns::AckEvent& e) const {
        return Json{{"deduplicationId", e.deduplication_id},
                    {"time", format_time(e.time)},
                    {"deviceInfo", device_info_json(e.device_info)},
                    {"queueItemId", e.queue_item_id},
                    {"acknowledged", e.acknowledged},
                    {"fCntDown", e.f_cnt_down}};
    }

    Json operator()(const ns::TxAckEvent& e) const {
        Json j{{"downlinkId", e.downlink_id},
               {"time", format_time(e.time)},
               {"deviceInfo", device_info_json(e.device_info)},
               {"queueItemId", e.queue_item_id},
               {"fCntDown", e.f_cnt_down},
               {"gatewayId", e.gateway_id.to_string()}};
        // A downlink that no gateway accepted has no item and so no txInfo (ChirpStack sends no txack for it).
        if (e.item) j["txInfo"] = downlink_tx_info_json(*e.item);
        return j;
    }

    Json operator()(const ns::StatusEvent& e) const {
        return Json{{"deduplicationId", e.deduplication_id},
                    {"time", format_time(e.time)},
                    {"deviceInfo", device_info_json(e.device_info)},
                    {"margin", e.margin},
                    {"externalPowerSource", e.external_power_source},
                    {"batteryLevelUnavailable", e.battery_level_unavailable},
                    {"batteryLevel", e.battery_level}};
    }

    Json operator()(const ns::LogEvent& e) const {
        Json context = Json::object();
        for (const auto& [key, value] : e.context) context[key] = value;
        return Json{{"time", format_time(e.time)},
                    {"deviceInfo", device_info_json(e.device_info)},
                    {"level", std::string(level_name(e.level))},
                    {"code", e.code},
                    {"description", e.description},
                    {"context", std::move(context)}};
    }
};

// -------------------------------------------------------------------------------------------------------------------
// The `up` event written directly: it is the one event per uplink, on the hot path. Built as a tree and dumped it
// costs ~18 µs; written field by field ~3 µs. tests/integrations/event_json_test.cpp checks that both forms agree.

/// Appends `text` as a JSON string: quotes, escapes, and U+FFFD for bytes that are not UTF-8 (as the tree form's
/// dump with error_handler_t::replace), so that a device name typed in any encoding never breaks an event.
void append_string(std::string& out, std::string_view text) {
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            switch (c) {
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
            }
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else {
            // A UTF-8 sequence: its length from the lead byte, each continuation byte 10xxxxxx, no overlong forms
            // or surrogates (RFC 3629 §4).
            std::size_t len = 0;
            if (c >= 0xc2 && c <= 0xdf) len = 2;
            else if (c >= 0xe0 && c <= 0xef) len = 3;
            else if (c >= 0xf0 && c <= 0xf4) len = 4;
            bool valid = len != 0 && i + len <= text.size();
            for (std::size_t k = 1; valid && k < len; ++k) {
                valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
            }
            if (valid && len >= 3) {
                const auto c1 = static_cast<unsigned char>(text[i + 1]);
                if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
                    (c == 0xf4 && c1 > 0x8f)) {
                    valid = false;
                }
            }
            if (valid) {
                out.append(text.substr(i, len));
                i += len;
            } else {
                out += "\xef\xbf\xbd";
                ++i;
            }
        }
    }
    out += '"';
}

template <class Int>
void append_int(std::string& out, Int value) {
    std::array<char, 24> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    out.append(buf.data(), end);
}

/// As nlohmann writes a double: the shortest form that reads back the same, with ".0" on whole numbers.
void append_double(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    std::array<char, 32> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    const std::string_view text(buf.data(), static_cast<std::size_t>(end - buf.data()));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_rx_info(std::string& out, const common::RxInfo& rx) {
    out += "{\"gatewayId\":\"";
    out += rx.gateway_id.to_string();
    out += "\",\"uplinkId\":";
    append_int(out, rx.uplink_id);
    if (rx.time) {
        out += ",\"gwTime\":\"";
        out += format_time(*rx.time);
        out += '"';
    }
    out += ",\"nsTime\":\"";
    out += format_time(rx.received_at);
    out += '"';
    if (rx.gps_time_ms) {
        out += ",\"timeSinceGpsEpoch\":";
        // The tree form's own text for it (rare: GPS gateways only).
        out += common::rx_info_to_json(rx)["timeSinceGpsEpoch"].dump();
    }
    out += ",\"rssi\":";
    append_int(out, rx.rssi);
    if (rx.snr) {
        out += ",\"snr\":";
        append_double(out, *rx.snr);
    }
    out += ",\"channel\":";
    append_int(out, rx.channel);
    out += ",\"rfChain\":";
    append_int(out, rx.rf_chain);
    out += ",\"board\":0,\"antenna\":";
    append_int(out, rx.antenna);
    out += ",\"location\":";
    if (rx.location) {
        out += common::rx_info_to_json(rx)["location"].dump();
    } else {
        out += "{}";
    }
    out += ",\"context\":\"";
    const std::array<std::uint8_t, 4> tmst{static_cast<std::uint8_t>(rx.tmst >> 24),
                                           static_cast<std::uint8_t>(rx.tmst >> 16),
                                           static_cast<std::uint8_t>(rx.tmst >> 8), static_cast<std::uint8_t>(rx.tmst)};
    out += common::base64_encode(tmst);
    out += "\",\"metadata\":{\"region_common_name\":\"EU868\",\"region_config_id\":";
    append_string(out, region_config_id);
    out += "},\"crcStatus\":";
    switch (rx.crc_status) {
        case common::CrcStatus::ok: out += "\"CRC_OK\""; break;
        case common::CrcStatus::bad: out += "\"BAD_CRC\""; break;
        case common::CrcStatus::none: out += "\"NO_CRC\""; break;
    }
    out += '}';
}

void append_tx_info(std::string& out, const common::TxInfo& tx) {
    const auto* lora = std::get_if<common::LoraModulation>(&tx.modulation);
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> usual_rates{
        {{"4/5", "CR_4_5"}, {"4/6", "CR_4_6"}, {"4/7", "CR_4_7"}, {"4/8", "CR_4_8"}}};
    const auto rate = lora == nullptr ? usual_rates.end()
                                      : std::find_if(usual_rates.begin(), usual_rates.end(),
                                                     [&](const auto& r) { return r.first == lora->code_rate; });
    if (rate == usual_rates.end()) {  // FSK, or a rare code rate: the tree form's own text
        out += common::tx_info_to_json(tx).dump();
        return;
    }
    out += "{\"frequency\":";
    append_int(out, tx.frequency_hz);
    out += ",\"modulation\":{\"lora\":{\"bandwidth\":";
    append_int(out, lora->bandwidth_hz);
    out += ",\"spreadingFactor\":";
    append_int(out, lora->spreading_factor);
    out += ",\"codeRate\":\"";
    out += rate->second;
    out += "\"}}}";
}

void append_device_info(std::string& out, const ns::DeviceInfo& d) {
    out += "{\"tenantId\":";
    append_string(out, tenant_id);
    out += ",\"tenantName\":";
    append_string(out, tenant_name);
    out += ",\"applicationId\":";
    append_string(out, d.application_id);
    out += ",\"applicationName\":";
    append_string(out, d.application_name);
    out += ",\"deviceProfileId\":";
    append_string(out, d.device_profile_id);
    out += ",\"deviceProfileName\":";
    append_string(out, d.device_profile_name);
    out += ",\"deviceName\":";
    append_string(out, d.device_name);
    out += ",\"devEui\":\"";
    out += d.dev_eui.to_string();
    out += "\",\"deviceClassEnabled\":\"CLASS_A\",\"tags\":{";
    bool first = true;
    for (const auto& [key, value] : d.tags) {
        if (!first) out += ',';
        first = false;
        append_string(out, key);
        out += ':';
        append_string(out, value);
    }
    out += "}}";
}

// -------------------------------------------------------------------------------------------------------------------
// The down command

constexpr std::string_view topic_shape = "application/{application_id}/device/{dev_eui}/command/down";

/// The application id and DevEUI of a command topic, or why the topic is not one.
std::optional<std::string> read_topic(std::string_view topic, DownCommand& out) {
    const std::string shape_error = "topic: expected " + std::string(topic_shape);
    std::array<std::string_view, 6> levels{};
    std::size_t count = 0;
    std::size_t start = 0;
    while (true) {
        if (count == levels.size()) return shape_error;
        const std::size_t slash = topic.find('/', start);
        levels[count++] = topic.substr(start, slash == std::string_view::npos ? slash : slash - start);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (count != levels.size() || levels[0] != "application" || levels[2] != "device" || levels[4] != "command" ||
        levels[5] != "down" || levels[1].empty() || levels[1].find_first_of("+#") != std::string_view::npos) {
        return shape_error;
    }
    const auto dev_eui = lorawan::Eui64::from_hex(levels[3]);
    if (!dev_eui) return "topic: {dev_eui}: expected 16 hex digits";
    out.application_id = std::string(levels[1]);
    out.dev_eui = *dev_eui;
    return std::nullopt;
}

/// Whether no array or object in `text` lies deeper than `limit` (brackets inside strings do not count). For text
/// that is not JSON the answer may be wrong either way; the parser refuses such text anyway.
bool nesting_within(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

/// The field's value, or nullptr when it is absent or null (protobuf JSON: null stands for the default).
const nlohmann::json* find_field(const nlohmann::json& doc, const char* key) {
    const auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) return nullptr;
    return &*it;
}

/// An integer as protobuf JSON writes one: a number without fraction (1, 1.0, 1e1) or a decimal string ("1").
std::optional<std::int64_t> integer_of(const nlohmann::json& v) {
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        return u > static_cast<std::uint64_t>(max) ? max : static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        // Beyond ±2^53 a double is no longer exact; such a value is out of every range read here anyway.
        if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
        return n;
    }
    return std::nullopt;
}

/// 8-4-4-4-12 hex digits; lower case out.
std::optional<std::string> uuid_of(const std::string& s) {
    if (s.size() != 36) return std::nullopt;
    std::string out = s;
    for (std::size_t i = 0; i < out.size(); ++i) {
        char& c = out[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return std::nullopt;
        } else if (c >= 'A' && c <= 'F') {
            c = static_cast<char>(c - 'A' + 'a');
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return std::nullopt;
        }
    }
    return out;
}

/// The fields of a command document, after the topic has been read into `cmd`.
std::optional<std::string> read_fields(const nlohmann::json& doc, DownCommand& cmd) {
    if (!doc.is_object()) return "message: expected a JSON object";

    const nlohmann::json* dev_eui = find_field(doc, "devEui");
    if (dev_eui == nullptr) return "devEui: missing";
    if (!dev_eui->is_string()) return "devEui: expected 16 hex digits";
    const auto eui = lorawan::Eui64::from_hex(dev_eui->get_ref<const std::string&>());
    if (!eui) return "devEui: expected 16 hex digits";
    if (*eui != cmd.dev_eui) return "devEui: does not match the topic";

    if (const nlohmann::json* confirmed = find_field(doc, "confirmed")) {
        if (!confirmed->is_boolean()) return "confirmed: expected true or false";
        cmd.confirmed = confirmed->get<bool>();
    }

    // integration.proto: "FPort (must be > 0)"; 224 and up are reserved (LoRaWAN 1.0.4 §4.3.2).
    const nlohmann::json* f_port = find_field(doc, "fPort");
    if (f_port == nullptr) return "fPort: missing (expected 1..223)";
    const auto port = integer_of(*f_port);
    if (!port) return "fPort: expected an integer 1..223";
    if (*port < 1 || *port > 223) return "fPort: expected 1..223";
    cmd.f_port = static_cast<std::uint8_t>(*port);

    bool has_data = false;
    if (const nlohmann::json* data = find_field(doc, "data")) {
        if (!data->is_string()) return "data: expected a base64 string";
        auto bytes = common::base64_decode(data->get_ref<const std::string&>());
        if (!bytes) return "data: not base64";
        if (bytes->size() > max_down_data_size) {
            return "data: longer than " + std::to_string(max_down_data_size) + " bytes";
        }
        cmd.data = std::move(*bytes);
        has_data = !cmd.data.empty();
    }

    if (const nlohmann::json* object = find_field(doc, "object")) {
        if (!object->is_object()) return "object: expected a JSON object";
        // A serializer that writes every default sends "data":"" beside the object; bytes as well are ambiguous.
        if (has_data) return "data: not allowed together with object";
        cmd.object = *object;
    }

    if (const nlohmann::json* id = find_field(doc, "id")) {
        if (!id->is_string()) return "id: expected a UUID";
        const auto& text = id->get_ref<const std::string&>();
        if (!text.empty()) {  // integration.proto: "If left blank, a random UUID will be generated."
            auto uuid = uuid_of(text);
            if (!uuid) return "id: expected a UUID";
            cmd.id = std::move(*uuid);
        }
    }

    if (const nlohmann::json* expires_at = find_field(doc, "expiresAt")) {
        const auto t =
            expires_at->is_string() ? common::parse_rfc3339(expires_at->get_ref<const std::string&>()) : std::nullopt;
        if (!t) return "expiresAt: expected an RFC 3339 time";
        cmd.expires_at = *t;
    }
    return std::nullopt;
}

}  // namespace

std::string event_topic(const ns::DeviceInfo& device, std::string_view type) {
    std::string topic = "application/";
    topic += device.application_id;
    topic += "/device/";
    topic += device.dev_eui.to_string();
    topic += "/event/";
    topic += type;
    return topic;
}

std::string up_event_json(const ns::UplinkEvent& e, const nlohmann::json* object) {
    std::string out;
    out.reserve(768 + 400 * e.rx_info.size());
    out += "{\"deduplicationId\":";
    append_string(out, e.deduplication_id);
    out += ",\"time\":\"";
    out += format_time(e.time);
    out += "\",\"deviceInfo\":";
    append_device_info(out, e.device_info);
    out += ",\"devAddr\":\"";
    out += e.dev_addr.to_string();
    out += "\",\"adr\":";
    out += e.adr ? "true" : "false";
    out += ",\"dr\":";
    append_int(out, e.dr);
    out += ",\"fCnt\":";
    append_int(out, e.f_cnt);
    out += ",\"fPort\":";
    append_int(out, e.f_port.value_or(0));
    out += ",\"confirmed\":";
    out += e.confirmed ? "true" : "false";
    out += ",\"data\":\"";
    out += common::base64_encode(e.data);
    out += '"';
    if (object != nullptr) {
        out += ",\"object\":";
        out += object->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    out += ",\"rxInfo\":[";
    for (std::size_t i = 0; i < e.rx_info.size(); ++i) {
        if (i > 0) out += ',';
        append_rx_info(out, e.rx_info[i]);
    }
    out += ']';
    out += ",\"txInfo\":";
    append_tx_info(out, e.tx_info);
    out += ",\"regionConfigId\":";
    append_string(out, region_config_id);
    out += '}';
    return out;
}

std::string event_json_tree_dump(const ns::Event& event, const nlohmann::json* object) {
    return std::visit(EventToJson{object}, event).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string event_json(const ns::Event& event, const nlohmann::json* object) {
    if (const auto* up = std::get_if<ns::UplinkEvent>(&event)) return up_event_json(*up, object);
    return event_json_tree_dump(event, object);
}

lorawan::Result<DownCommand, std::string> parse_down_command(std::string_view topic,
                                                             std::string_view payload) noexcept {
    try {
        DownCommand cmd;
        if (auto error = read_topic(topic, cmd)) return std::move(*error);
        if (payload.size() > max_down_command_size) {
            return "message: larger than " + std::to_string(max_down_command_size) + " bytes";
        }
        if (!nesting_within(payload, max_down_command_depth)) {
            return "message: nested deeper than " + std::to_string(max_down_command_depth) + " levels";
        }
        const auto doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
        if (doc.is_discarded()) return std::string("message: not JSON");
        if (auto error = read_fields(doc, cmd)) return std::move(*error);
        return cmd;
    } catch (const std::exception&) {
        // Nothing above throws on any input; this is the edge nlohmann's and the allocator's exceptions stop at.
        return std::string("message: could not be read");
    } catch (...) {
        return std::string("message: could not be read");
    }
}

}  // namespace schwebe::mqtt
