#include "app/registry_json.hpp"

#include <filesystem>

#include "decoders/codec.hpp"
#include "decoders/js/js_codecs.hpp"
#include "integrations/sqlite/database.hpp"
#include "lorawan/bytes.hpp"

namespace schwebe::app {

using Json = nlohmann::ordered_json;

namespace {

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (n == 0 || i + n > text.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
        }
        i += n;
    }
    return true;
}

template <class T>
Json text_or_null(const std::optional<T>& value) {
    return value ? Json(value->to_string()) : Json(nullptr);
}

template <class Key>
const char* key_state(const std::optional<Key>& key) {
    return key ? "set" : "not set";
}

}  // namespace

nlohmann::ordered_json profile_json(const ns::DeviceProfile& p) {
    return Json{{"id", p.id},
                {"name", p.name},
                {"region", p.region},
                {"mac_version", ns::to_string(p.mac_version)},
                {"activation", ns::to_string(p.activation)},
                {"f_cnt_mode", ns::to_string(p.f_cnt_mode)},
                {"adr_enabled", p.adr_enabled},
                {"adr_margin_db", p.adr_margin_db},
                {"rx1_delay_s", p.rx1_delay_s},
                {"rx1_dr_offset", p.rx1_dr_offset},
                {"rx2_dr", p.rx2_dr},
                {"rx2_frequency_hz", p.rx2_frequency_hz},
                {"codec", p.codec},
                {"dev_status_interval_s", p.dev_status_interval.count()}};
}

Names::Names(sqlite::SqliteDeviceRegistry& registry) {
    for (const auto& a : registry.list_applications()) applications[a.id] = a.name;
    for (const auto& p : registry.list_device_profiles()) {
        profiles[p.id] = p.name;
        activations[p.id] = p.activation;
    }
}

namespace {
std::string lookup(const std::map<std::string, std::string>& names, const std::string& id) {
    const auto it = names.find(id);
    return it == names.end() ? id : it->second;
}
}  // namespace

std::string Names::application(const std::string& id) const {
    return lookup(applications, id);
}
std::string Names::profile(const std::string& id) const {
    return lookup(profiles, id);
}
std::string Names::activation(const std::string& id) const {
    const auto it = activations.find(id);
    return it == activations.end() ? "?" : std::string(ns::to_string(it->second));
}

/// Everything about a device but its keys, of which only whether each is set.
nlohmann::ordered_json device_json(const ns::Device& d, const Names& names) {
    Json j{{"dev_eui", d.dev_eui.to_string()},
           {"name", d.name},
           {"application", {{"id", d.application_id}, {"name", names.application(d.application_id)}}},
           {"device_profile", {{"id", d.device_profile_id}, {"name", names.profile(d.device_profile_id)}}},
           {"activation", names.activation(d.device_profile_id)},
           {"join_eui", text_or_null(d.join_eui)},
           {"dev_addr", text_or_null(d.dev_addr)},
           {"app_key", key_state(d.app_key)},
           {"nwk_s_key", key_state(d.nwk_s_key)},
           {"app_s_key", key_state(d.app_s_key)},
           {"tags", d.tags}};
    j["location"] = d.location ? Json{{"latitude", d.location->latitude},
                                      {"longitude", d.location->longitude},
                                      {"altitude", d.location->altitude}}
                               : Json(nullptr);
    return j;
}

bool resolve_codec(const std::string& given, std::string& stored, std::string& error) {
    if (decoders::js::is_js_codec(given)) {
        std::error_code ec;
        const auto path = std::filesystem::absolute(given, ec);
        if (ec || !std::filesystem::is_regular_file(path, ec)) {
            error = "no file " + given;
            return false;
        }
        // The path travels in JSON (events, logs, the workers' protocol): it must be text.
        if (!valid_utf8(path.lexically_normal().string())) {
            error = "the path is not UTF-8";
            return false;
        }
        stored = path.lexically_normal().string();
        return true;
    }
    if (!decoders::CodecRegistry::with_native_codecs().find(given)) {
        std::string names;
        for (const auto& n : decoders::CodecRegistry::with_native_codecs().names()) names += " " + n;
        error = "expected a JavaScript codec file (.js) or one of" + names + ", got '" + given + "'";
        return false;
    }
    stored = given;
    return true;
}

nlohmann::ordered_json queue_item_json(const ns::QueueItem& item) {
    return Json{{"id", item.id},
                {"f_port", item.f_port},
                {"data", lorawan::to_hex(item.data)},
                {"confirmed", item.confirmed},
                {"created_at", sqlite::format_timestamp(item.created_at)},
                {"f_cnt_down", item.f_cnt_down ? Json(*item.f_cnt_down) : Json(nullptr)},
                {"attempts", item.attempts}};
}

}  // namespace schwebe::app
