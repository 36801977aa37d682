// Every frame of the shared vectors (tests/vectors/lorawan-frames.json, built by two independent implementations)
// through the protocol core, as the uplink path of a network server uses it: parse → uplink gate → device by
// DevAddr / DevEUI → MIC and counter → decrypt → MAC commands. The device registry and DevNonce memory are the
// network server's; here they are the few lines of state the vectors' `how_to_use` describes.

#include <map>
#include <set>

#include "lorawan/join.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/phy_payload.hpp"
#include "lorawan/session.hpp"
#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;
using Json = nlohmann::json;

namespace {

struct AbpDevice {
    DevAddr dev_addr;
    SessionCrypto crypto;
    std::optional<std::uint32_t> last_f_cnt_up;
};

struct OtaaDevice {
    Eui64 dev_eui;
    Eui64 join_eui;
    JoinCrypto crypto;
    std::set<std::uint16_t> dev_nonces;
};

struct Outcome {
    bool accepted = false;
    std::string reason;
    std::uint32_t f_cnt = 0;
    std::optional<std::uint8_t> f_port;
    Bytes payload;
    std::vector<MacCommand> mac_commands;
    std::string device;
};

class UplinkModel {
public:
    explicit UplinkModel(const Json& devices) {
        for (const Json& d : devices) {
            const std::string id = d["id"];
            if (d["activation"] == "ABP") {
                abp_.emplace(id, AbpDevice{*DevAddr::from_hex(d["DevAddr"].get<std::string>()),
                                           SessionCrypto{*NwkSKey::from_hex(d["NwkSKey"].get<std::string>()),
                                                         *AppSKey::from_hex(d["AppSKey"].get<std::string>())},
                                           std::nullopt});
            } else {
                otaa_.emplace(id, OtaaDevice{*Eui64::from_hex(d["DevEUI"].get<std::string>()),
                                             *Eui64::from_hex(d["JoinEUI"].get<std::string>()),
                                             JoinCrypto{*AppKey::from_hex(d["AppKey"].get<std::string>())},
                                             {}});
                // The vectors' precondition for F34: the session of J-ACCEPT is held like an ABP session.
                const Json& s = d["session_from_join"];
                abp_.emplace(id, AbpDevice{*DevAddr::from_hex(s["DevAddr"].get<std::string>()),
                                           SessionCrypto{*NwkSKey::from_hex(s["NwkSKey"].get<std::string>()),
                                                         *AppSKey::from_hex(s["AppSKey"].get<std::string>())},
                                           std::nullopt});
            }
        }
    }

    std::optional<std::uint32_t> last_f_cnt_up(const std::string& id) { return abp_.at(id).last_f_cnt_up; }
    const std::set<std::uint16_t>& dev_nonces(const std::string& id) { return otaa_.at(id).dev_nonces; }

    Outcome uplink(const Bytes& phy) {
        auto parsed = parse_phy_payload(phy);
        if (!parsed) return refused(parsed.error());
        if (auto gate = require_uplink(parsed->mhdr.m_type); !gate) return refused(gate.error());
        if (const auto* join = std::get_if<JoinRequest>(&parsed->body)) return join_request(*join);
        return data_up(std::get<DataFrame>(parsed->body), phy);
    }

private:
    static Outcome refused(std::string_view reason) {
        Outcome o;
        o.reason = reason;
        return o;
    }
    static Outcome refused(const Error& e) { return refused(to_string(e.reason)); }
    static Outcome accepted(const std::string& device) {
        Outcome o;
        o.accepted = true;
        o.device = device;
        return o;
    }

    Outcome join_request(const JoinRequest& j) {
        for (auto& [id, d] : otaa_) {
            if (d.dev_eui != j.dev_eui || d.join_eui != j.join_eui) continue;
            if (auto mic = d.crypto.verify_join_request(j); !mic) return refused(mic.error());
            if (d.dev_nonces.contains(j.dev_nonce)) return refused("devnonce_reused");
            d.dev_nonces.insert(j.dev_nonce);
            return accepted(id);
        }
        return refused("unknown_deveui");
    }

    Outcome data_up(const DataFrame& f, const Bytes& phy) {
        std::optional<Error> last_error;
        for (auto& [id, d] : abp_) {
            if (d.dev_addr != f.dev_addr) continue;
            auto verified = verify_data_uplink(d.crypto, f, phy, d.last_f_cnt_up);
            if (!verified) {
                last_error = verified.error();
                continue;
            }
            d.last_f_cnt_up = verified->f_cnt;
            Outcome o = accepted(id);
            o.f_cnt = verified->f_cnt;
            o.f_port = f.f_port;
            ByteView mac_bytes = f.f_opts.view();
            Bytes plain;
            if (f.f_port) {
                plain = d.crypto.crypt_frm_payload(*f.f_port, Direction::uplink, f.dev_addr, verified->f_cnt,
                                                   f.frm_payload);
                if (*f.f_port == 0)
                    mac_bytes = plain;
                else
                    o.payload = plain;
            }
            const MacCommands mac = parse_mac_commands(mac_bytes, Direction::uplink);
            REQUIRE_FALSE(mac.error.has_value());
            o.mac_commands = mac.commands;
            return o;
        }
        if (last_error) return refused(*last_error);
        return refused("unknown_devaddr");
    }

    std::map<std::string, AbpDevice> abp_;
    std::map<std::string, OtaaDevice> otaa_;
};

}  // namespace

TEST_CASE("every uplink vector is accepted or refused as the vectors say", "[unit][vectors]") {
    const Json vectors = schwebe::test::load_vectors("lorawan-frames.json");
    UplinkModel model{vectors["devices"]};
    int accepted = 0;
    int refused = 0;

    for (const Json& frame : vectors["frames"]) {
        if (frame.value("send_as_uplink", true) == false) continue;
        const std::string id = frame["id"];
        const Json& expected = frame["expected"];
        INFO(id << ": " << frame["description"].get<std::string>());

        // The state before each frame is the vectors' precondition: check we are in it.
        const Json& before = frame["state_before"];
        if (before.contains("last_fcnt_up")) {
            const auto last = model.last_f_cnt_up(frame["device"]);
            if (before["last_fcnt_up"].is_null())
                CHECK_FALSE(last.has_value());
            else
                CHECK(last == before["last_fcnt_up"].get<std::uint32_t>());
        }
        if (before.contains("devnonces_used") && !frame["device"].is_null()) {
            std::set<std::uint16_t> want;
            for (const Json& n : before["devnonces_used"])
                want.insert(static_cast<std::uint16_t>(std::stoul(n.get<std::string>(), nullptr, 16)));
            CHECK(model.dev_nonces(frame["device"]) == want);
        }

        const Outcome got = model.uplink(hex(frame["phy_payload_hex"].get<std::string>()));
        if (expected["outcome"] == "reject") {
            ++refused;
            CHECK_FALSE(got.accepted);
            CHECK(got.reason == expected["reason"].get<std::string>());
            continue;
        }
        ++accepted;
        REQUIRE(got.accepted);
        CHECK(got.device == frame["device"].get<std::string>());
        if (expected.value("join", false)) continue;

        CHECK(got.f_cnt == expected["fcnt32"].get<std::uint32_t>());
        const Json& app = expected["application"];
        if (app.is_null()) {
            CHECK((!got.f_port || *got.f_port == 0));
        } else {
            REQUIRE(got.f_port.has_value());
            CHECK(*got.f_port == app["fPort"].get<int>());
            CHECK(to_hex(got.payload) == app["payload_hex"].get<std::string>());
        }
        const Json want_mac = expected.value("mac_commands", Json::array());
        REQUIRE(got.mac_commands.size() == want_mac.size());
        for (std::size_t i = 0; i < want_mac.size(); ++i) {
            CHECK(cid_of(got.mac_commands[i]) == want_mac[i]["cid"].get<int>());
            CHECK(name_of(got.mac_commands[i]) == want_mac[i]["name"].get<std::string>());
            Bytes encoded;
            REQUIRE(serialize(got.mac_commands[i], encoded).ok());
            CHECK(to_hex(ByteView{encoded}.subspan(1)) == want_mac[i]["payload_hex"].get<std::string>());
        }
    }
    CHECK(accepted == 21);
    CHECK(refused == 17);
}

TEST_CASE("frame fields parse as the vectors list them", "[unit][vectors]") {
    const Json vectors = schwebe::test::load_vectors("lorawan-frames.json");
    for (const Json& frame : vectors["frames"]) {
        const Json& fields = frame["fields"];
        const std::string type = fields["type"];
        INFO(frame["id"].get<std::string>());
        auto parsed = parse_phy_payload(hex(frame["phy_payload_hex"].get<std::string>()));
        if (!parsed) {
            // Only a structural refusal may stop the parser; it must be the one the vectors name.
            CHECK(to_string(parsed.error().reason) == frame["expected"]["reason"].get<std::string>());
            continue;
        }
        // Proprietary and RFU frames parse; refusing them is the uplink gate's job.
        if (parsed->mhdr.m_type == MType::proprietary) continue;
        if (type == "join_request") {
            const auto& j = std::get<JoinRequest>(parsed->body);
            CHECK(j.dev_eui.to_string() == fields["DevEUI"].get<std::string>());
            CHECK(j.join_eui.to_string() == fields["JoinEUI"].get<std::string>());
            CHECK(j.dev_nonce == std::stoul(fields["DevNonce"].get<std::string>(), nullptr, 16));
            continue;
        }
        if (type == "join_accept") continue;
        const auto& f = std::get<DataFrame>(parsed->body);
        CHECK(f.dev_addr.to_string() == fields["DevAddr"].get<std::string>());
        CHECK(f.f_cnt_16 == fields["FCnt16"].get<std::uint16_t>());
        CHECK(to_hex(f.f_opts.view()) == fields["FOpts_hex"].get<std::string>());
        if (fields["FPort"].is_null())
            CHECK_FALSE(f.f_port.has_value());
        else
            CHECK(f.f_port == fields["FPort"].get<std::uint8_t>());
        CHECK(f.f_ctrl.adr == fields["FCtrl"].value("ADR", false));
        CHECK(f.f_ctrl.adr_ack_req == fields["FCtrl"].value("ADRACKReq", false));
        CHECK(f.confirmed() == (type == "confirmed_up"));
    }
}

TEST_CASE("the join-accept vector is built byte for byte and yields the session keys", "[unit][vectors][join]") {
    const Json vectors = schwebe::test::load_vectors("lorawan-frames.json");
    const Json* ja = nullptr;
    for (const Json& f : vectors["frames"]) {
        if (f["id"] == "J-ACCEPT") ja = &f;
    }
    REQUIRE(ja != nullptr);
    const Json& fields = (*ja)["fields"];
    JoinCrypto crypto{*AppKey::from_hex("91bd6f4b9ada201a552cee1676ff94b2")};

    JoinAccept accept;
    accept.join_nonce = static_cast<std::uint32_t>(std::stoul(fields["JoinNonce"].get<std::string>(), nullptr, 16));
    accept.net_id = *NetId::from_hex(fields["NetID"].get<std::string>());
    accept.dev_addr = *DevAddr::from_hex(fields["DevAddr"].get<std::string>());
    accept.dl_settings = DlSettings::decode(fields["DLSettings"].get<std::uint8_t>());
    accept.rx_delay = fields["RxDelay"].get<std::uint8_t>();
    CfList cf;
    for (std::size_t i = 0; i < 5; ++i) {
        cf.frequencies[i] = static_cast<std::uint32_t>(std::llround(fields["CFListFreqs"][i].get<double>() * 1e6));
    }
    accept.cf_list = cf;

    const auto phy = crypto.build_join_accept(accept);
    REQUIRE(phy.ok());
    CHECK(to_hex(*phy) == (*ja)["phy_payload_hex"].get<std::string>());

    accept.mic = crypto.join_accept_mic(accept);
    const auto plain = serialize_plain(accept);
    REQUIRE(plain.ok());
    CHECK(to_hex(*plain) == (*ja)["join_accept_plain_hex"].get<std::string>());

    const auto parsed = parse_phy_payload(*phy);
    REQUIRE(parsed.ok());
    const auto opened = crypto.open_join_accept(std::get<EncryptedJoinAccept>(parsed->body));
    REQUIRE(opened.ok());
    CHECK(*opened == accept);

    const std::uint16_t dev_nonce =
        static_cast<std::uint16_t>(std::stoul(fields["DevNonce"].get<std::string>(), nullptr, 16));
    const SessionKeys keys = crypto.derive_session_keys(accept.join_nonce, accept.net_id, dev_nonce);
    CHECK(to_hex(keys.nwk_s_key.bytes()) == (*ja)["derived_session"]["NwkSKey"].get<std::string>());
    CHECK(to_hex(keys.app_s_key.bytes()) == (*ja)["derived_session"]["AppSKey"].get<std::string>());
}

TEST_CASE("the downlink vectors are encoded byte for byte", "[unit][vectors]") {
    const Json vectors = schwebe::test::load_vectors("lorawan-frames.json");
    std::map<std::string, const Json*> devices;
    for (const Json& d : vectors["devices"]) devices[d["id"]] = &d;

    for (const Json& v : vectors["downlink_encoding"]) {
        INFO(v["id"].get<std::string>() << ": " << v["description"].get<std::string>());
        const Json& device = *devices.at(v["device"]);
        SessionCrypto crypto{*NwkSKey::from_hex(device["NwkSKey"].get<std::string>()),
                             *AppSKey::from_hex(device["AppSKey"].get<std::string>())};
        const Json& fields = v["fields"];
        DataFrame f;
        f.m_type = fields["type"] == "confirmed_down" ? MType::confirmed_data_down : MType::unconfirmed_data_down;
        f.dev_addr = *DevAddr::from_hex(fields["DevAddr"].get<std::string>());
        f.f_ctrl.ack = fields.contains("FCtrl") && fields["FCtrl"].value("ACK", false);
        if (fields.contains("FOpts")) f.f_opts = *FOpts::from(hex(fields["FOpts"].get<std::string>()));
        if (fields.contains("FPort")) f.f_port = fields["FPort"].get<std::uint8_t>();
        if (fields.contains("payload")) f.frm_payload = hex(fields["payload"].get<std::string>());

        const auto phy = build_data_frame(crypto, f, fields["FCnt"].get<std::uint32_t>());
        REQUIRE(phy.ok());
        CHECK(to_hex(*phy) == v["phy_payload_hex"].get<std::string>());

        // And the device's view of it: MIC under the full counter, payload back in clear.
        auto parsed = parse_phy_payload(*phy);
        REQUIRE(parsed.ok());
        const auto& down = std::get<DataFrame>(parsed->body);
        CHECK(crypto.verify_data_mic(Direction::downlink, down.dev_addr, fields["FCnt"].get<std::uint32_t>(),
                                     ByteView{*phy}.first(phy->size() - 4), down.mic));
        if (down.f_port) {
            CHECK(crypto.crypt_frm_payload(*down.f_port, Direction::downlink, down.dev_addr,
                                           fields["FCnt"].get<std::uint32_t>(), down.frm_payload) == f.frm_payload);
        }
    }
}
