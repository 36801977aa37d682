// The Semtech UDP packet-forwarder protocol, pure. Field names, types and rules cite shared/reference/semtech-udp.md
// (a summary of PROTOCOL.TXT rev 1.4 and lora_pkt_fwd v4.0.1), "§n" below.
//
// PUSH_DATA JSON is read with simdjson's On-Demand API: one parser and one padded buffer live as long as the
// PushDataParser, so a datagram costs a copy into the buffer and the values returned, nothing else. simdjson is
// driven through its error codes only; no simdjson exception can leave this file.

#include "gateway-bridge/semtech_packet.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "common/base64.hpp"

namespace schwebe::bridge {

namespace ondemand = simdjson::ondemand;
using common::RxInfo;
using common::SystemTime;

std::string_view to_string(PacketError e) noexcept {
    switch (e) {
        case PacketError::too_short: return "too_short";
        case PacketError::unsupported_version: return "unsupported_version";
        case PacketError::unknown_identifier: return "unknown_identifier";
        case PacketError::unexpected_direction: return "unexpected_direction";
        case PacketError::too_large: return "too_large";
        case PacketError::invalid_json: return "invalid_json";
        case PacketError::wrong_json_type: return "wrong_json_type";
        case PacketError::invalid_base64: return "invalid_base64";
        case PacketError::size_mismatch: return "size_mismatch";
        case PacketError::crc_not_ok: return "crc_not_ok";
        case PacketError::invalid_datarate: return "invalid_datarate";
        case PacketError::invalid_modulation: return "invalid_modulation";
    }
    return "unknown";
}

// ---- Header (§2) ----
//
//   0         1    2    3            4 … 11                  12 …
//   | version | token   | identifier | gateway EUI, MSB first | JSON  (PUSH_DATA, PULL_DATA, TX_ACK)
//   | version | token   | identifier | JSON from byte 4               (PULL_RESP, server → gateway)

namespace {
constexpr std::size_t header_size = 4;
constexpr std::size_t gateway_header_size = 12;
}  // namespace

lorawan::Result<Header, PacketError> parse_header(ByteView datagram) noexcept {
    if (datagram.size() < header_size) return PacketError::too_short;
    if (datagram.size() > max_datagram_size) return PacketError::too_large;

    lorawan::ByteReader r{datagram};
    Header h;
    h.version = *r.u8();
    // §2: version 2 is current; version 1 is the same protocol without TX_ACK.
    if (h.version != 1 && h.version != 2) return PacketError::unsupported_version;
    const ByteView token = *r.take(2);
    h.token = {token[0], token[1]};
    const std::uint8_t identifier = *r.u8();
    if (identifier > static_cast<std::uint8_t>(PacketType::tx_ack)) return PacketError::unknown_identifier;
    h.type = static_cast<PacketType>(identifier);

    switch (h.type) {
        case PacketType::push_ack:
        case PacketType::pull_resp:
        case PacketType::pull_ack: return PacketError::unexpected_direction;
        case PacketType::push_data:
        case PacketType::pull_data:
        case PacketType::tx_ack: break;
    }
    // §2: the gateway→server messages carry the gateway EUI in bytes 4..11.
    if (datagram.size() < gateway_header_size) return PacketError::too_short;
    const ByteView eui = *r.take(8);
    Eui64::Array eui_bytes{};
    std::copy(eui.begin(), eui.end(), eui_bytes.begin());
    h.gateway_id = Eui64{eui_bytes};
    h.json = r.rest();
    return h;
}

std::array<std::uint8_t, 4> make_ack(const Header& request) noexcept {
    // §2: the ack repeats the request's version and token; PUSH_DATA gets PUSH_ACK, PULL_DATA gets PULL_ACK (TX_ACK
    // has no ack at all, so a caller never asks for one).
    const PacketType answer = request.type == PacketType::push_data ? PacketType::push_ack : PacketType::pull_ack;
    return {request.version, request.token[0], request.token[1], static_cast<std::uint8_t>(answer)};
}

// ---- Reading JSON values ----

namespace {

// A problem with one value. Type problems (a string where a number belongs, a number out of range) stay inside
// their rxpk; anything else means the text is not JSON, and simdjson cannot walk it any further.
bool is_type_error(simdjson::error_code e) noexcept {
    return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE;
}

// On-Demand looks at a value only when asked for one type, so "not that type" may also mean "not JSON at all" (an
// atom such as NONE). It is a type error only if the value has some JSON type.
simdjson::error_code confirm_type_error(ondemand::value& v, simdjson::error_code e) noexcept {
    if (!is_type_error(e)) return e;
    ondemand::json_type type{};
    return v.type().get(type) == simdjson::SUCCESS ? e : simdjson::TAPE_ERROR;
}

simdjson::error_code read_u32(ondemand::value& v, std::optional<std::uint32_t>& out) noexcept {
    std::uint64_t n = 0;
    if (const auto e = v.get_uint64().get(n)) return e;
    if (n > std::numeric_limits<std::uint32_t>::max()) return simdjson::NUMBER_OUT_OF_RANGE;
    out = static_cast<std::uint32_t>(n);
    return simdjson::SUCCESS;
}

simdjson::error_code read_u64(ondemand::value& v, std::optional<std::uint64_t>& out) noexcept {
    std::uint64_t n = 0;
    if (const auto e = v.get_uint64().get(n)) return e;
    out = n;
    return simdjson::SUCCESS;
}

simdjson::error_code read_i64(ondemand::value& v, std::optional<std::int64_t>& out) noexcept {
    std::int64_t n = 0;
    if (const auto e = v.get_int64().get(n)) return e;
    out = n;
    return simdjson::SUCCESS;
}

simdjson::error_code read_double(ondemand::value& v, std::optional<double>& out) noexcept {
    double d = 0;
    if (const auto e = v.get_double().get(d)) return e;
    out = d;
    return simdjson::SUCCESS;
}

// §3: rssi is a signed integer; lora_pkt_fwd prints it with "%.0f", so a number with a fraction is rounded rather
// than refused.
simdjson::error_code read_dbm(ondemand::value& v, std::optional<std::int32_t>& out) noexcept {
    double d = 0;
    if (const auto e = v.get_double().get(d)) return e;
    if (!(d >= std::numeric_limits<std::int32_t>::min() && d <= std::numeric_limits<std::int32_t>::max())) {
        return simdjson::NUMBER_OUT_OF_RANGE;
    }
    out = static_cast<std::int32_t>(std::lround(d));
    return simdjson::SUCCESS;
}

// §3: freq is in MHz "with Hz precision"; rounding to the nearest Hz undoes the binary fraction (866.349812 MHz is
// 866349811.99999… Hz as a double).
simdjson::error_code read_frequency_hz(ondemand::value& v, std::optional<std::uint32_t>& out) noexcept {
    double mhz = 0;
    if (const auto e = v.get_double().get(mhz)) return e;
    const double hz = std::round(mhz * 1e6);
    if (!(hz >= 0 && hz <= std::numeric_limits<std::uint32_t>::max())) return simdjson::NUMBER_OUT_OF_RANGE;
    out = static_cast<std::uint32_t>(hz);
    return simdjson::SUCCESS;
}

// The view points into the parser's string buffer, valid until the next document: long enough for one parse.
simdjson::error_code read_string(ondemand::value& v, std::optional<std::string_view>& out) noexcept {
    std::string_view s;
    if (const auto e = v.get_string().get(s)) return e;
    out = s;
    return simdjson::SUCCESS;
}

// Fixed-width decimal field of a timestamp; nullopt unless all `width` characters are digits.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t width) noexcept {
    if (pos + width > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

// §3 rxpk.time: ISO 8601 "compact", UTC, e.g. "2013-03-31T16:21:17.528002Z" (the fraction is optional and of any
// length up to ns). Anything else is nullopt: a gateway's clock is a hint, never a reason to drop a frame.
std::optional<SystemTime> parse_compact_time(std::string_view s) noexcept {
    using namespace std::chrono;
    //   0    5  8  11 14 17
    //   YYYY-MM-DDTHH:MM:SS[.f…]Z
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    const auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    const auto h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
    if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
    // system_clock counts ns in 64 bits on this platform: years outside ~1678..2262 would overflow it.
    if (*y < 1970 || *y > 2200 || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!date.ok()) return std::nullopt;

    std::size_t pos = 19;
    nanoseconds fraction{0};
    if (s[pos] == '.') {
        ++pos;
        std::int64_t ns = 0;
        int count = 0;
        for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++count) {
            if (count >= 9) return std::nullopt;
            ns = ns * 10 + (s[pos] - '0');
        }
        if (count == 0) return std::nullopt;
        for (int i = count; i < 9; ++i) ns *= 10;
        fraction = nanoseconds{ns};
    }
    if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
    const auto t = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*sec} + fraction;
    return time_point_cast<SystemTime::duration>(t);
}

// §3 rxpk.datr for LoRa: "SF{5..12}BW{125,250,500}" (SF5/SF6 exist on SX1302 concentrators).
std::optional<common::LoraModulation> parse_lora_datarate(std::string_view s) noexcept {
    if (s.size() < 7 || s.substr(0, 2) != "SF") return std::nullopt;
    const std::size_t bw = s.find("BW", 2);
    if (bw == std::string_view::npos) return std::nullopt;
    const std::string_view sf_text = s.substr(2, bw - 2);
    const std::string_view bw_text = s.substr(bw + 2);
    if (sf_text.empty() || sf_text.size() > 2 || sf_text[0] == '0') return std::nullopt;
    unsigned sf = 0;
    auto r = std::from_chars(sf_text.data(), sf_text.data() + sf_text.size(), sf);
    if (r.ec != std::errc{} || r.ptr != sf_text.data() + sf_text.size() || sf < 5 || sf > 12) return std::nullopt;
    common::LoraModulation m;
    m.spreading_factor = static_cast<std::uint8_t>(sf);
    if (bw_text == "125") {
        m.bandwidth_hz = 125'000;
    } else if (bw_text == "250") {
        m.bandwidth_hz = 250'000;
    } else if (bw_text == "500") {
        m.bandwidth_hz = 500'000;
    } else {
        return std::nullopt;
    }
    return m;
}

// One entry of the multi-antenna `rsig` array (later forwarders, §3 "per-antenna rsig arrays").
struct AntennaReading {
    std::optional<std::uint32_t> antenna;
    std::optional<std::uint32_t> channel;
    std::optional<std::int32_t> rssi;   // rssic: channel RSSI, what the plain form's rssi is
    std::optional<std::int32_t> rssis;  // signal RSSI, the fallback
    std::optional<double> snr;
};

// The fields of one rxpk as read, before any rule is checked (JSON fields come in any order).
struct RxpkFields {
    std::optional<SystemTime> time;
    std::optional<std::uint64_t> tmms;
    std::optional<std::uint32_t> tmst;
    std::optional<std::uint32_t> frequency_hz;
    std::optional<std::uint32_t> chan;
    std::optional<std::uint32_t> rfch;
    std::optional<std::int64_t> stat;
    std::optional<std::string_view> modu;
    std::optional<std::string_view> datr_text;
    std::optional<double> datr_number;
    std::optional<std::string_view> codr;
    std::optional<std::int32_t> rssi;
    std::optional<double> lsnr;
    std::optional<std::uint64_t> size;
    std::optional<std::string_view> data;
};

// The outcome of one rxpk: kept, refused on its own, or a JSON error that refuses the datagram.
struct RxpkOutcome {
    std::optional<PacketError> refused;
    bool fatal = false;
};

// Walking the members of an object failed: the text is broken there, whatever code simdjson chose to say so.
simdjson::error_code as_structural(simdjson::error_code e) noexcept {
    return is_type_error(e) ? simdjson::TAPE_ERROR : e;
}

RxpkOutcome refuse(PacketError e) noexcept {
    return {e, false};
}
RxpkOutcome from_error(simdjson::error_code e) noexcept {
    if (is_type_error(e)) return {PacketError::wrong_json_type, false};
    return {PacketError::invalid_json, true};
}

}  // namespace

// ---- PUSH_DATA (§3) ----

struct PushDataParser::Impl {
    ondemand::parser parser;
    std::vector<char> buffer;              // the JSON, followed by SIMDJSON_PADDING bytes simdjson may read
    std::vector<AntennaReading> antennas;  // the current rxpk's rsig entries

    Impl() {
        buffer.resize(max_datagram_size + simdjson::SIMDJSON_PADDING);
        antennas.reserve(8);
        // Reserve the parser's indexes once for the largest datagram. Should this fail, iterate() allocates (and
        // reports a failure) itself.
        [[maybe_unused]] const simdjson::error_code reserved = parser.allocate(max_datagram_size);
    }

    lorawan::Result<PushData, PacketError> parse(ByteView json, const Eui64& gateway_id, SystemTime received_at,
                                                 std::uint32_t& uplink_id_counter);
    RxpkOutcome parse_rxpk(ondemand::value& element, RxPacket& out, const Eui64& gateway_id, SystemTime received_at,
                           std::uint32_t& uplink_id_counter);
    simdjson::error_code read_rsig(ondemand::value& v);
    static simdjson::error_code read_stat(ondemand::value& v, Stat& out);
};

PushDataParser::PushDataParser() : impl_(std::make_unique<Impl>()) {}
PushDataParser::~PushDataParser() = default;

lorawan::Result<PushData, PacketError> PushDataParser::parse(ByteView json, const Eui64& gateway_id,
                                                             SystemTime received_at, std::uint32_t& uplink_id_counter) {
    return impl_->parse(json, gateway_id, received_at, uplink_id_counter);
}

lorawan::Result<PushData, PacketError> PushDataParser::Impl::parse(ByteView json, const Eui64& gateway_id,
                                                                   SystemTime received_at,
                                                                   std::uint32_t& uplink_id_counter) {
    // simdjson reads up to SIMDJSON_PADDING bytes past the text; a UDP datagram has no such slack, hence the copy.
    if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) {
        buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
    }
    if (!json.empty()) std::memcpy(buffer.data(), json.data(), json.size());
    std::memset(buffer.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);

    ondemand::document doc;
    if (parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc) != simdjson::SUCCESS) {
        return PacketError::invalid_json;
    }
    ondemand::object root;
    if (doc.get_object().get(root) != simdjson::SUCCESS) return PacketError::invalid_json;

    PushData out;
    std::size_t index = 0;  // position in the rxpk array(s)
    for (auto field_result : root) {
        ondemand::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return PacketError::invalid_json;
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return PacketError::invalid_json;

        if (key == "rxpk") {
            ondemand::value& value = field.value();
            ondemand::array rxpk;
            if (const auto e = confirm_type_error(value, value.get_array().get(rxpk))) {
                return is_type_error(e) ? PacketError::wrong_json_type : PacketError::invalid_json;
            }
            for (auto element_result : rxpk) {
                ondemand::value element;
                if (element_result.get(element) != simdjson::SUCCESS) return PacketError::invalid_json;
                RxPacket packet;
                const RxpkOutcome outcome = parse_rxpk(element, packet, gateway_id, received_at, uplink_id_counter);
                if (outcome.fatal) return PacketError::invalid_json;
                if (outcome.refused) {
                    out.rejected.push_back({index, *outcome.refused});
                } else {
                    out.rxpk.push_back(std::move(packet));
                }
                ++index;
            }
        } else if (key == "stat") {
            Stat stat;
            if (const auto e = read_stat(field.value(), stat)) {
                return is_type_error(e) ? PacketError::wrong_json_type : PacketError::invalid_json;
            }
            out.stat = std::move(stat);
        }
        // §3: unknown fields must be ignored; On-Demand skips what is not read.
    }
    // Trailing text after the root object ("{…} x"): not one JSON document.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) return PacketError::invalid_json;
    return out;
}

RxpkOutcome PushDataParser::Impl::parse_rxpk(ondemand::value& element, RxPacket& out, const Eui64& gateway_id,
                                             SystemTime received_at, std::uint32_t& uplink_id_counter) {
    ondemand::object object;
    if (const auto e = element.get_object().get(object)) return from_error(confirm_type_error(element, e));

    RxpkFields f;
    antennas.clear();
    for (auto field_result : object) {
        ondemand::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return {PacketError::invalid_json, true};
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return {PacketError::invalid_json, true};
        ondemand::value& v = field.value();

        simdjson::error_code e = simdjson::SUCCESS;
        if (key == "time") {
            std::optional<std::string_view> text;
            e = read_string(v, text);
            if (!e) f.time = parse_compact_time(*text);
        } else if (key == "tmms") {
            e = read_u64(v, f.tmms);
        } else if (key == "tmst") {
            e = read_u32(v, f.tmst);
        } else if (key == "freq") {
            e = read_frequency_hz(v, f.frequency_hz);
        } else if (key == "chan") {
            e = read_u32(v, f.chan);
        } else if (key == "rfch") {
            e = read_u32(v, f.rfch);
        } else if (key == "stat") {
            e = read_i64(v, f.stat);
        } else if (key == "modu") {
            e = read_string(v, f.modu);
        } else if (key == "datr") {
            // §3: a string for LoRa, a number (bit rate) for FSK; which one is checked against modu below.
            ondemand::json_type type{};
            e = v.type().get(type);
            if (!e && type == ondemand::json_type::string) {
                e = read_string(v, f.datr_text);
                f.datr_number.reset();
            } else if (!e && type == ondemand::json_type::number) {
                e = read_double(v, f.datr_number);
                f.datr_text.reset();
            } else if (!e) {
                e = simdjson::INCORRECT_TYPE;
            }
        } else if (key == "codr") {
            e = read_string(v, f.codr);
        } else if (key == "rssi") {
            e = read_dbm(v, f.rssi);
        } else if (key == "lsnr") {
            e = read_double(v, f.lsnr);
        } else if (key == "size") {
            e = read_u64(v, f.size);
        } else if (key == "data") {
            e = read_string(v, f.data);
        } else if (key == "rsig") {
            antennas.clear();
            e = read_rsig(v);
        }
        if (e) return from_error(confirm_type_error(v, e));
    }

    // Required by every server (§3; lora_pkt_fwd always writes them): rssi may come per antenna instead.
    if (!f.tmst || !f.frequency_hz || !f.stat || !f.modu || !(f.datr_text || f.datr_number) || !f.size || !f.data) {
        return refuse(PacketError::wrong_json_type);
    }
    for (const AntennaReading& a : antennas) {
        if (!a.rssi && !a.rssis && !f.rssi) return refuse(PacketError::wrong_json_type);
    }
    if (antennas.empty() && !f.rssi) return refuse(PacketError::wrong_json_type);

    // §3 stat: 1 is CRC OK, -1 bad CRC, 0 no CRC; "a server must drop anything but 1".
    if (*f.stat != 1) return refuse(PacketError::crc_not_ok);

    if (*f.modu == "LORA") {
        if (!f.datr_text) return refuse(PacketError::invalid_datarate);
        auto lora = parse_lora_datarate(*f.datr_text);
        if (!lora) return refuse(PacketError::invalid_datarate);
        // LoRaWAN devices transmit at coding rate 4/5; a gateway that omits codr is taken to mean it.
        if (f.codr) lora->code_rate.assign(f.codr->data(), f.codr->size());
        out.frame.tx_info.modulation = std::move(*lora);
    } else if (*f.modu == "FSK") {
        // The FSK bit rate is a whole number of bit/s in a uint32 (lora_pkt_fwd prints it with "%u").
        if (!f.datr_number) return refuse(PacketError::invalid_datarate);
        const double rate = *f.datr_number;
        if (!(rate >= 1 && rate <= std::numeric_limits<std::uint32_t>::max()) || std::floor(rate) != rate) {
            return refuse(PacketError::invalid_datarate);
        }
        // rxpk does not report the frequency deviation: 0 stands for "not known" (it matters for downlinks only).
        out.frame.tx_info.modulation = common::FskModulation{static_cast<std::uint32_t>(rate), 0};
    } else {
        return refuse(PacketError::invalid_modulation);
    }

    auto payload = common::base64_decode(*f.data);
    if (!payload) return refuse(PacketError::invalid_base64);
    if (payload->size() != *f.size) return refuse(PacketError::size_mismatch);

    out.frame.phy_payload = std::move(*payload);
    out.frame.tx_info.frequency_hz = *f.frequency_hz;

    RxInfo base;
    base.gateway_id = gateway_id;
    base.received_at = received_at;
    base.time = f.time;
    base.gps_time_ms = f.tmms;
    base.tmst = *f.tmst;
    base.rssi = f.rssi.value_or(0);
    base.snr = f.lsnr;
    base.channel = f.chan.value_or(0);
    base.rf_chain = f.rfch.value_or(0);
    base.crc_status = common::CrcStatus::ok;

    if (antennas.empty()) {
        base.uplink_id = ++uplink_id_counter;
        out.frame.rx_info = base;
        return {};
    }
    out.more_antennas.reserve(antennas.size() - 1);
    for (std::size_t i = 0; i < antennas.size(); ++i) {
        const AntennaReading& a = antennas[i];
        RxInfo info = base;
        info.antenna = a.antenna.value_or(0);
        info.channel = a.channel.value_or(base.channel);
        // The channel RSSI (rssic) is what the plain form's rssi reports; rssis (signal RSSI) is the fallback.
        info.rssi = a.rssi ? *a.rssi : a.rssis ? *a.rssis : base.rssi;
        if (a.snr) info.snr = a.snr;
        info.uplink_id = ++uplink_id_counter;
        if (i == 0) {
            out.frame.rx_info = info;
        } else {
            out.more_antennas.push_back(info);
        }
    }
    return {};
}

// rsig: [{"ant":0,"chan":1,"rssic":-40,"lsnr":9.5,…}, …]. Unknown members (etime, foff, ftime, rssisd…) ignored.
simdjson::error_code PushDataParser::Impl::read_rsig(ondemand::value& v) {
    ondemand::array array;
    if (const auto e = v.get_array().get(array)) return e;
    for (auto entry_result : array) {
        ondemand::value entry;
        if (const auto e = entry_result.get(entry)) return as_structural(e);
        ondemand::object object;
        if (const auto e = entry.get_object().get(object)) return confirm_type_error(entry, e);
        AntennaReading a;
        for (auto field_result : object) {
            ondemand::field field;
            if (const auto e = std::move(field_result).get(field)) return as_structural(e);
            std::string_view key;
            if (const auto e = field.unescaped_key().get(key)) return as_structural(e);
            ondemand::value& fv = field.value();
            simdjson::error_code e = simdjson::SUCCESS;
            if (key == "ant") {
                e = read_u32(fv, a.antenna);
            } else if (key == "chan") {
                e = read_u32(fv, a.channel);
            } else if (key == "rssic") {
                e = read_dbm(fv, a.rssi);
            } else if (key == "rssis") {
                e = read_dbm(fv, a.rssis);
            } else if (key == "lsnr") {
                e = read_double(fv, a.snr);
            }
            if (e) return confirm_type_error(fv, e);
        }
        antennas.push_back(a);
    }
    return simdjson::SUCCESS;
}

// §3 stat. A member of the wrong type is left absent (a gateway's statistics are informative); only a stat that is
// not an object, or text that is not JSON, is an error.
simdjson::error_code PushDataParser::Impl::read_stat(ondemand::value& v, Stat& out) {
    ondemand::object object;
    if (const auto e = v.get_object().get(object)) return confirm_type_error(v, e);
    std::optional<double> lati, longi, alti;
    for (auto field_result : object) {
        ondemand::field field;
        if (const auto e = std::move(field_result).get(field)) return as_structural(e);
        std::string_view key;
        if (const auto e = field.unescaped_key().get(key)) return as_structural(e);
        ondemand::value& fv = field.value();
        simdjson::error_code e = simdjson::SUCCESS;
        if (key == "time") {
            std::optional<std::string_view> text;
            e = read_string(fv, text);
            if (!e) out.time = std::string{*text};
        } else if (key == "lati") {
            e = read_double(fv, lati);
        } else if (key == "long") {
            e = read_double(fv, longi);
        } else if (key == "alti") {
            e = read_double(fv, alti);
        } else if (key == "rxnb") {
            e = read_u32(fv, out.rxnb);
        } else if (key == "rxok") {
            e = read_u32(fv, out.rxok);
        } else if (key == "rxfw") {
            e = read_u32(fv, out.rxfw);
        } else if (key == "ackr") {
            e = read_double(fv, out.ackr);
        } else if (key == "dwnb") {
            e = read_u32(fv, out.dwnb);
        } else if (key == "txnb") {
            e = read_u32(fv, out.txnb);
        }
        // A wrongly typed member is skipped; the error must not escape as a type error of `stat` itself.
        e = confirm_type_error(fv, e);
        if (e && !is_type_error(e)) return e;
    }
    // §3: the GPS fields are omitted without a fix; a position needs both coordinates.
    if (lati && longi) out.location = common::Location{*lati, *longi, alti.value_or(0)};
    return simdjson::SUCCESS;
}

// ---- TX_ACK (§5) ----

lorawan::Result<common::TxAckStatus, PacketError> parse_tx_ack(ByteView json) {
    // lora_pkt_fwd v4.0.1 sends no JSON when the downlink was queued (§5).
    const auto is_space = [](std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    if (std::all_of(json.begin(), json.end(), is_space)) return common::TxAckStatus::ok;

    // Rare (one per downlink): a parser of its own per call is cheap enough and keeps the function free of state.
    const simdjson::padded_string text(reinterpret_cast<const char*>(json.data()), json.size());
    ondemand::parser parser;
    ondemand::document doc;
    if (parser.iterate(text).get(doc) != simdjson::SUCCESS) return PacketError::invalid_json;
    ondemand::object root;
    if (doc.get_object().get(root) != simdjson::SUCCESS) return PacketError::invalid_json;

    // {"txpk_ack":{"error":"X"}}; "NONE", or no error at all (e.g. sx1302's {"txpk_ack":{"warn":"TX_POWER"}}), is
    // success. Unknown error names count as internal_error.
    common::TxAckStatus status = common::TxAckStatus::ok;
    for (auto field_result : root) {
        ondemand::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return PacketError::invalid_json;
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return PacketError::invalid_json;
        if (key != "txpk_ack") continue;

        ondemand::value& value = field.value();
        ondemand::object ack;
        if (const auto e = confirm_type_error(value, value.get_object().get(ack))) {
            return is_type_error(e) ? PacketError::wrong_json_type : PacketError::invalid_json;
        }
        status = common::TxAckStatus::ok;
        for (auto ack_field_result : ack) {
            ondemand::field ack_field;
            if (std::move(ack_field_result).get(ack_field) != simdjson::SUCCESS) return PacketError::invalid_json;
            std::string_view ack_key;
            if (ack_field.unescaped_key().get(ack_key) != simdjson::SUCCESS) return PacketError::invalid_json;
            if (ack_key != "error") continue;
            ondemand::value& error_value = ack_field.value();
            std::string_view error;
            if (const auto e = confirm_type_error(error_value, error_value.get_string().get(error))) {
                return is_type_error(e) ? PacketError::wrong_json_type : PacketError::invalid_json;
            }
            status = common::tx_ack_status_from_string(error).value_or(common::TxAckStatus::internal_error);
        }
    }
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) return PacketError::invalid_json;
    return status;
}

// ---- PULL_RESP (§4) ----

namespace {

template <class Int>
void append_int(std::string& out, Int v) {
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), r.ptr);
}

// Hz as MHz with exactly six decimals, written from the integer so that no binary fraction shows: 869525000 Hz is
// "869.525000", which the gateway's strtod and ×1e6 turn back into 869525000 Hz.
void append_mhz(std::string& out, std::uint32_t hz) {
    append_int(out, hz / 1'000'000);
    out.push_back('.');
    std::array<char, 6> fraction{};
    std::uint32_t f = hz % 1'000'000;
    for (std::size_t i = fraction.size(); i-- > 0; f /= 10) fraction[i] = static_cast<char>('0' + f % 10);
    out.append(fraction.data(), fraction.size());
}

// A JSON string literal. code_rate is ours, but nothing stops a caller from putting a quote in it.
void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char hex_digits[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(hex_digits[static_cast<unsigned char>(c) >> 4]);
            out.push_back(hex_digits[static_cast<unsigned char>(c) & 0x0f]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

}  // namespace

Bytes make_pull_resp(std::uint8_t version, Token token, const common::DownlinkItem& item) {
    std::string json;
    json.reserve(256 + item.phy_payload.size() * 4 / 3);
    json.append(R"({"txpk":{)");

    // §4: one of imme / tmst / tmms says when. tmst counts µs on the concentrator and wraps at 2^32: the sum is
    // taken modulo 2^32 (the conversion of a negative or large count to uint32 is exactly that).
    if (std::holds_alternative<common::TimingImmediately>(item.timing)) {
        json.append(R"("imme":true)");
    } else if (const auto* delay = std::get_if<common::TimingDelay>(&item.timing)) {
        const auto tmst =
            static_cast<std::uint32_t>(item.context_tmst + static_cast<std::uint32_t>(delay->delay.count()));
        json.append(R"("tmst":)");
        append_int(json, tmst);
    } else if (const auto* gps = std::get_if<common::TimingGpsEpoch>(&item.timing)) {
        json.append(R"("tmms":)");
        append_int(json, gps->since_gps_epoch.count());
    }

    json.append(R"(,"freq":)");
    append_mhz(json, item.frequency_hz);
    json.append(R"(,"rfch":)");
    append_int(json, item.rf_chain);
    json.append(R"(,"powe":)");
    append_int(json, item.power_dbm);

    if (const auto* lora = std::get_if<common::LoraModulation>(&item.modulation)) {
        json.append(R"(,"modu":"LORA","datr":"SF)");
        append_int(json, unsigned{lora->spreading_factor});
        json.append("BW");
        append_int(json, lora->bandwidth_hz / 1000);
        json.append(R"(","codr":)");
        append_string(json, lora->code_rate);
    } else if (const auto* fsk = std::get_if<common::FskModulation>(&item.modulation)) {
        json.append(R"(,"modu":"FSK","datr":)");
        append_int(json, fsk->bit_rate);
        json.append(R"(,"fdev":)");
        append_int(json, fsk->frequency_deviation_hz);
    }

    // §4: ipol true for every downlink to an end device (it does not hear non-inverted frames).
    json.append(item.polarization_inversion ? R"(,"ipol":true)" : R"(,"ipol":false)");
    json.append(R"(,"size":)");
    append_int(json, item.phy_payload.size());
    json.append(R"(,"data":")");
    json.append(common::base64_encode(item.phy_payload));
    json.append(R"("}})");

    //   | version | token | 0x03 | JSON   (§2: PULL_RESP carries no EUI)
    Bytes out;
    out.reserve(header_size + json.size());
    out.push_back(version);
    out.push_back(token[0]);
    out.push_back(token[1]);
    out.push_back(static_cast<std::uint8_t>(PacketType::pull_resp));
    out.insert(out.end(), json.begin(), json.end());
    return out;
}

}  // namespace schwebe::bridge
