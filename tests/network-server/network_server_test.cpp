// The network server end to end: simulated gateways send over real UDP on 127.0.0.1 to the bridge, the network
// server processes with its SQLite store in a real file, and the test reads what comes out (events, downlinks as
// the device would decode them, stored counters).

#include <map>

#include "lorawan/net_id.hpp"
#include "network-server/mac.hpp"
#include "ns_fixture.hpp"

using namespace schwebe;
using namespace schwebe::test;
using Json = nlohmann::json;
using lorawan::Eui64;

namespace {

const Eui64 gw_a = *Eui64::from_hex("0016c001f153a14c");
const Eui64 gw_b = *Eui64::from_hex("0016c001f153a14d");
const Eui64 gw_c = *Eui64::from_hex("0016c001f153a14e");

std::uint32_t tmst_of(const sim::ReceivedDownlink& d) { return d.txpk["tmst"].get<std::uint32_t>(); }

}  // namespace

TEST_CASE("every frame of the shared vectors through UDP: accepts reach the events, rejects only their reason",
          "[e2e][ns]") {
    const Json vectors = load_vectors("lorawan-frames.json");
    NsFixture f;
    auto profile = f.profile("abp-1.0.3", ns::Activation::abp);
    profile.adr_enabled = false;
    const auto abp_profile = f.add_profile(profile);
    const auto otaa_profile = f.add_profile(f.profile("otaa-1.0.3", ns::Activation::otaa));

    // The vectors' devices; ABP ones get a DevEUI of our choosing (the vectors identify them by DevAddr).
    std::map<std::string, Eui64> dev_euis;
    std::map<std::string, lorawan::AppKey> app_keys;
    std::uint64_t next_eui = 0x70b3d50000000001;
    for (const Json& d : vectors["devices"]) {
        const std::string id = d["id"];
        if (d["activation"] == "ABP") {
            dev_euis[id] = Eui64::from_u64(next_eui++);
            f.add_abp(dev_euis[id], abp_profile, *lorawan::DevAddr::from_hex(d["DevAddr"].get<std::string>()),
                      *lorawan::NwkSKey::from_hex(d["NwkSKey"].get<std::string>()),
                      *lorawan::AppSKey::from_hex(d["AppSKey"].get<std::string>()));
        } else {
            dev_euis[id] = *Eui64::from_hex(d["DevEUI"].get<std::string>());
            app_keys.emplace(id, *lorawan::AppKey::from_hex(d["AppKey"].get<std::string>()));
            f.add_otaa(dev_euis[id], otaa_profile, *Eui64::from_hex(d["JoinEUI"].get<std::string>()),
                       app_keys.at(id));
        }
    }
    auto gw = f.gateway(gw_a);

    std::uint32_t tmst = 1'000'000;
    for (const Json& v : vectors["frames"]) {
        if (v.contains("send_as_uplink") && v["send_as_uplink"] == false) continue;
        const std::string id = v["id"];
        const Json& expected = v["expected"];
        const std::string device = v["device"].is_string() ? v["device"].get<std::string>() : std::string();
        INFO(id << ": " << v["description"].get<std::string>());

        if (id == "F34") {
            // The vectors' precondition: the server holds the session of J-ACCEPT. An operator's write on another
            // connection, which the running server must see at once.
            const Json& s = vectors["devices"][4]["session_from_join"];
            auto other = sqlite::Database::open(f.dir.db_path());
            auto update = other.prepare(
                "UPDATE device_sessions SET dev_addr = ?1, nwk_s_key = ?2, app_s_key = ?3, f_cnt_up = NULL "
                "WHERE dev_eui = ?4");
            update.bind_text(1, s["DevAddr"].get<std::string>())
                .bind_text(2, s["NwkSKey"].get<std::string>())
                .bind_text(3, s["AppSKey"].get<std::string>())
                .bind_text(4, dev_euis.at(device).to_string());
            update.step();
            REQUIRE(other.changes() == 1);
        }

        // TX_ACKs of earlier replies may arrive at any time: they are not the frame's doing.
        auto frame_events = [&] { return f.events.events.size() - f.events.of<ns::TxAckEvent>().size(); };
        const auto events_before = frame_events();
        const auto uplinks_before = f.events.of<ns::UplinkEvent>().size();
        const auto downlinks_before = gw.downlinks.size();
        std::optional<std::uint32_t> f_cnt_before;
        if (dev_euis.contains(device) && f.store.find_device(dev_euis.at(device))->session) {
            f_cnt_before = f.f_cnt_up(dev_euis.at(device));
        }
        const std::string reason = expected.value("reason", std::string());
        const auto drops_before = reason.empty() ? 0 : f.drops(reason);
        tmst += 10'000'000;

        f.send(gw, packet(hex(v["phy_payload_hex"].get<std::string>()), tmst));

        if (expected["outcome"] == "reject") {
            CHECK(f.drops(reason) == drops_before + 1);
            CHECK(frame_events() == events_before);
            if (f_cnt_before || (dev_euis.contains(device) && f.store.find_device(dev_euis.at(device))->session)) {
                CHECK(f.f_cnt_up(dev_euis.at(device)) == f_cnt_before);
            }
            continue;
        }
        if (expected.value("join", false)) {
            const auto joins = f.events.of<ns::JoinEvent>();
            REQUIRE(!joins.empty());
            CHECK(joins.back().device_info.dev_eui == dev_euis.at(device));
            // The join-accept, as the device reads it: decrypted and MIC-checked with its AppKey.
            REQUIRE(sim::run_until(f.io, [&] { return gw.downlinks.size() > downlinks_before; }));
            const auto& down = gw.downlinks.back();
            CHECK(tmst_of(down) == tmst + 5'000'000);
            auto parsed = lorawan::parse_phy_payload(down.phy_payload);
            REQUIRE(parsed.ok());
            lorawan::JoinCrypto crypto(app_keys.at(device));
            auto accept = crypto.open_join_accept(std::get<lorawan::EncryptedJoinAccept>(parsed->body));
            REQUIRE(accept.ok());
            CHECK(accept->dev_addr == joins.back().dev_addr);
            CHECK(accept->net_id == lorawan::NetId{0x13});
            CHECK(accept->cf_list.has_value());
            continue;
        }
        const auto expected_f_cnt = expected["fcnt32"].get<std::uint32_t>();
        CHECK(f.f_cnt_up(dev_euis.at(device)) == expected_f_cnt);
        const auto ups = f.events.of<ns::UplinkEvent>();
        if (expected["application"].is_null()) {
            CHECK(ups.size() == uplinks_before);  // MAC commands only: nothing for the application
            continue;
        }
        REQUIRE(ups.size() == uplinks_before + 1);
        const auto& up = ups.back();
        CHECK(up.device_info.dev_eui == dev_euis.at(device));
        CHECK(up.f_cnt == expected_f_cnt);
        CHECK(up.f_port == expected["application"]["fPort"].get<int>());
        CHECK(lorawan::to_hex(up.data) == expected["application"]["payload_hex"].get<std::string>());
        CHECK(up.confirmed == expected["confirmed"].get<bool>());
        CHECK(up.adr == expected["adr"].get<bool>());
        REQUIRE(up.rx_info.size() == 1);
        CHECK(up.rx_info[0].gateway_id == gw_a);
        CHECK(up.rx_info[0].tmst == tmst);
    }
    // Nothing was dropped but the frames the vectors reject.
    std::size_t rejects = 0;
    for (const Json& v : vectors["frames"]) rejects += v["expected"]["outcome"] == "reject";
    CHECK(f.network_server.stats().dropped == rejects);
}

TEST_CASE("OTAA join, then a confirmed uplink answered in RX1: the device reads MIC, FCntDown and ACK", "[e2e][ns]") {
    NsFixture f;
    auto profile = f.profile("otaa", ns::Activation::otaa);
    profile.rx1_delay_s = 2;  // LTE backhaul
    profile.rx2_dr = 3;
    const auto profile_id = f.add_profile(profile);
    const Eui64 dev_eui = *Eui64::from_hex("0004a30b001c0530");
    const Eui64 join_eui = *Eui64::from_hex("70b3d57ed0000000");
    const auto app_key = *lorawan::AppKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c");
    f.add_otaa(dev_eui, profile_id, join_eui, app_key);
    auto gw = f.gateway(gw_a);

    lorawan::JoinCrypto join_crypto(app_key);
    lorawan::JoinRequest request{join_eui, dev_eui, 0x1234, {}};
    request.mic = join_crypto.join_request_mic(request);
    f.send(gw, packet(lorawan::serialize(request), 2'000'000, -90, 3.0, 9, 868.3));

    REQUIRE(f.events.of<ns::JoinEvent>().size() == 1);
    REQUIRE(sim::run_until(f.io, [&] { return gw.downlinks.size() == 1; }));
    const auto& accept_down = gw.downlinks[0];
    CHECK(tmst_of(accept_down) == 2'000'000 + 5'000'000);  // JOIN_ACCEPT_DELAY1
    CHECK(accept_down.txpk["freq"].get<double>() == Approx(868.3));
    CHECK(accept_down.txpk["datr"] == "SF9BW125");
    auto parsed = lorawan::parse_phy_payload(accept_down.phy_payload);
    REQUIRE(parsed.ok());
    auto accept = join_crypto.open_join_accept(std::get<lorawan::EncryptedJoinAccept>(parsed->body));
    REQUIRE(accept.ok());
    CHECK(accept->join_nonce == 1);
    CHECK(accept->rx_delay == 2);
    CHECK(accept->dl_settings.rx2_dr == 3);
    CHECK(lorawan::dev_addr_belongs_to(accept->dev_addr, lorawan::NetId{0x13}));
    const auto keys = join_crypto.derive_session_keys(accept->join_nonce, accept->net_id, 0x1234);
    lorawan::SessionCrypto session(keys.nwk_s_key, keys.app_s_key);

    f.send(gw, packet(data_uplink(session, accept->dev_addr, 0, 2, hex("0102"), true), 9'000'000, -90, 3.0, 9, 868.3));
    const auto ups = f.events.of<ns::UplinkEvent>();
    REQUIRE(ups.size() == 1);
    CHECK(ups[0].data == hex("0102"));
    CHECK(ups[0].confirmed);
    REQUIRE(sim::run_until(f.io, [&] { return gw.downlinks.size() == 2; }));
    const auto& reply = gw.downlinks[1];
    CHECK(tmst_of(reply) == 9'000'000 + 2'000'000);  // RX1 after the profile's 2 s
    CHECK(reply.txpk["freq"].get<double>() == Approx(868.3));
    CHECK(reply.txpk["datr"] == "SF9BW125");
    const auto read = read_downlink(session, reply.phy_payload, 0);
    CHECK(read.mic_ok);
    CHECK(read.frame.f_cnt_16 == 0);
    CHECK(read.frame.f_ctrl.ack);
    CHECK(read.frame.dev_addr == accept->dev_addr);
    REQUIRE(sim::run_until(f.io, [&] { return !f.events.of<ns::TxAckEvent>().empty(); }));
    CHECK(f.events.of<ns::TxAckEvent>().back().status == common::TxAckStatus::ok);

    // The next confirmed uplink gets the next FCntDown.
    f.send(gw, packet(data_uplink(session, accept->dev_addr, 1, 2, hex("03"), true), 19'000'000, -90, 3.0, 9, 868.3));
    REQUIRE(sim::run_until(f.io, [&] { return gw.downlinks.size() == 3; }));
    const auto second = read_downlink(session, gw.downlinks[2].phy_payload, 1);
    CHECK(second.mic_ok);
    CHECK(second.frame.f_cnt_16 == 1);
}

TEST_CASE("three gateways hear one frame: one uplink event with three rx infos, the reply via the best one",
          "[e2e][ns]") {
    auto options = quick_options();
    options.dedup.window = std::chrono::milliseconds{200};  // the default window
    options.dedup.cooldown = std::chrono::milliseconds{1000};
    NsFixture f(options);
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    const Eui64 dev_eui = Eui64::from_u64(0x1111);
    const lorawan::DevAddr addr{0x260b2001};
    const auto nwk = *lorawan::NwkSKey::from_hex("000102030405060708090a0b0c0d0e0f");
    const auto app = *lorawan::AppSKey::from_hex("0f0e0d0c0b0a09080706050403020100");
    f.add_abp(dev_eui, profile_id, addr, nwk, app);
    auto a = f.gateway(gw_a);
    auto b = f.gateway(gw_b);
    auto c = f.gateway(gw_c);

    lorawan::SessionCrypto session(nwk, app);
    const auto phy = data_uplink(session, addr, 7, 1, hex("aabb"), true);
    const auto before = f.processed();
    a.push({packet(phy, 1'000'000, -100, 2.0)});
    b.push({packet(phy, 2'000'000, -70, 9.5)});   // best SNR
    c.push({packet(phy, 3'000'000, -60, 9.5)});   // same SNR, better RSSI: wins
    REQUIRE(sim::run_until(f.io, [&] { return f.processed() > before; }));

    const auto ups = f.events.of<ns::UplinkEvent>();
    REQUIRE(ups.size() == 1);
    CHECK(ups[0].rx_info.size() == 3);
    REQUIRE(sim::run_until(f.io, [&] { return c.downlinks.size() == 1; }));
    CHECK(a.downlinks.empty());
    CHECK(b.downlinks.empty());
    CHECK(tmst_of(c.downlinks[0]) == 3'000'000 + 1'000'000);  // RX1 from gateway c's own timestamp

    // A copy arriving after the window is late: dropped and counted, not processed again.
    b.push({packet(phy, 2'000'000, -70, 9.5)});
    REQUIRE(sim::run_until(f.io, [&] {
        return f.metrics.value("schwebe_ns_dedup_copies_total", {{"outcome", "late_copy"}}) == 1;
    }));
    CHECK(f.events.of<ns::UplinkEvent>().size() == 1);
}

TEST_CASE("TX_ACK TOO_LATE on RX1: the same downlink goes out in RX2", "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    const Eui64 dev_eui = Eui64::from_u64(0x2222);
    const lorawan::DevAddr addr{0x260b2002};
    const auto nwk = *lorawan::NwkSKey::from_hex("101112131415161718191a1b1c1d1e1f");
    const auto app = *lorawan::AppSKey::from_hex("202122232425262728292a2b2c2d2e2f");
    f.add_abp(dev_eui, profile_id, addr, nwk, app);
    auto gw = f.gateway(gw_a);
    gw.answer_tx_acks_in_order({"TOO_LATE"});

    lorawan::SessionCrypto session(nwk, app);
    f.send(gw, packet(data_uplink(session, addr, 0, 1, hex("01"), true), 4'000'000, -80, 5.0, 10));
    REQUIRE(sim::run_until(f.io, [&] { return !f.events.of<ns::TxAckEvent>().empty(); }));
    REQUIRE(gw.downlinks.size() == 2);
    CHECK(gw.downlinks[0].phy_payload == gw.downlinks[1].phy_payload);
    CHECK(gw.downlinks[0].txpk["freq"].get<double>() == Approx(868.1));
    CHECK(gw.downlinks[0].txpk["datr"] == "SF10BW125");
    CHECK(gw.downlinks[1].txpk["freq"].get<double>() == Approx(869.525));
    CHECK(gw.downlinks[1].txpk["datr"] == "SF12BW125");
    CHECK(tmst_of(gw.downlinks[1]) == 4'000'000 + 2'000'000);
    const auto tx = f.events.of<ns::TxAckEvent>().back();
    CHECK(tx.status == common::TxAckStatus::ok);
    REQUIRE(tx.item);
    CHECK(tx.item->frequency_hz == 869'525'000);
    CHECK(read_downlink(session, gw.downlinks[1].phy_payload, 0).frame.f_ctrl.ack);
}
