#include "app/frame_json.hpp"

#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "lorawan/fcnt.hpp"
#include "lorawan/join.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/phy_payload.hpp"
#include "lorawan/session.hpp"

// JSON form of each MAC command's fields, in the lorawan namespace so that nlohmann finds them by ADL. Missing
// fields take their defaults; range is checked after reading (see mac_command_from_json).
namespace schwebe::lorawan {
#define SCHWEBE_EMPTY_JSON(Type)                          \
    inline void to_json(nlohmann::json& j, const Type&) { \
        j = nlohmann::json::object();                     \
    }                                                     \
    inline void from_json(const nlohmann::json&, Type&) {}
SCHWEBE_EMPTY_JSON(LinkCheckReq)
SCHWEBE_EMPTY_JSON(DutyCycleAns)
SCHWEBE_EMPTY_JSON(RxTimingSetupAns)
SCHWEBE_EMPTY_JSON(TxParamSetupAns)
SCHWEBE_EMPTY_JSON(DeviceTimeReq)
SCHWEBE_EMPTY_JSON(DevStatusReq)
#undef SCHWEBE_EMPTY_JSON
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LinkAdrAns, power_ack, data_rate_ack, channel_mask_ack)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RxParamSetupAns, rx1_dr_offset_ack, rx2_data_rate_ack, channel_ack)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DevStatusAns, battery, margin)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NewChannelAns, data_rate_range_ok, channel_frequency_ok)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DlChannelAns, uplink_frequency_exists, channel_frequency_ok)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LinkCheckAns, margin, gw_cnt)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LinkAdrReq, data_rate, tx_power, ch_mask, ch_mask_cntl, nb_trans)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DutyCycleReq, max_duty_cycle)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RxParamSetupReq, rx1_dr_offset, rx2_data_rate, frequency)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NewChannelReq, ch_index, frequency, min_dr, max_dr)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RxTimingSetupReq, delay)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TxParamSetupReq, downlink_dwell_time, uplink_dwell_time, max_eirp)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DlChannelReq, ch_index, frequency)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceTimeAns, seconds, fractional)
}  // namespace schwebe::lorawan

namespace schwebe::app {

namespace lw = schwebe::lorawan;

namespace {

/// Wrong input to the tool (as opposed to a frame that is refused): reported as {"error":"invalid_input"}.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void require_only(const Json& in, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : in.items()) {
        bool known = false;
        for (const std::string_view a : allowed) known = known || key == a;
        if (!known) throw InputError("unknown field '" + key + "'");
    }
}

const Json* find(const Json& in, const char* key) {
    const auto it = in.find(key);
    if (it == in.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<lw::Bytes> hex_field(const Json& in, const char* key) {
    const Json* v = find(in, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw InputError(std::string(key) + ": expected a hex string");
    auto bytes = lw::from_hex(v->get<std::string>());
    if (!bytes) throw InputError(std::string(key) + ": not valid hex");
    return bytes;
}

template <class T>
std::optional<T> typed_hex_field(const Json& in, const char* key, const char* what) {
    const Json* v = find(in, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw InputError(std::string(key) + ": expected " + what);
    auto parsed = T::from_hex(v->get<std::string>());
    if (!parsed) throw InputError(std::string(key) + ": expected " + what);
    return parsed;
}

template <class T>
T required(std::optional<T> v, const char* key) {
    if (!v) throw InputError(std::string("missing field '") + key + "'");
    return std::move(*v);
}

/// A number, or a big-endian hex string of `hex_digits` digits (how the vectors write DevNonce and JoinNonce).
std::optional<std::uint64_t> uint_field(const Json& in, const char* key, std::uint64_t max,
                                        std::size_t hex_digits = 0) {
    const Json* v = find(in, key);
    if (!v) return std::nullopt;
    std::uint64_t value = 0;
    if (v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0)) {
        value = v->get<std::uint64_t>();
    } else if (hex_digits != 0 && v->is_string() && v->get<std::string>().size() == hex_digits) {
        const auto bytes = lw::from_hex(v->get<std::string>());
        if (!bytes) throw InputError(std::string(key) + ": not valid hex");
        for (const std::uint8_t b : *bytes) value = (value << 8) | b;
    } else {
        throw InputError(std::string(key) + ": expected an unsigned number" +
                         (hex_digits != 0 ? " or " + std::to_string(hex_digits) + " hex digits" : ""));
    }
    if (value > max) throw InputError(std::string(key) + ": above " + std::to_string(max));
    return value;
}

bool bool_field(const Json& in, const char* key) {
    const Json* v = find(in, key);
    if (!v) return false;
    if (!v->is_boolean()) throw InputError(std::string(key) + ": expected true or false");
    return v->get<bool>();
}

std::string hex16(std::uint16_t v) {
    return lw::to_hex(std::array<std::uint8_t, 2>{std::uint8_t(v >> 8), std::uint8_t(v)});
}
std::string hex24(std::uint32_t v) {
    return lw::to_hex(std::array<std::uint8_t, 3>{std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)});
}

Json rejected(const lw::Error& e) {
    return Json{{"error", lw::to_string(e.reason)}, {"detail", e.detail}};
}

// ---- MAC commands ----

Json mac_command_to_json(const lw::MacCommand& c) {
    Json out{{"cid", lw::name_of(c)}};
    const nlohmann::json fields = std::visit([](const auto& cmd) { return nlohmann::json(cmd); }, c);
    for (const auto& [key, value] : fields.items()) out[key] = Json(value);
    return out;
}

template <std::size_t I = 0>
lw::MacCommand mac_command_from_json(const std::string& name, const nlohmann::json& fields) {
    if constexpr (I == std::variant_size_v<lw::MacCommand>) {
        throw InputError("mac_commands: unknown command '" + name + "'");
    } else {
        using T = std::variant_alternative_t<I, lw::MacCommand>;
        if (lw::name_of(lw::MacCommand{T{}}) != name) return mac_command_from_json<I + 1>(name, fields);
        const nlohmann::json defaults = T{};
        for (const auto& [key, value] : fields.items()) {
            if (!defaults.contains(key)) throw InputError("mac_commands: " + name + " has no field '" + key + "'");
        }
        const T parsed = fields.get<T>();
        // nlohmann narrows numbers silently: a value that does not survive the round trip did not fit.
        const nlohmann::json back = parsed;
        for (const auto& [key, value] : fields.items()) {
            if (back.at(key) != value) throw InputError("mac_commands: " + name + "." + key + " out of range");
        }
        return lw::MacCommand{parsed};
    }
}

lw::Bytes mac_commands_bytes(const Json& list) {
    if (!list.is_array()) throw InputError("mac_commands: expected an array");
    std::vector<lw::MacCommand> commands;
    for (const Json& item : list) {
        if (!item.is_object() || !item.contains("cid") || !item["cid"].is_string()) {
            throw InputError("mac_commands: each command needs \"cid\" with the command's name");
        }
        nlohmann::json fields = nlohmann::json::object();
        for (const auto& [key, value] : item.items()) {
            if (key != "cid") fields[key] = nlohmann::json(value);
        }
        commands.push_back(mac_command_from_json(item["cid"].get<std::string>(), fields));
    }
    auto bytes = lw::serialize(commands);
    if (!bytes) throw InputError(std::string("mac_commands: ") + std::string(bytes.error().detail));
    return std::move(bytes).value();
}

void put_mac_commands(Json& out, lw::ByteView bytes, lw::Direction dir) {
    const lw::MacCommands parsed = lw::parse_mac_commands(bytes, dir);
    Json list = Json::array();
    for (const lw::MacCommand& c : parsed.commands) list.push_back(mac_command_to_json(c));
    out["mac_commands"] = std::move(list);
    if (parsed.error) {
        out["mac_commands_error"] = Json{{"error", lw::to_string(parsed.error->reason)},
                                         {"detail", parsed.error->detail},
                                         {"offset", parsed.stopped_at}};
    }
}

// ---- decode ----

/// Everything decode takes besides the frame, validated before the frame is looked at.
struct DecodeInput {
    lw::Bytes phy;
    std::optional<lw::NwkSKey> nwk_s_key;
    std::optional<lw::AppSKey> app_s_key;
    std::optional<lw::AppKey> app_key;
    std::optional<std::uint16_t> dev_nonce;
    std::optional<std::uint32_t> last_f_cnt_up;
    std::optional<std::uint32_t> last_f_cnt_down;
    lw::FCntMode f_cnt_mode = lw::FCntMode::strict;
};

std::optional<std::uint32_t> counter_field(const Json& in, const char* key) {
    const auto v = uint_field(in, key, std::numeric_limits<std::uint32_t>::max());
    if (!v) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
}

DecodeInput read_decode_input(const Json& in) {
    if (!in.is_object()) throw InputError("expected a JSON object");
    require_only(in, {"phy_payload", "nwk_s_key", "app_s_key", "app_key", "dev_nonce", "last_f_cnt_up",
                      "last_f_cnt_down", "f_cnt_mode"});
    DecodeInput d;
    d.phy = required(hex_field(in, "phy_payload"), "phy_payload");
    d.nwk_s_key = typed_hex_field<lw::NwkSKey>(in, "nwk_s_key", "32 hex digits");
    d.app_s_key = typed_hex_field<lw::AppSKey>(in, "app_s_key", "32 hex digits");
    d.app_key = typed_hex_field<lw::AppKey>(in, "app_key", "32 hex digits");
    if (const auto n = uint_field(in, "dev_nonce", 0xffff, 4)) d.dev_nonce = static_cast<std::uint16_t>(*n);
    d.last_f_cnt_up = counter_field(in, "last_f_cnt_up");
    d.last_f_cnt_down = counter_field(in, "last_f_cnt_down");
    if (const Json* m = find(in, "f_cnt_mode")) {
        if (*m == "relaxed") {
            d.f_cnt_mode = lw::FCntMode::relaxed;
        } else if (*m != "strict") {
            throw InputError("f_cnt_mode: expected \"strict\" or \"relaxed\"");
        }
    }
    return d;
}

void decode_data(Json& out, const lw::DataFrame& f, const DecodeInput& in) {
    const lw::Direction dir = f.direction();
    const auto& nwk = in.nwk_s_key;
    const auto& app = in.app_s_key;
    const lw::ByteView phy = in.phy;
    const auto last32 = dir == lw::Direction::uplink ? in.last_f_cnt_up : in.last_f_cnt_down;
    const lw::FCntMode mode = in.f_cnt_mode;

    out["dev_addr"] = f.dev_addr.to_string();
    out["f_ctrl"] = Json{{"adr", f.f_ctrl.adr},
                         {"adr_ack_req", f.f_ctrl.adr_ack_req},
                         {"ack", f.f_ctrl.ack},
                         {"f_pending", f.f_ctrl.f_pending},
                         {"class_b", f.f_ctrl.class_b}};

    std::optional<std::uint32_t> f_cnt = lw::reconstruct_f_cnt(f.f_cnt_16, last32);
    std::optional<bool> mic_valid;
    std::optional<lw::Error> verdict;
    bool counter_reset = false;
    std::optional<lw::SessionCrypto> session;
    if (nwk || app) session.emplace(nwk.value_or(lw::NwkSKey{}), app.value_or(lw::AppSKey{}));

    if (nwk && dir == lw::Direction::uplink) {
        const auto checked = lw::verify_data_uplink(*session, f, phy, last32, mode);
        if (checked) {
            f_cnt = checked->f_cnt;
            counter_reset = checked->counter_reset;
            mic_valid = true;
        } else {
            mic_valid = checked.error().reason == lw::Reject::fcnt_duplicate;
            verdict = checked.error();
        }
    } else if (nwk) {
        mic_valid = f_cnt && session->verify_data_mic(dir, f.dev_addr, *f_cnt, phy.first(phy.size() - 4), f.mic);
        if (!*mic_valid) {
            verdict =
                f_cnt ? lw::Error{lw::Reject::mic_mismatch, "MIC does not verify under the reconstructed frame counter"}
                      : lw::Error{lw::Reject::fcnt_exhausted, "32-bit frame counter exhausted"};
        } else if (last32 && *f_cnt == *last32) {
            verdict = lw::Error{lw::Reject::fcnt_duplicate, "frame counter equals the last accepted one"};
        }
    }

    out["f_cnt"] = f_cnt ? Json(*f_cnt) : Json(nullptr);
    out["f_cnt_16"] = f.f_cnt_16;
    if (counter_reset) out["f_cnt_reset"] = true;
    out["f_opts"] = lw::to_hex(f.f_opts.view());
    out["f_port"] = f.f_port ? Json(*f.f_port) : Json(nullptr);

    if (!f.f_opts.empty()) put_mac_commands(out, f.f_opts.view(), dir);
    if (f.f_port) {
        const bool have_key = *f.f_port == 0 ? nwk.has_value() : app.has_value();
        if (have_key && f_cnt && mic_valid != false) {
            const lw::Bytes plain = session->crypt_frm_payload(*f.f_port, dir, f.dev_addr, *f_cnt, f.frm_payload);
            out["frm_payload"] = lw::to_hex(plain);
            if (*f.f_port == 0) put_mac_commands(out, plain, dir);
        } else {
            out["frm_payload_encrypted"] = lw::to_hex(f.frm_payload);
        }
    }
    if (!out.contains("mac_commands")) out["mac_commands"] = Json::array();
    out["mic"] = lw::to_hex(f.mic);
    if (mic_valid) out["mic_valid"] = *mic_valid;
    if (verdict) {
        out["error"] = lw::to_string(verdict->reason);
        out["detail"] = verdict->detail;
    }
}

void decode_join_request(Json& out, const lw::JoinRequest& j, const DecodeInput& in) {
    out["join_eui"] = j.join_eui.to_string();
    out["dev_eui"] = j.dev_eui.to_string();
    out["dev_nonce"] = hex16(j.dev_nonce);
    out["mic"] = lw::to_hex(j.mic);
    if (in.app_key) {
        lw::JoinCrypto crypto{*in.app_key};
        const auto verified = crypto.verify_join_request(j);
        out["mic_valid"] = verified.ok();
        if (!verified) {
            out["error"] = lw::to_string(verified.error().reason);
            out["detail"] = verified.error().detail;
        }
    }
}

Json cf_list_json(const std::optional<lw::CfList>& cf) {
    if (!cf) return nullptr;
    return Json{{"frequencies", cf->frequencies}};
}

void decode_join_accept(Json& out, const lw::EncryptedJoinAccept& a, const DecodeInput& in) {
    if (!in.app_key) {
        out["encrypted"] = lw::to_hex(a.ciphertext);
        return;
    }
    lw::JoinCrypto crypto{*in.app_key};
    const auto plain = crypto.open_join_accept(a);
    if (!plain) {
        // Under a wrong AppKey the decrypted fields are noise: only the verdict is shown.
        if (plain.error().reason == lw::Reject::mic_mismatch) out["mic_valid"] = false;
        out["error"] = lw::to_string(plain.error().reason);
        out["detail"] = plain.error().detail;
        return;
    }
    out["join_nonce"] = hex24(plain->join_nonce);
    out["net_id"] = plain->net_id.to_string();
    out["dev_addr"] = plain->dev_addr.to_string();
    out["dl_settings"] =
        Json{{"rx1_dr_offset", plain->dl_settings.rx1_dr_offset}, {"rx2_dr", plain->dl_settings.rx2_dr}};
    out["rx_delay"] = plain->rx_delay;
    out["cf_list"] = cf_list_json(plain->cf_list);
    out["mic"] = lw::to_hex(plain->mic);
    out["mic_valid"] = true;
    if (in.dev_nonce) {
        const lw::SessionKeys keys = crypto.derive_session_keys(plain->join_nonce, plain->net_id, *in.dev_nonce);
        out["nwk_s_key"] = lw::to_hex(keys.nwk_s_key.bytes());
        out["app_s_key"] = lw::to_hex(keys.app_s_key.bytes());
    }
}

Json decode_impl(const Json& input) {
    const DecodeInput in = read_decode_input(input);
    auto parsed = lw::parse_phy_payload(in.phy);
    if (!parsed) return rejected(parsed.error());

    Json out{{"m_type", lw::to_string(parsed->mhdr.m_type)}, {"major", parsed->mhdr.major}};
    std::visit(
        [&](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, lw::DataFrame>) {
                decode_data(out, body, in);
            } else if constexpr (std::is_same_v<T, lw::JoinRequest>) {
                decode_join_request(out, body, in);
            } else if constexpr (std::is_same_v<T, lw::EncryptedJoinAccept>) {
                decode_join_accept(out, body, in);
            } else {
                out["payload"] = lw::to_hex(body.payload);
            }
        },
        parsed->body);
    return out;
}

// ---- encode ----

lw::FCtrl f_ctrl_from(const Json& in) {
    const Json* f = find(in, "f_ctrl");
    if (!f) return {};
    if (!f->is_object()) throw InputError("f_ctrl: expected an object");
    require_only(*f, {"adr", "adr_ack_req", "ack", "f_pending", "class_b"});
    return {bool_field(*f, "adr"), bool_field(*f, "adr_ack_req"), bool_field(*f, "ack"), bool_field(*f, "f_pending"),
            bool_field(*f, "class_b")};
}

Json encode_data(const Json& in, lw::MType m_type) {
    require_only(in, {"m_type", "dev_addr", "f_cnt", "f_ctrl", "f_opts", "mac_commands", "f_port", "frm_payload",
                      "nwk_s_key", "app_s_key"});
    lw::DataFrame f;
    f.m_type = m_type;
    f.dev_addr = required(typed_hex_field<lw::DevAddr>(in, "dev_addr", "8 hex digits"), "dev_addr");
    const auto f_cnt = static_cast<std::uint32_t>(
        required(uint_field(in, "f_cnt", std::numeric_limits<std::uint32_t>::max()), "f_cnt"));
    f.f_ctrl = f_ctrl_from(in);
    if (const auto port = uint_field(in, "f_port", 255)) f.f_port = static_cast<std::uint8_t>(*port);
    lw::Bytes f_opts = hex_field(in, "f_opts").value_or(lw::Bytes{});
    f.frm_payload = hex_field(in, "frm_payload").value_or(lw::Bytes{});

    if (const Json* list = find(in, "mac_commands")) {
        lw::Bytes commands = mac_commands_bytes(*list);
        if (f.f_port == 0) {
            if (!f.frm_payload.empty()) throw InputError("mac_commands with f_port 0 leave no room for frm_payload");
            f.frm_payload = std::move(commands);
        } else {
            if (!f_opts.empty()) throw InputError("give either f_opts or mac_commands");
            f_opts = std::move(commands);
        }
    }
    const auto fopts = lw::FOpts::from(f_opts);
    if (!fopts) throw InputError("f_opts: more than 15 bytes (use f_port 0 for longer MAC commands)");
    f.f_opts = *fopts;
    if (f.f_port == 0 && !f.f_opts.empty())
        throw InputError("f_port 0 with f_opts is not allowed (LoRaWAN 1.0.4 §4.3.1.6)");

    const auto nwk = required(typed_hex_field<lw::NwkSKey>(in, "nwk_s_key", "32 hex digits"), "nwk_s_key");
    const auto app = typed_hex_field<lw::AppSKey>(in, "app_s_key", "32 hex digits");
    if (f.f_port.value_or(0) != 0 && !f.frm_payload.empty() && !app) throw InputError("missing field 'app_s_key'");
    lw::SessionCrypto session{nwk, app.value_or(lw::AppSKey{})};
    auto phy = lw::build_data_frame(session, std::move(f), f_cnt);
    if (!phy) throw InputError(std::string(phy.error().detail));
    return Json{{"phy_payload", lw::to_hex(*phy)}};
}

Json encode_join_request(const Json& in) {
    require_only(in, {"m_type", "join_eui", "dev_eui", "dev_nonce", "app_key"});
    lw::JoinRequest j;
    j.join_eui = required(typed_hex_field<lw::Eui64>(in, "join_eui", "16 hex digits"), "join_eui");
    j.dev_eui = required(typed_hex_field<lw::Eui64>(in, "dev_eui", "16 hex digits"), "dev_eui");
    j.dev_nonce = static_cast<std::uint16_t>(required(uint_field(in, "dev_nonce", 0xffff, 4), "dev_nonce"));
    lw::JoinCrypto crypto{required(typed_hex_field<lw::AppKey>(in, "app_key", "32 hex digits"), "app_key")};
    j.mic = crypto.join_request_mic(j);
    return Json{{"phy_payload", lw::to_hex(lw::serialize(j))}};
}

Json encode_join_accept(const Json& in) {
    require_only(in, {"m_type", "join_nonce", "net_id", "dev_addr", "dl_settings", "rx_delay", "cf_list", "app_key",
                      "dev_nonce"});
    lw::JoinAccept a;
    a.join_nonce = static_cast<std::uint32_t>(required(uint_field(in, "join_nonce", 0xffffff, 6), "join_nonce"));
    a.net_id = required(typed_hex_field<lw::NetId>(in, "net_id", "6 hex digits"), "net_id");
    a.dev_addr = required(typed_hex_field<lw::DevAddr>(in, "dev_addr", "8 hex digits"), "dev_addr");
    if (const Json* dl = find(in, "dl_settings")) {
        if (!dl->is_object()) throw InputError("dl_settings: expected {\"rx1_dr_offset\", \"rx2_dr\"}");
        require_only(*dl, {"rx1_dr_offset", "rx2_dr"});
        a.dl_settings.rx1_dr_offset = static_cast<std::uint8_t>(uint_field(*dl, "rx1_dr_offset", 7).value_or(0));
        a.dl_settings.rx2_dr = static_cast<std::uint8_t>(uint_field(*dl, "rx2_dr", 15).value_or(0));
    }
    a.rx_delay = static_cast<std::uint8_t>(uint_field(in, "rx_delay", 15).value_or(1));
    if (const Json* cf = find(in, "cf_list")) {
        const Json* freqs = cf->is_object() ? find(*cf, "frequencies") : nullptr;
        if (!freqs || !freqs->is_array() || freqs->size() > 5) {
            throw InputError("cf_list: expected {\"frequencies\": [up to 5 frequencies in Hz]}");
        }
        lw::CfList list;
        for (std::size_t i = 0; i < freqs->size(); ++i) {
            const Json& hz = (*freqs)[i];
            if (!hz.is_number_integer() || hz.get<std::int64_t>() < 0 || hz.get<std::int64_t>() > 0xffffffffLL) {
                throw InputError("cf_list: frequencies are unsigned Hz values");
            }
            list.frequencies[i] = hz.get<std::uint32_t>();
        }
        a.cf_list = list;
    }
    lw::JoinCrypto crypto{required(typed_hex_field<lw::AppKey>(in, "app_key", "32 hex digits"), "app_key")};
    auto phy = crypto.build_join_accept(a);
    if (!phy) throw InputError(std::string(phy.error().detail));
    Json out{{"phy_payload", lw::to_hex(*phy)}};
    if (const auto dev_nonce = uint_field(in, "dev_nonce", 0xffff, 4)) {
        const lw::SessionKeys keys =
            crypto.derive_session_keys(a.join_nonce, a.net_id, static_cast<std::uint16_t>(*dev_nonce));
        out["nwk_s_key"] = lw::to_hex(keys.nwk_s_key.bytes());
        out["app_s_key"] = lw::to_hex(keys.app_s_key.bytes());
    }
    return out;
}

Json encode_impl(const Json& in) {
    if (!in.is_object()) throw InputError("expected a JSON object");
    const Json* m = find(in, "m_type");
    if (!m || !m->is_string()) throw InputError("missing field 'm_type'");
    const auto m_type = lw::m_type_from_string(m->get<std::string>());
    if (!m_type || *m_type == lw::MType::rfu) throw InputError("m_type: unknown MType '" + m->get<std::string>() + "'");
    switch (*m_type) {
        case lw::MType::join_request: return encode_join_request(in);
        case lw::MType::join_accept: return encode_join_accept(in);
        case lw::MType::proprietary: {
            require_only(in, {"m_type", "payload"});
            lw::Proprietary p{hex_field(in, "payload").value_or(lw::Bytes{})};
            return Json{{"phy_payload", lw::to_hex(lw::serialize(p))}};
        }
        default: return encode_data(in, *m_type);
    }
}

template <class F>
Json guarded(F&& f, const Json& in) {
    try {
        return f(in);
    } catch (const InputError& e) {
        return Json{{"error", "invalid_input"}, {"detail", e.what()}};
    } catch (const nlohmann::json::exception& e) {
        return Json{{"error", "invalid_input"}, {"detail", e.what()}};
    }
}

}  // namespace

Json decode_frame(const Json& input) {
    return guarded(decode_impl, input);
}

Json encode_frame(const Json& input) {
    return guarded(encode_impl, input);
}

int exit_code_of(const Json& result) {
    const auto it = result.find("error");
    if (it == result.end()) return 0;
    return *it == "invalid_input" ? 2 : 1;
}

}  // namespace schwebe::app
