#include "common/gateway_json.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>

#include "common/base64.hpp"

namespace schwebe::common {

namespace {

namespace chr = std::chrono;

// ---------------------------------------------------------------------------------------------------------------
// Enum names of gw.proto

struct CodeRateName {
    std::string_view semtech;  ///< as LoraModulation::code_rate holds it (Semtech `codr`)
    std::string_view proto;    ///< gw.proto CodeRate
};
// Semtech's "OFF" (no forward error correction) has no name in gw.proto; CR_UNDEFINED is what ChirpStack's bridge
// maps an unknown `codr` to, so the two stand for each other.
constexpr std::array<CodeRateName, 13> code_rate_names{{
    {"4/5", "CR_4_5"},
    {"4/6", "CR_4_6"},
    {"4/7", "CR_4_7"},
    {"4/8", "CR_4_8"},
    {"3/8", "CR_3_8"},
    {"2/6", "CR_2_6"},
    {"1/4", "CR_1_4"},
    {"1/6", "CR_1_6"},
    {"5/6", "CR_5_6"},
    {"4/5LI", "CR_LI_4_5"},
    {"4/6LI", "CR_LI_4_6"},
    {"4/8LI", "CR_LI_4_8"},
    {"OFF", "CR_UNDEFINED"},
}};

std::string_view code_rate_to_proto(std::string_view semtech) {
    for (const auto& n : code_rate_names) {
        if (n.semtech == semtech) return n.proto;
    }
    return "CR_UNDEFINED";
}

// In the order of TxAckStatus, which is gw.proto's order.
constexpr std::array<std::string_view, 12> tx_ack_status_names{
    "IGNORED", "OK",       "TOO_LATE",     "TOO_EARLY",  "COLLISION_PACKET", "COLLISION_BEACON",
    "TX_FREQ", "TX_POWER", "GPS_UNLOCKED", "QUEUE_FULL", "INTERNAL_ERROR",   "DUTY_CYCLE_OVERFLOW",
};

std::string_view crc_status_name(CrcStatus s) {
    switch (s) {
        case CrcStatus::ok: return "CRC_OK";
        case CrcStatus::bad: return "BAD_CRC";
        case CrcStatus::none: return "NO_CRC";
    }
    return "NO_CRC";
}

// ---------------------------------------------------------------------------------------------------------------
// Time: protobuf Timestamp and Duration JSON

/// ".123", ".123456" or ".123456789": the fewest of 0, 3, 6 or 9 digits that hold `ns` (< 1 s) exactly.
std::string fraction_digits(std::uint64_t ns) {
    if (ns == 0) return {};
    std::array<char, 16> buf{};
    int n = 0;
    if (ns % 1'000'000 == 0) {
        n = std::snprintf(buf.data(), buf.size(), ".%03u", static_cast<unsigned>(ns / 1'000'000));
    } else if (ns % 1'000 == 0) {
        n = std::snprintf(buf.data(), buf.size(), ".%06u", static_cast<unsigned>(ns / 1'000));
    } else {
        n = std::snprintf(buf.data(), buf.size(), ".%09u", static_cast<unsigned>(ns));
    }
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

/// A Duration of `count` units of 1/`units_per_second` s (1000 for ms, 10^6 for µs, 10^9 for ns).
std::string format_duration_units(bool negative, std::uint64_t count, std::uint64_t units_per_second) {
    const std::uint64_t seconds = count / units_per_second;
    const std::uint64_t ns = (count % units_per_second) * (1'000'000'000 / units_per_second);
    std::string out = negative && count != 0 ? "-" : "";
    out += std::to_string(seconds);
    out += fraction_digits(ns);
    out += 's';
    return out;
}

std::uint64_t magnitude(std::int64_t v) {
    return v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
}

/// Reads exactly `n` decimal digits.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
}

/// Reads ".d{1,9}" if present: the fraction of a second in ns. False for a '.' without digits or more than 9.
bool read_fraction(std::string_view s, std::size_t& pos, std::int64_t& ns) {
    ns = 0;
    if (pos >= s.size() || s[pos] != '.') return true;
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (++digits > 9) return false;
        ns = ns * 10 + (s[pos] - '0');
        ++pos;
    }
    if (digits == 0) return false;
    for (std::size_t i = digits; i < 9; ++i) ns *= 10;
    return true;
}

// The whole seconds a signed 64-bit nanosecond count can hold, with room for the fraction.
constexpr std::int64_t max_ns_seconds = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;

// ---------------------------------------------------------------------------------------------------------------
// Reading: every reader fails with the path of the field, which the parse_* entry points return as the error.

/// Thrown by the readers below and caught by the entry points of this file: it never leaves it.
struct FieldError {
    std::string message;
};

[[noreturn]] void fail(const std::string& path, std::string_view what) {
    throw FieldError{(path.empty() ? std::string("message") : path) + ": " + std::string(what)};
}

std::string child_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    return parent + "." + std::string(key);
}

std::uint32_t as_u32(const Json& v, const std::string& path) {
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n > std::numeric_limits<std::uint32_t>::max()) fail(path, "out of range");
        return static_cast<std::uint32_t>(n);
    }
    if (v.is_number_integer()) fail(path, "out of range");
    fail(path, "expected an unsigned integer");
}

std::int32_t as_i32(const Json& v, const std::string& path) {
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) fail(path, "out of range");
        return static_cast<std::int32_t>(n);
    }
    if (v.is_number_integer()) {
        const auto n = v.get<std::int64_t>();
        if (n < std::numeric_limits<std::int32_t>::min()) fail(path, "out of range");
        return static_cast<std::int32_t>(n);
    }
    fail(path, "expected an integer");
}

const std::string& as_string(const Json& v, const std::string& path) {
    if (!v.is_string()) fail(path, "expected a string");
    return v.get_ref<const std::string&>();
}

/// A JSON object being read, with its place in the document.
class ObjectReader {
public:
    ObjectReader(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
        if (!json_.is_object()) fail(path_, "expected an object");
    }

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string path(const char* key) const { return child_path(path_, key); }
    [[nodiscard]] bool empty() const { return json_.empty(); }

    /// nullptr when the field is absent or null (protobuf JSON: null stands for the default).
    [[nodiscard]] const Json* find(const char* key) const {
        const auto it = json_.find(key);
        if (it == json_.end() || it->is_null()) return nullptr;
        return &*it;
    }
    [[nodiscard]] const Json& require(const char* key) const {
        const Json* v = find(key);
        if (v == nullptr) fail(path(key), "missing");
        return *v;
    }

    [[nodiscard]] ObjectReader object(const char* key) const { return ObjectReader(require(key), path(key)); }
    [[nodiscard]] std::optional<ObjectReader> optional_object(const char* key) const {
        const Json* v = find(key);
        if (v == nullptr) return std::nullopt;
        return ObjectReader(*v, path(key));
    }

    [[nodiscard]] std::uint32_t u32(const char* key) const { return as_u32(require(key), path(key)); }
    [[nodiscard]] std::uint32_t u32_or(const char* key, std::uint32_t fallback) const {
        const Json* v = find(key);
        return v == nullptr ? fallback : as_u32(*v, path(key));
    }
    [[nodiscard]] std::int32_t i32_or(const char* key, std::int32_t fallback) const {
        const Json* v = find(key);
        return v == nullptr ? fallback : as_i32(*v, path(key));
    }
    [[nodiscard]] std::optional<double> optional_number(const char* key) const {
        const Json* v = find(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number()) fail(path(key), "expected a number");
        return v->get<double>();
    }
    [[nodiscard]] double number_or(const char* key, double fallback) const {
        return optional_number(key).value_or(fallback);
    }
    [[nodiscard]] bool bool_or(const char* key, bool fallback) const {
        const Json* v = find(key);
        if (v == nullptr) return fallback;
        if (!v->is_boolean()) fail(path(key), "expected true or false");
        return v->get<bool>();
    }
    [[nodiscard]] const std::string* optional_string(const char* key) const {
        const Json* v = find(key);
        return v == nullptr ? nullptr : &as_string(*v, path(key));
    }

    [[nodiscard]] Eui64 eui64(const char* key) const {
        const auto id = Eui64::from_hex(as_string(require(key), path(key)));
        if (!id) fail(path(key), "expected 16 hex digits");
        return *id;
    }
    [[nodiscard]] Bytes bytes(const char* key) const {
        auto b = base64_decode(as_string(require(key), path(key)));
        if (!b) fail(path(key), "expected base64");
        return std::move(*b);
    }
    [[nodiscard]] std::optional<SystemTime> optional_timestamp(const char* key) const {
        const std::string* s = optional_string(key);
        if (s == nullptr) return std::nullopt;
        const auto t = parse_rfc3339(*s);
        if (!t) fail(path(key), "expected an RFC 3339 time");
        return t;
    }
    /// A Duration that must not be negative.
    [[nodiscard]] std::optional<chr::nanoseconds> optional_duration(const char* key) const {
        const std::string* s = optional_string(key);
        if (s == nullptr) return std::nullopt;
        const auto d = parse_duration(*s);
        if (!d) fail(path(key), "expected a duration such as \"1.5s\"");
        if (d->count() < 0) fail(path(key), "must not be negative");
        return d;
    }
    [[nodiscard]] chr::nanoseconds duration(const char* key) const {
        const auto d = optional_duration(key);
        if (!d) fail(path(key), "missing");
        return *d;
    }

    /// The elements of an array field that may be absent (protobuf: an empty repeated field is left out).
    [[nodiscard]] const Json::array_t* optional_array(const char* key) const {
        const Json* v = find(key);
        if (v == nullptr) return nullptr;
        if (!v->is_array()) fail(path(key), "expected an array");
        return &v->get_ref<const Json::array_t&>();
    }

private:
    const Json& json_;
    std::string path_;
};

std::string element_path(const std::string& array_path, std::size_t index) {
    return array_path + "[" + std::to_string(index) + "]";
}

/// gw.proto carries the concentrator timestamp as the first 4 bytes of `context`, big endian (as ChirpStack's
/// bridge reads it back for a delayed downlink).
std::uint32_t tmst_from_context(const Bytes& context, const std::string& path) {
    if (context.size() < 4) fail(path, "expected at least 4 bytes (the concentrator timestamp)");
    return (std::uint32_t{context[0]} << 24) | (std::uint32_t{context[1]} << 16) | (std::uint32_t{context[2]} << 8) |
           std::uint32_t{context[3]};
}

std::string context_from_tmst(std::uint32_t tmst) {
    const std::array<std::uint8_t, 4> be{static_cast<std::uint8_t>(tmst >> 24), static_cast<std::uint8_t>(tmst >> 16),
                                         static_cast<std::uint8_t>(tmst >> 8), static_cast<std::uint8_t>(tmst)};
    return base64_encode(be);
}

std::optional<Location> read_location(const ObjectReader& parent) {
    const auto l = parent.optional_object("location");
    // ChirpStack writes "location":{} for a gateway whose position it does not know.
    if (!l || l->empty()) return std::nullopt;
    return Location{l->number_or("latitude", 0), l->number_or("longitude", 0), l->number_or("altitude", 0)};
}

Json location_to_json(const Location& l) {
    return Json{{"latitude", l.latitude}, {"longitude", l.longitude}, {"altitude", l.altitude}};
}

/// The `modulation` object; `polarization_inversion` receives the LoRa flag of a downlink when asked for.
Modulation read_modulation(const ObjectReader& m, bool* polarization_inversion) {
    const auto lora = m.optional_object("lora");
    const auto fsk = m.optional_object("fsk");
    if (lora && fsk) fail(m.path(), "expected one of lora, fsk; got both");
    if (lora) {
        LoraModulation out;
        const std::uint32_t sf = lora->u32("spreadingFactor");
        if (sf < 5 || sf > 12) fail(lora->path("spreadingFactor"), "out of range");
        out.spreading_factor = static_cast<std::uint8_t>(sf);
        out.bandwidth_hz = lora->u32("bandwidth");
        out.code_rate = "OFF";  // protobuf: an absent codeRate is CR_UNDEFINED
        if (const std::string* cr = lora->optional_string("codeRate")) {
            bool known = false;
            for (const auto& n : code_rate_names) {
                if (n.proto == *cr) {
                    out.code_rate = std::string(n.semtech);
                    known = true;
                }
            }
            if (!known) fail(lora->path("codeRate"), "unknown code rate");
        } else if (const std::string* legacy = lora->optional_string("codeRateLegacy")) {
            out.code_rate = *legacy;  // ChirpStack v3 wrote the Semtech form, "4/5"
        }
        if (polarization_inversion != nullptr) *polarization_inversion = lora->bool_or("polarizationInversion", false);
        return out;
    }
    if (fsk) {
        FskModulation out;
        out.bit_rate = fsk->u32("datarate");
        out.frequency_deviation_hz = fsk->u32_or("frequencyDeviation", 0);
        // FSK has no polarization; false is what a parse of our own output gives back.
        if (polarization_inversion != nullptr) *polarization_inversion = false;
        return out;
    }
    if (m.find("lrFhss") != nullptr) fail(m.path("lrFhss"), "LR-FHSS is not supported");
    fail(m.path(), "expected one of lora, fsk");
}

Json modulation_to_json(const Modulation& modulation, std::optional<bool> polarization_inversion) {
    if (const auto* lora = std::get_if<LoraModulation>(&modulation)) {
        Json params{{"bandwidth", lora->bandwidth_hz},
                    {"spreadingFactor", lora->spreading_factor},
                    {"codeRate", code_rate_to_proto(lora->code_rate)}};
        if (polarization_inversion) params["polarizationInversion"] = *polarization_inversion;
        return Json{{"lora", std::move(params)}};
    }
    const auto& fsk = std::get<FskModulation>(modulation);
    return Json{{"fsk", Json{{"frequencyDeviation", fsk.frequency_deviation_hz}, {"datarate", fsk.bit_rate}}}};
}

RxInfo read_rx_info(const ObjectReader& r) {
    RxInfo rx;
    rx.gateway_id = r.eui64("gatewayId");
    rx.uplink_id = r.u32_or("uplinkId", 0);
    if (const auto ns_time = r.optional_timestamp("nsTime")) rx.received_at = *ns_time;
    // ChirpStack 4.0 called the gateway's time "time"; later gw.proto calls it "gwTime".
    rx.time = r.find("time") != nullptr ? r.optional_timestamp("time") : r.optional_timestamp("gwTime");
    if (const auto gps = r.optional_duration("timeSinceGpsEpoch")) {
        rx.gps_time_ms = static_cast<std::uint64_t>(chr::duration_cast<chr::milliseconds>(*gps).count());
    }
    rx.tmst = tmst_from_context(r.bytes("context"), r.path("context"));
    rx.rssi = r.i32_or("rssi", 0);
    rx.snr = r.optional_number("snr");
    rx.channel = r.u32_or("channel", 0);
    rx.rf_chain = r.u32_or("rfChain", 0);
    rx.antenna = r.u32_or("antenna", 0);
    rx.location = read_location(r);
    rx.crc_status = CrcStatus::none;  // protobuf: an absent crcStatus is NO_CRC (0)
    if (const std::string* crc = r.optional_string("crcStatus")) {
        if (*crc == "CRC_OK") {
            rx.crc_status = CrcStatus::ok;
        } else if (*crc == "BAD_CRC") {
            rx.crc_status = CrcStatus::bad;
        } else if (*crc != "NO_CRC") {
            fail(r.path("crcStatus"), "expected CRC_OK, BAD_CRC or NO_CRC");
        }
    }
    return rx;
}

TxInfo read_tx_info(const ObjectReader& r) {
    TxInfo tx;
    tx.frequency_hz = r.u32("frequency");
    tx.modulation = read_modulation(r.object("modulation"), nullptr);
    return tx;
}

Timing read_timing(const ObjectReader& t) {
    const int given = static_cast<int>(t.find("immediately") != nullptr) +
                      static_cast<int>(t.find("delay") != nullptr) + static_cast<int>(t.find("gpsEpoch") != nullptr);
    if (given != 1) fail(t.path(), "expected exactly one of immediately, delay, gpsEpoch");
    if (const auto immediately = t.optional_object("immediately")) return TimingImmediately{};
    if (const auto delay = t.optional_object("delay")) {
        return TimingDelay{chr::duration_cast<chr::microseconds>(delay->duration("delay"))};
    }
    const auto gps = t.object("gpsEpoch");
    return TimingGpsEpoch{chr::duration_cast<chr::milliseconds>(gps.duration("timeSinceGpsEpoch"))};
}

Json timing_to_json(const Timing& timing) {
    if (std::holds_alternative<TimingImmediately>(timing)) return Json{{"immediately", Json::object()}};
    if (const auto* delay = std::get_if<TimingDelay>(&timing)) {
        const auto us = delay->delay.count();
        const auto text = format_duration_units(us < 0, magnitude(us), 1'000'000);
        return Json{{"delay", Json{{"delay", text}}}};
    }
    const auto ms = std::get<TimingGpsEpoch>(timing).since_gps_epoch.count();
    const auto text = format_duration_units(ms < 0, magnitude(ms), 1'000);
    return Json{{"gpsEpoch", Json{{"timeSinceGpsEpoch", text}}}};
}

DownlinkItem read_downlink_item(const ObjectReader& item) {
    DownlinkItem out;
    out.phy_payload = item.bytes("phyPayload");
    const ObjectReader tx = item.object("txInfo");
    out.frequency_hz = tx.u32("frequency");
    out.power_dbm = tx.i32_or("power", 0);
    out.modulation = read_modulation(tx.object("modulation"), &out.polarization_inversion);
    out.timing = read_timing(tx.object("timing"));
    if (tx.find("context") != nullptr) {
        out.context_tmst = tmst_from_context(tx.bytes("context"), tx.path("context"));
    } else if (std::holds_alternative<TimingDelay>(out.timing)) {
        fail(tx.path("context"), "missing (a delay counts from the uplink's timestamp)");
    }
    out.rf_chain = 0;  // gw.proto has no field for it
    return out;
}

/// GatewayStats fields gw.proto has no place for travel in its metadata map (string values).
constexpr const char* metadata_ackr = "ackr";
constexpr const char* metadata_rxfw = "rxfw";
constexpr const char* metadata_ns_time = "ns_time";

std::string double_to_string(double v) {
    std::array<char, 32> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);  // shortest text that reads back exactly
    return std::string(buf.data(), res.ptr);
}

GatewayStats read_gateway_stats(const ObjectReader& r) {
    GatewayStats s;
    s.gateway_id = r.eui64("gatewayId");
    s.time = r.optional_timestamp("time");
    s.location = read_location(r);
    s.rx_received = r.u32_or("rxPacketsReceived", 0);
    s.rx_ok = r.u32_or("rxPacketsReceivedOk", 0);
    s.tx_received = r.u32_or("txPacketsReceived", 0);
    s.tx_emitted = r.u32_or("txPacketsEmitted", 0);
    if (const auto metadata = r.optional_object("metadata")) {
        if (const std::string* ackr = metadata->optional_string(metadata_ackr)) {
            const auto res = std::from_chars(ackr->data(), ackr->data() + ackr->size(), s.ack_ratio);
            if (res.ec != std::errc{} || res.ptr != ackr->data() + ackr->size()) {
                fail(metadata->path(metadata_ackr), "expected a number");
            }
        }
        if (const std::string* rxfw = metadata->optional_string(metadata_rxfw)) {
            const auto res = std::from_chars(rxfw->data(), rxfw->data() + rxfw->size(), s.rx_forwarded);
            if (res.ec != std::errc{} || res.ptr != rxfw->data() + rxfw->size()) {
                fail(metadata->path(metadata_rxfw), "expected an unsigned integer");
            }
        }
        if (const auto ns_time = metadata->optional_timestamp(metadata_ns_time)) s.received_at = *ns_time;
    }
    return s;
}

DownlinkFrame read_downlink_frame(const ObjectReader& r) {
    DownlinkFrame f;
    f.downlink_id = r.u32_or("downlinkId", 0);
    f.gateway_id = r.eui64("gatewayId");
    const auto* items = r.optional_array("items");
    if (items == nullptr || items->empty()) fail(r.path("items"), "expected at least one item");
    for (std::size_t i = 0; i < items->size(); ++i) {
        f.items.push_back(read_downlink_item(ObjectReader((*items)[i], element_path(r.path("items"), i))));
    }
    return f;
}

DownlinkTxAck read_tx_ack(const ObjectReader& r) {
    DownlinkTxAck ack;
    ack.gateway_id = r.eui64("gatewayId");
    ack.downlink_id = r.u32_or("downlinkId", 0);
    if (const auto* items = r.optional_array("items")) {
        for (std::size_t i = 0; i < items->size(); ++i) {
            const ObjectReader item((*items)[i], element_path(r.path("items"), i));
            TxAckStatus status = TxAckStatus::ignored;  // protobuf: an absent status is IGNORED (0)
            if (const std::string* name = item.optional_string("status")) {
                bool known = false;
                for (std::size_t s = 0; s < tx_ack_status_names.size(); ++s) {
                    if (tx_ack_status_names[s] == *name) {
                        status = static_cast<TxAckStatus>(s);
                        known = true;
                    }
                }
                if (!known) fail(item.path("status"), "unknown status");
            }
            ack.items.push_back(status);
        }
    }
    return ack;
}

GatewayConnState read_conn_state(const ObjectReader& r) {
    GatewayConnState s;
    s.gateway_id = r.eui64("gatewayId");
    s.online = false;  // protobuf: an absent state is OFFLINE (0)
    if (const std::string* state = r.optional_string("state")) {
        if (*state == "ONLINE") {
            s.online = true;
        } else if (*state != "OFFLINE") {
            fail(r.path("state"), "expected ONLINE or OFFLINE");
        }
    }
    return s;
}

/// The one place where third-party and reader exceptions stop: parse, read, and turn any failure into the error.
template <class T, class Read>
JsonResult<T> parse_with(std::string_view text, Read read) noexcept {
    try {
        Json json;
        try {
            json = Json::parse(text.begin(), text.end());
        } catch (const Json::parse_error& e) {
            return std::string("message: invalid JSON at byte ") + std::to_string(e.byte);
        }
        return read(ObjectReader(json, ""));
    } catch (const FieldError& e) {
        return e.message;
    } catch (const std::exception& e) {
        // A JSON access this file did not foresee, or memory exhaustion: still a refusal, never a throw.
        return std::string("message: ") + e.what();
    }
}

template <class T, class Read>
JsonResult<T> read_value(const Json& json, Read read) noexcept {
    try {
        return read(ObjectReader(json, ""));
    } catch (const FieldError& e) {
        return e.message;
    } catch (const std::exception& e) {
        return std::string("message: ") + e.what();
    }
}

}  // namespace

// -------------------------------------------------------------------------------------------------------------------
// Time

std::string format_rfc3339(SystemTime t) {
    const auto ns = chr::time_point_cast<chr::nanoseconds>(t);
    const auto day = chr::floor<chr::days>(ns);
    const chr::year_month_day ymd{day};
    const auto in_day = ns - day;
    const auto seconds = chr::floor<chr::seconds>(in_day);
    const chr::hh_mm_ss hms{seconds};
    std::array<char, 40> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                                static_cast<int>(hms.seconds().count()));
    std::string out(buf.data(), static_cast<std::size_t>(n));
    out += fraction_digits(static_cast<std::uint64_t>((in_day - seconds).count()));
    out += 'Z';
    return out;
}

std::optional<SystemTime> parse_rfc3339(std::string_view s) noexcept {
    //  2022-08-03T14:37:43.383634108Z
    //  YYYY-MM-DD T hh:mm:ss [.fraction] (Z | ±hh:mm)
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const auto expect = [&](char c) {
        if (pos >= s.size() || s[pos] != c) return false;
        ++pos;
        return true;
    };
    if (!read_digits(s, pos, 4, year) || !expect('-') || !read_digits(s, pos, 2, month) || !expect('-') ||
        !read_digits(s, pos, 2, day)) {
        return std::nullopt;
    }
    if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return std::nullopt;
    ++pos;
    if (!read_digits(s, pos, 2, hour) || !expect(':') || !read_digits(s, pos, 2, minute) || !expect(':') ||
        !read_digits(s, pos, 2, second)) {
        return std::nullopt;
    }
    std::int64_t fraction_ns = 0;
    if (!read_fraction(s, pos, fraction_ns)) return std::nullopt;
    std::int64_t offset_seconds = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        const bool negative = s[pos] == '-';
        ++pos;
        int oh = 0, om = 0;
        if (!read_digits(s, pos, 2, oh) || !expect(':') || !read_digits(s, pos, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset_seconds = (negative ? -1 : 1) * (std::int64_t{oh} * 3'600 + std::int64_t{om} * 60);
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;

    const chr::year_month_day ymd{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                  chr::day{static_cast<unsigned>(day)}};
    if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const std::int64_t days = chr::sys_days{ymd}.time_since_epoch().count();
    const std::int64_t total_seconds =
        days * 86'400 + std::int64_t{hour} * 3'600 + std::int64_t{minute} * 60 + second - offset_seconds;
    if (total_seconds > max_ns_seconds || total_seconds < -max_ns_seconds) return std::nullopt;
    const chr::nanoseconds since_epoch{total_seconds * 1'000'000'000 + fraction_ns};
    return SystemTime{chr::duration_cast<SystemTime::duration>(since_epoch)};
}

std::string format_duration(chr::nanoseconds d) {
    return format_duration_units(d.count() < 0, magnitude(d.count()), 1'000'000'000);
}

std::optional<chr::nanoseconds> parse_duration(std::string_view s) noexcept {
    std::size_t pos = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (negative) ++pos;
    std::int64_t seconds = 0;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        seconds = seconds * 10 + (s[pos] - '0');
        if (++digits > 11 || seconds > max_ns_seconds) return std::nullopt;
        ++pos;
    }
    if (digits == 0) return std::nullopt;
    std::int64_t fraction_ns = 0;
    if (!read_fraction(s, pos, fraction_ns)) return std::nullopt;
    if (pos + 1 != s.size() || s[pos] != 's') return std::nullopt;
    const std::int64_t ns = seconds * 1'000'000'000 + fraction_ns;
    return chr::nanoseconds{negative ? -ns : ns};
}

// -------------------------------------------------------------------------------------------------------------------
// Writing

Json rx_info_to_json(const RxInfo& rx) {
    Json j{{"gatewayId", rx.gateway_id.to_string()}, {"uplinkId", rx.uplink_id}};
    if (rx.time) j["time"] = format_rfc3339(*rx.time);
    if (rx.gps_time_ms) j["timeSinceGpsEpoch"] = format_duration_units(false, *rx.gps_time_ms, 1'000);
    j["rssi"] = rx.rssi;
    if (rx.snr) j["snr"] = *rx.snr;
    j["channel"] = rx.channel;
    j["rfChain"] = rx.rf_chain;
    j["board"] = 0;
    j["antenna"] = rx.antenna;
    if (rx.location) j["location"] = location_to_json(*rx.location);
    j["context"] = context_from_tmst(rx.tmst);
    j["crcStatus"] = crc_status_name(rx.crc_status);
    j["nsTime"] = format_rfc3339(rx.received_at);
    return j;
}

Json tx_info_to_json(const TxInfo& tx) {
    return Json{{"frequency", tx.frequency_hz}, {"modulation", modulation_to_json(tx.modulation, std::nullopt)}};
}

std::string to_gateway_json(const UplinkFrame& frame) {
    const Json j{{"phyPayload", base64_encode(frame.phy_payload)},
                 {"txInfo", tx_info_to_json(frame.tx_info)},
                 {"rxInfo", rx_info_to_json(frame.rx_info)}};
    return j.dump();
}

std::string to_gateway_json(const GatewayStats& stats) {
    Json j{{"gatewayId", stats.gateway_id.to_string()}};
    if (stats.time) j["time"] = format_rfc3339(*stats.time);
    if (stats.location) j["location"] = location_to_json(*stats.location);
    j["rxPacketsReceived"] = stats.rx_received;
    j["rxPacketsReceivedOk"] = stats.rx_ok;
    j["txPacketsReceived"] = stats.tx_received;
    j["txPacketsEmitted"] = stats.tx_emitted;
    j["metadata"] = Json{{metadata_ackr, double_to_string(stats.ack_ratio)},
                         {metadata_rxfw, std::to_string(stats.rx_forwarded)},
                         {metadata_ns_time, format_rfc3339(stats.received_at)}};
    return j.dump();
}

std::string to_gateway_json(const DownlinkFrame& frame) {
    Json items = Json::array();
    for (const DownlinkItem& item : frame.items) {
        items.push_back(
            Json{{"phyPayload", base64_encode(item.phy_payload)},
                 {"txInfo", Json{{"frequency", item.frequency_hz},
                                 {"power", item.power_dbm},
                                 {"modulation", modulation_to_json(item.modulation, item.polarization_inversion)},
                                 {"board", 0},
                                 {"antenna", 0},
                                 {"timing", timing_to_json(item.timing)},
                                 {"context", context_from_tmst(item.context_tmst)}}}});
    }
    const Json j{
        {"downlinkId", frame.downlink_id}, {"gatewayId", frame.gateway_id.to_string()}, {"items", std::move(items)}};
    return j.dump();
}

std::string to_gateway_json(const DownlinkTxAck& ack) {
    Json items = Json::array();
    for (const TxAckStatus s : ack.items) {
        const auto index = static_cast<std::size_t>(s);
        items.push_back(Json{{"status", index < tx_ack_status_names.size() ? tx_ack_status_names[index] : "IGNORED"}});
    }
    const Json j{
        {"gatewayId", ack.gateway_id.to_string()}, {"downlinkId", ack.downlink_id}, {"items", std::move(items)}};
    return j.dump();
}

std::string to_gateway_json(const GatewayConnState& state) {
    const Json j{{"gatewayId", state.gateway_id.to_string()}, {"state", state.online ? "ONLINE" : "OFFLINE"}};
    return j.dump();
}

// -------------------------------------------------------------------------------------------------------------------
// Parsing

JsonResult<UplinkFrame> parse_uplink_frame(std::string_view json) noexcept {
    return parse_with<UplinkFrame>(json, [](const ObjectReader& r) {
        UplinkFrame f;
        f.phy_payload = r.bytes("phyPayload");
        f.tx_info = read_tx_info(r.object("txInfo"));
        f.rx_info = read_rx_info(r.object("rxInfo"));
        return f;
    });
}

JsonResult<GatewayStats> parse_gateway_stats(std::string_view json) noexcept {
    return parse_with<GatewayStats>(json, read_gateway_stats);
}

JsonResult<DownlinkFrame> parse_downlink_frame(std::string_view json) noexcept {
    return parse_with<DownlinkFrame>(json, read_downlink_frame);
}

JsonResult<DownlinkTxAck> parse_downlink_tx_ack(std::string_view json) noexcept {
    return parse_with<DownlinkTxAck>(json, read_tx_ack);
}

JsonResult<GatewayConnState> parse_gateway_conn_state(std::string_view json) noexcept {
    return parse_with<GatewayConnState>(json, read_conn_state);
}

JsonResult<RxInfo> rx_info_from_json(const Json& json) noexcept {
    return read_value<RxInfo>(json, read_rx_info);
}

JsonResult<TxInfo> tx_info_from_json(const Json& json) noexcept {
    return read_value<TxInfo>(json, read_tx_info);
}

}  // namespace schwebe::common
