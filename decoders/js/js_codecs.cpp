#include "decoders/js/js_codecs.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/gateway_json.hpp"

namespace schwebe::decoders::js {

namespace {

constexpr std::size_t max_source_bytes = 4 << 20;
constexpr std::size_t max_readings = 64;
constexpr unsigned hard_failure_limit = 3;
constexpr std::chrono::seconds rest_after_hard_failures{60};

std::string text_of(const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

/// TS013 `errors` / `warnings`: an array of strings (anything else is printed); absent or null: none.
std::vector<std::string> strings_of(const nlohmann::json& object, const char* key) {
    std::vector<std::string> out;
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return out;
    if (it->is_array()) {
        for (const auto& e : *it) out.push_back(text_of(e));
    } else {
        out.push_back(text_of(*it));
    }
    return out;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

std::optional<std::string> read_file(const std::string& path, std::string& source) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot read " + path;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    source = buffer.str();
    if (source.size() > max_source_bytes) return path + ": larger than 4 MiB";
    return std::nullopt;
}

nlohmann::json byte_array(std::span<const std::uint8_t> bytes) {
    auto array = nlohmann::json::array();
    for (auto b : bytes) array.push_back(b);
    return array;
}

struct NormalizedField {
    const char* group;
    const char* field;
    const char* quantity;
    const char* unit;
};

// The Things Network's normalized payload (lorawan-devices lib/payload.json) → the readings vocabulary (README).
constexpr NormalizedField normalized_fields[] = {
    {"air", "temperature", "temperature", "Cel"},
    {"air", "relativeHumidity", "relative_humidity", "%"},
    {"air", "pressure", "barometric_pressure", "hPa"},
    {"air", "co2", "co2", "ppm"},
    {"air", "lightIntensity", "illuminance", "lx"},
    {"wind", "speed", "wind_speed", "m/s"},
    {"wind", "direction", "wind_direction", "deg"},
    {"soil", "temperature", "soil_temperature", "Cel"},
    {"soil", "moisture", "soil_moisture", "%"},
};

bool valid_quantity(const std::string& q) {
    if (q.empty() || q.size() > 64 || !(q[0] >= 'a' && q[0] <= 'z')) return false;
    for (char c : q) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

/// The extension `readings: [{quantity, value, unit, time?}]`.
void add_extension_readings(const nlohmann::json& list, std::vector<Reading>& out, std::vector<std::string>& warnings) {
    if (list.is_null()) return;
    if (!list.is_array()) {
        warnings.push_back("readings: expected an array");
        return;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& r = list[i];
        const auto where = "readings[" + std::to_string(i) + "]: ";
        if (out.size() >= max_readings) {
            warnings.push_back("readings: more than " + std::to_string(max_readings) + ", the rest ignored");
            return;
        }
        if (!r.is_object()) {
            warnings.push_back(where + "expected an object");
            continue;
        }
        Reading reading;
        const auto q = r.find("quantity");
        if (q == r.end() || !q->is_string() || !valid_quantity(q->get<std::string>())) {
            warnings.push_back(where + "quantity: expected lower-case letters, digits and _");
            continue;
        }
        reading.quantity = q->get<std::string>();
        const auto v = r.find("value");
        if (v != r.end() && v->is_boolean()) {
            reading.value = v->get<bool>() ? 1 : 0;
            reading.boolean = true;
            reading.unit = "1";
        } else if (v != r.end() && v->is_number() && std::isfinite(v->get<double>())) {
            reading.value = v->get<double>();
        } else {
            warnings.push_back(where + "value: expected a finite number or a boolean");
            continue;
        }
        if (const auto u = r.find("unit"); u != r.end()) {
            if (!u->is_string() || u->get<std::string>().size() > 16) {
                warnings.push_back(where + "unit: expected a UCUM code");
                continue;
            }
            reading.unit = u->get<std::string>();
        } else if (!reading.boolean) {
            warnings.push_back(where + "unit: missing");
            continue;
        }
        if (const auto t = r.find("time"); t != r.end() && !t->is_null()) {
            const auto time = t->is_string() ? common::parse_rfc3339(t->get<std::string>()) : std::nullopt;
            if (!time) {
                warnings.push_back(where + "time: expected RFC 3339");
                continue;
            }
            reading.time = *time;
        }
        out.push_back(std::move(reading));
    }
}

}  // namespace

std::vector<Reading> readings_of_normalized(const nlohmann::json& data, std::vector<std::string>& warnings) {
    std::vector<Reading> out;
    const auto add_measurement = [&](const nlohmann::json& m) {
        if (!m.is_object()) return;
        std::optional<SystemTime> time;
        if (const auto t = m.find("time"); t != m.end() && t->is_string()) time = common::parse_rfc3339(t->get<std::string>());
        for (const auto& f : normalized_fields) {
            const auto g = m.find(f.group);
            if (g == m.end() || !g->is_object()) continue;
            const auto v = g->find(f.field);
            if (v == g->end() || v->is_null()) continue;
            if (!v->is_number() || !std::isfinite(v->get<double>())) {
                warnings.push_back(std::string("normalized ") + f.group + "." + f.field + ": not a number");
                continue;
            }
            if (out.size() >= max_readings) return;
            out.push_back(Reading{.quantity = f.quantity, .value = v->get<double>(), .unit = f.unit, .time = time});
        }
    };
    if (data.is_array()) {
        for (const auto& m : data) add_measurement(m);
    } else {
        add_measurement(data);
    }
    return out;
}

DecodeResult decode_result_of(const Reply& reply) {
    if (!reply.ok()) return DecodeResult::failure(reply.error);
    const auto& r = *reply.result;
    if (!r.is_object()) return DecodeResult::failure("decodeUplink returned " + std::string(r.type_name()) + ", not an object");
    if (auto errors = strings_of(r, "errors"); !errors.empty()) return DecodeResult::failure(joined(errors));
    const auto data = r.find("data");
    if (data == r.end() || !data->is_object()) {
        return DecodeResult::failure("decodeUplink returned no data object");
    }
    Decoded decoded;
    decoded.object = *data;
    decoded.warnings = strings_of(r, "warnings");
    if (const auto n = r.find("normalized"); n != r.end() && n->is_object()) {
        // normalizeUplink's own errors leave the decoded payload as it is, without readings from it.
        if (auto errors = strings_of(*n, "errors"); !errors.empty()) {
            decoded.warnings.push_back("normalizeUplink: " + joined(errors));
        } else if (const auto nd = n->find("data"); nd != n->end()) {
            decoded.readings = readings_of_normalized(*nd, decoded.warnings);
            for (auto& w : strings_of(*n, "warnings")) decoded.warnings.push_back("normalizeUplink: " + w);
        }
    }
    if (const auto ext = r.find("readings"); ext != r.end()) add_extension_readings(*ext, decoded.readings, decoded.warnings);
    return DecodeResult::success(std::move(decoded));
}

EncodeResult encode_result_of(const Reply& reply) {
    EncodeResult out;
    if (!reply.ok()) {
        out.error = reply.error;
        return out;
    }
    const auto& r = *reply.result;
    if (!r.is_object()) {
        out.error = "encodeDownlink returned " + std::string(r.type_name()) + ", not an object";
        return out;
    }
    if (auto errors = strings_of(r, "errors"); !errors.empty()) {
        out.error = joined(errors);
        return out;
    }
    out.warnings = strings_of(r, "warnings");
    const auto bytes = r.find("bytes");
    if (bytes == r.end() || !bytes->is_array()) {
        out.error = "encodeDownlink returned no bytes array";
        return out;
    }
    // A failed result carries no bytes (none of the valid ones before the invalid one).
    std::vector<std::uint8_t> valid;
    for (std::size_t i = 0; i < bytes->size(); ++i) {
        const auto& b = (*bytes)[i];
        if (!b.is_number_integer() || b.get<std::int64_t>() < 0 || b.get<std::int64_t>() > 255) {
            out.error = "bytes[" + std::to_string(i) + "]: expected an integer 0..255, got " + b.dump();
            return out;
        }
        valid.push_back(static_cast<std::uint8_t>(b.get<std::int64_t>()));
    }
    if (const auto p = r.find("fPort"); p != r.end() && !p->is_null()) {
        if (!p->is_number_integer() || p->get<std::int64_t>() < 1 || p->get<std::int64_t>() > 223) {
            out.error = "fPort: expected 1..223, got " + p->dump();
            return out;
        }
        out.f_port = static_cast<std::uint8_t>(p->get<std::int64_t>());
    }
    out.bytes = std::move(valid);
    return out;
}

std::optional<std::string> JsCodecs::load_file(const std::string& path) {
    std::string source;
    auto failure = read_file(path, source);
    bool usable = false;
    if (!failure) {
        failure = pool_.load(path, source);
        // A new version that does not compile leaves the one before in use (the pool says so by keeping it).
        usable = !failure || pool_.last_load_kept_previous();
        if (failure) failure = path + ": " + *failure;
    } else {
        // An unreadable file (moved, deleted): the version loaded before stays in use, as with a bad edit.
        const auto before = files_.find(path);
        usable = pool_.loaded(path) && before != files_.end() && !before->second.failure;
    }
    auto& state = files_[path];  // a (re)load starts afresh, without the rest of an earlier version
    state = FileState{};
    state.failure = usable ? std::nullopt : failure;
    state.loaded_at = std::chrono::steady_clock::now();
    return failure;
}

std::vector<std::pair<std::string, std::string>> JsCodecs::reload() {
    std::vector<std::pair<std::string, std::string>> failures;
    for (const auto& path : files()) {
        if (auto failure = load_file(path)) failures.emplace_back(path, *failure);
    }
    return failures;
}

std::vector<std::string> JsCodecs::files() const {
    std::vector<std::string> out;
    for (const auto& [path, state] : files_) out.push_back(path);
    return out;
}

bool JsCodecs::ensure_loaded(std::string_view codec, std::string& reason) {
    const std::string name(codec);
    // A codec whose compiling ended a worker waits for a reload: trying it again would end another.
    if (auto why = pool_.dropped(name)) {
        reason = name + ": " + *why;
        return false;
    }
    auto it = files_.find(codec);
    // A file that failed (missing, not compiling, node not starting) is tried again now and then: the cause may
    // be gone. Between tries its uplinks carry the reason.
    if (it == files_.end() ||
        (it->second.failure && std::chrono::steady_clock::now() - it->second.loaded_at >= std::chrono::seconds{10})) {
        load_file(name);
        it = files_.find(codec);
    }
    if (it->second.failure) {
        reason = *it->second.failure;
        return false;
    }
    return true;
}

bool JsCodecs::resting(std::string_view codec, std::string& reason) {
    const auto it = files_.find(codec);
    if (it == files_.end() || it->second.hard_failures < hard_failure_limit) return false;
    if (std::chrono::steady_clock::now() >= it->second.resting_until) return false;  // one try after the rest
    reason = it->second.rest_reason;
    return true;
}

void JsCodecs::note_outcome(std::string_view codec, const Reply& reply) {
    const auto it = files_.find(codec);
    if (it == files_.end()) return;
    auto& state = it->second;
    const bool hard = !reply.ok() && (reply.error.ends_with("(worker replaced)") ||
                                      reply.error == "the JavaScript workers did not answer in time");
    if (!hard) {
        state.hard_failures = 0;
        return;
    }
    if (++state.hard_failures >= hard_failure_limit) {
        state.resting_until = std::chrono::steady_clock::now() + rest_after_hard_failures;
        state.rest_reason = "not run for " + std::to_string(rest_after_hard_failures.count()) + " s after " +
                            std::to_string(state.hard_failures) + " calls in a row that failed hard, the last: " +
                            reply.error;
    }
}

std::vector<DecodeResult> JsCodecs::decode_uplinks(std::span<const Uplink> uplinks) {
    std::vector<DecodeResult> results(uplinks.size());
    std::vector<nlohmann::json> requests;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < uplinks.size(); ++i) {
        const auto& up = uplinks[i];
        std::string reason;
        if (!ensure_loaded(up.codec, reason) || resting(up.codec, reason)) {
            results[i] = DecodeResult::failure(reason);
            continue;
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(up.input.recv_time.time_since_epoch());
        requests.push_back(nlohmann::json{{"op", "decodeUplink"},
                                          {"codec", up.codec},
                                          {"fPort", up.input.f_port},
                                          {"bytes", byte_array(up.input.bytes)},
                                          {"recvTime", ms.count()}});
        positions.push_back(i);
    }
    const auto replies = pool_.run(requests);
    for (std::size_t k = 0; k < replies.size(); ++k) {
        const auto& up = uplinks[positions[k]];
        results[positions[k]] = decode_result_of(replies[k]);
        note_outcome(up.codec, replies[k]);
    }
    return results;
}

EncodeResult JsCodecs::encode_downlink(std::string_view codec, std::optional<std::uint8_t> f_port,
                                       const nlohmann::json& data) {
    std::string reason;
    if (!ensure_loaded(codec, reason) || resting(codec, reason)) {
        return EncodeResult{.bytes = {}, .f_port = {}, .warnings = {}, .error = reason};
    }
    auto request = nlohmann::json{{"op", "encodeDownlink"}, {"codec", codec}, {"data", data}};
    if (f_port) request["fPort"] = *f_port;
    const auto reply = pool_.run_one(request);
    note_outcome(codec, reply);
    return encode_result_of(reply);
}

DecodeResult JsCodecs::decode_downlink(std::string_view codec, std::uint8_t f_port, std::span<const std::uint8_t> bytes) {
    std::string reason;
    if (!ensure_loaded(codec, reason)) return DecodeResult::failure(reason);
    const auto reply = pool_.run_one(nlohmann::json{{"op", "decodeDownlink"},
                                                    {"codec", codec},
                                                    {"fPort", f_port},
                                                    {"bytes", byte_array(bytes)}});
    auto result = decode_result_of(reply);
    if (!result.ok() && result.error->reason.starts_with("decodeUplink")) {
        result.error->reason.replace(0, 12, "decodeDownlink");
    }
    return result;
}

}  // namespace schwebe::decoders::js
