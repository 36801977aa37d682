// The network server end to end, one scenario of the LoRaWAN 1.0.x specification per test case: shared DevAddrs,
// the 16-bit counter rolling over, counter resets, ADR, the MAC commands the network answers or asks, the downlink
// queue, devices changed by another process, and OTAA DevNonce rules. Simulated gateways talk real UDP to the bridge;
// the store is a real SQLite file. Expected values come from the specification and the test's own inputs.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lorawan/eu868.hpp"
#include "ns_fixture.hpp"

using namespace schwebe;
using namespace schwebe::test;
using lorawan::Eui64;

namespace {

const Eui64 gw_a = *Eui64::from_hex("0016c001f153a14c");
const Eui64 gw_b = *Eui64::from_hex("0016c001f153a14d");

template <class T>
std::size_t count_of(const RecordingEvents& events) {
    std::size_t n = 0;
    for (const auto& e : events.events) n += std::holds_alternative<T>(e) ? 1 : 0;
    return n;
}

/// Sends `rxpk` from `gw` and waits for the Class A reply and its TX_ACK event: returns the reply. Earlier downlinks
/// are settled (received and answered) first, so that the next one the gateway receives is this uplink's.
sim::ReceivedDownlink send_expecting_reply(NsFixture& f, sim::SimulatedGateway& gw, const sim::Rxpk& rxpk) {
    const auto& stats = f.network_server.stats();
    auto settled = [&] { return count_of<ns::TxAckEvent>(f.events) == stats.downlinks_scheduled; };
    REQUIRE(sim::run_until(f.io, settled));
    const auto scheduled_before = stats.downlinks_scheduled;
    const auto downlinks_before = gw.downlinks.size();
    f.send(gw, rxpk);
    REQUIRE(stats.downlinks_scheduled == scheduled_before + 1);
    REQUIRE(sim::run_until(f.io, settled));
    REQUIRE(gw.downlinks.size() == downlinks_before + 1);
    return gw.downlinks.back();
}

template <class T>
std::optional<T> find_mac(const std::vector<lorawan::MacCommand>& commands) {
    for (const auto& c : commands) {
        if (const auto* t = std::get_if<T>(&c)) return *t;
    }
    return std::nullopt;
}

template <class T>
bool has_mac(const std::vector<lorawan::MacCommand>& commands) {
    return find_mac<T>(commands).has_value();
}

/// An ABP device as it keeps itself: its keys and its own counters.
struct AbpDevice {
    Eui64 dev_eui;
    lorawan::DevAddr dev_addr;
    lorawan::NwkSKey nwk_s_key;
    lorawan::AppSKey app_s_key;
    lorawan::SessionCrypto crypto{nwk_s_key, app_s_key};
    std::uint32_t f_cnt_up = 0;
    std::uint32_t f_cnt_down = 0;  ///< the next downlink counter it expects (LoRaWAN 1.0.4 §4.3.1.5)

    AbpDevice(std::uint64_t eui, std::uint32_t addr, std::string_view nwk, std::string_view app)
        : dev_eui(Eui64::from_u64(eui)),
          dev_addr(addr),
          nwk_s_key(*lorawan::NwkSKey::from_hex(nwk)),
          app_s_key(*lorawan::AppSKey::from_hex(app)) {}

    void add_to(NsFixture& f, const std::string& profile_id) {
        f.add_abp(dev_eui, profile_id, dev_addr, nwk_s_key, app_s_key);
    }

    /// The next uplink: FCnt taken and incremented.
    lorawan::Bytes uplink(std::optional<std::uint8_t> f_port, const lorawan::Bytes& payload, bool confirmed = false,
                          lorawan::FCtrl f_ctrl = {}, lorawan::ByteView f_opts = {}) {
        return data_uplink(crypto, dev_addr, f_cnt_up++, f_port, payload, confirmed, f_ctrl, f_opts);
    }

    /// A reply as the device reads it, under the downlink counter it expects next.
    ReadDownlink read(const sim::ReceivedDownlink& down) {
        auto out = read_downlink(crypto, down.phy_payload, f_cnt_down);
        ++f_cnt_down;
        return out;
    }
};

lorawan::FCtrl adr_bit() {
    lorawan::FCtrl c;
    c.adr = true;
    return c;
}

}  // namespace

// ---- 1. shared DevAddr ----------------------------------------------------------------------------------------------

TEST_CASE("two ABP devices share one DevAddr: each frame is the device whose keys verify it - a third key is dropped",
          "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    // DESIGN.md, Device lookup: a DevAddr is not unique; the MIC decides.
    AbpDevice one(0x0101, 0x260b3001, "11111111111111111111111111111111", "21212121212121212121212121212121");
    AbpDevice two(0x0202, 0x260b3001, "33333333333333333333333333333333", "43434343434343434343434343434343");
    one.add_to(f, profile_id);
    two.add_to(f, profile_id);
    auto gw = f.gateway(gw_a);

    std::uint32_t tmst = 1'000'000;
    auto send_and_check = [&](AbpDevice& device, const lorawan::Bytes& payload) {
        const auto f_cnt = device.f_cnt_up;
        const auto ups_before = count_of<ns::UplinkEvent>(f.events);
        f.send(gw, packet(device.uplink(1, payload), tmst += 1'000'000));
        const auto ups = f.events.of<ns::UplinkEvent>();
        REQUIRE(ups.size() == ups_before + 1);
        CHECK(ups.back().device_info.dev_eui == device.dev_eui);
        CHECK(ups.back().dev_addr == device.dev_addr);
        CHECK(ups.back().f_cnt == f_cnt);
        CHECK(ups.back().data == payload);
        CHECK(f.f_cnt_up(device.dev_eui) == f_cnt);
    };
    // Interleaved, with the same counters: each device's counter is its own.
    send_and_check(one, hex("a1"));
    send_and_check(two, hex("b1b1"));
    send_and_check(two, hex("b2b2"));
    send_and_check(one, hex("a2"));
    send_and_check(one, hex("a3"));
    // The reply to a confirmed frame is under the keys of the device that sent it.
    const auto reply = two.read(send_expecting_reply(f, gw, packet(two.uplink(1, hex("b3"), true), tmst += 1'000'000)));
    CHECK(reply.mic_ok);
    CHECK(reply.frame.f_ctrl.ack);
    CHECK(f.events.of<ns::UplinkEvent>().back().device_info.dev_eui == two.dev_eui);

    AbpDevice stranger(0x0303, 0x260b3001, "55555555555555555555555555555555", "65656565656565656565656565656565");
    const auto events_before = f.events.events.size();
    f.send(gw, packet(stranger.uplink(1, hex("c1")), tmst += 1'000'000));
    CHECK(f.drops("mic_mismatch") == 1);
    CHECK(f.events.events.size() == events_before);
    CHECK(f.f_cnt_up(one.dev_eui) == 2);
    CHECK(f.f_cnt_up(two.dev_eui) == 2);
}

// ---- 2. FCnt rollover -----------------------------------------------------------------------------------------------

TEST_CASE("FCnt 65534, 65535, then 0x0000 on the air is 65536 - the confirmed one's reply verifies", "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0404, 0x260b3004, "0a0b0c0d0e0f00010203040506070809", "1a1b1c1d1e1f10111213141516171819");
    device.add_to(f, profile_id);
    // The downlink counter crosses 16 bits in the same exchange: an operator's edit on another connection, which the
    // running server must see (LoRaWAN 1.0.4 §4.3.1.5: both counters are 32 bits, 16 of them on the air).
    {
        auto other = sqlite::Database::open(f.dir.db_path());
        auto update = other.prepare("UPDATE device_sessions SET n_f_cnt_down = 65535 WHERE dev_eui = ?1");
        update.bind_text(1, device.dev_eui.to_string());
        update.step();
        REQUIRE(other.changes() == 1);
    }
    device.f_cnt_down = 65535;
    auto gw = f.gateway(gw_a);

    device.f_cnt_up = 65534;
    f.send(gw, packet(device.uplink(2, hex("01")), 1'000'000));
    const auto reply_65535 =
        device.read(send_expecting_reply(f, gw, packet(device.uplink(2, hex("02"), true), 2'000'000)));
    CHECK(reply_65535.mic_ok);
    CHECK(reply_65535.frame.f_cnt_16 == 0xffff);
    CHECK(reply_65535.frame.f_ctrl.ack);

    const auto on_air = device.uplink(2, hex("03"), true);
    REQUIRE(device.f_cnt_up == 65537);
    REQUIRE(std::get<lorawan::DataFrame>(lorawan::parse_phy_payload(on_air)->body).f_cnt_16 == 0x0000);
    const auto reply_65536 = device.read(send_expecting_reply(f, gw, packet(on_air, 3'000'000)));

    const auto ups = f.events.of<ns::UplinkEvent>();
    REQUIRE(ups.size() == 3);
    CHECK(ups[0].f_cnt == 65534);
    CHECK(ups[1].f_cnt == 65535);
    CHECK(ups[2].f_cnt == 65536);
    CHECK(ups[2].data == hex("03"));
    CHECK(ups[2].confirmed);
    CHECK(f.f_cnt_up(device.dev_eui) == 65536);
    // The device reads FCntDown 65536 from 0x0000 on the air and its MIC under the 32-bit value.
    CHECK(reply_65536.mic_ok);
    CHECK(reply_65536.frame.f_cnt_16 == 0x0000);
    CHECK(reply_65536.frame.f_ctrl.ack);
    CHECK(reply_65536.frame.dev_addr == device.dev_addr);
}

// ---- 3. counter reset -----------------------------------------------------------------------------------------------

TEST_CASE("FCnt 10, 11, then 0: relaxed takes it as a reset and logs it, strict drops it", "[e2e][ns]") {
    NsFixture f;
    const auto relaxed_profile = f.add_profile(f.profile("relaxed", ns::Activation::abp, lorawan::FCntMode::relaxed));
    const auto strict_profile = f.add_profile(f.profile("strict", ns::Activation::abp, lorawan::FCntMode::strict));
    AbpDevice relaxed(0x0505, 0x260b3005, "2b7e151628aed2a6abf7158809cf4f3c", "3b7e151628aed2a6abf7158809cf4f3c");
    AbpDevice strict(0x0606, 0x260b3006, "4b7e151628aed2a6abf7158809cf4f3c", "5b7e151628aed2a6abf7158809cf4f3c");
    relaxed.add_to(f, relaxed_profile);
    strict.add_to(f, strict_profile);
    auto gw = f.gateway(gw_a);

    std::uint32_t tmst = 1'000'000;
    for (AbpDevice* device : {&relaxed, &strict}) {
        device->f_cnt_up = 10;
        f.send(gw, packet(device->uplink(3, hex("0a")), tmst += 1'000'000));
        f.send(gw, packet(device->uplink(3, hex("0b")), tmst += 1'000'000));
        REQUIRE(f.f_cnt_up(device->dev_eui) == 11);
        device->f_cnt_up = 0;  // power cycle
    }

    SECTION("relaxed") {
        const auto ups_before = count_of<ns::UplinkEvent>(f.events);
        f.send(gw, packet(relaxed.uplink(3, hex("00")), tmst += 1'000'000));
        const auto ups = f.events.of<ns::UplinkEvent>();
        REQUIRE(ups.size() == ups_before + 1);
        CHECK(ups.back().device_info.dev_eui == relaxed.dev_eui);
        CHECK(ups.back().f_cnt == 0);
        CHECK(ups.back().data == hex("00"));
        const auto logs = f.events.of<ns::LogEvent>();
        REQUIRE(logs.size() == 1);
        CHECK(logs[0].code == "UPLINK_F_CNT_RESET");
        CHECK(logs[0].device_info.dev_eui == relaxed.dev_eui);
        CHECK(f.f_cnt_up(relaxed.dev_eui) == 0);
        // Counting goes on from the reset.
        f.send(gw, packet(relaxed.uplink(3, hex("01")), tmst += 1'000'000));
        CHECK(f.events.of<ns::UplinkEvent>().back().f_cnt == 1);
        CHECK(f.f_cnt_up(relaxed.dev_eui) == 1);
        CHECK(f.events.of<ns::LogEvent>().size() == 1);
    }
    SECTION("strict") {
        const auto events_before = f.events.events.size();
        f.send(gw, packet(strict.uplink(3, hex("00")), tmst += 1'000'000));
        CHECK(f.drops("mic_mismatch") == 1);
        CHECK(f.events.events.size() == events_before);
        CHECK(f.f_cnt_up(strict.dev_eui) == 11);
    }
}

// ---- 4. ADR ---------------------------------------------------------------------------------------------------------

namespace {

/// 20 confirmed uplinks at SF12 (DR0) with SNR 5 dB; returns the LinkADRReq of each reply (nullopt: none).
std::vector<std::optional<lorawan::LinkAdrReq>> sf12_history(NsFixture& f, sim::SimulatedGateway& gw, AbpDevice& device,
                                                             bool adr, std::uint32_t& tmst) {
    std::vector<std::optional<lorawan::LinkAdrReq>> out;
    for (int i = 0; i < 20; ++i) {
        const auto up = device.uplink(4, hex("aa"), true, adr ? adr_bit() : lorawan::FCtrl{});
        const auto reply = device.read(send_expecting_reply(f, gw, packet(up, tmst += 2'000'000, -118, 5.0, 12)));
        REQUIRE(reply.mic_ok);
        out.push_back(find_mac<lorawan::LinkAdrReq>(reply.mac_commands));
    }
    return out;
}

/// The settings a LinkADRReq leaves a device with 3 default channels at DR0, MaxEIRP, NbTrans 1 (LoRaWAN 1.0.4
/// §5.2: 15 in DataRate/TXPower keeps the value; NbTrans 0 means 1; RP002 §2.4.5 ChMaskCntl 6: all channels on).
void check_link_adr(const lorawan::LinkAdrReq& req, std::uint8_t dr) {
    CHECK(req.data_rate == dr);
    CHECK((req.tx_power == 0 || req.tx_power == 15));  // the margin is all spent on the DR
    CHECK(req.nb_trans <= 1);                          // no loss: one transmission
    CHECK((req.ch_mask_cntl == 6 || (req.ch_mask_cntl == 0 && (req.ch_mask & 0x0007) == 0x0007)));
}

}  // namespace

TEST_CASE("ADR: SNR 5 dB at SF12 asks DR5 with 10 dB margin, DR1 with 20 dB - the answer moves the state - no more",
          "[e2e][ns]") {
    NsFixture f;
    auto margin_10 = f.profile("adr-10", ns::Activation::abp);
    margin_10.adr_enabled = true;
    margin_10.adr_margin_db = 10;
    auto margin_20 = margin_10;
    margin_20.name = "adr-20";
    margin_20.adr_margin_db = 20;
    const auto profile_10 = f.add_profile(margin_10);
    const auto profile_20 = f.add_profile(margin_20);
    AbpDevice device(0x0707, 0x260b3007, "6b7e151628aed2a6abf7158809cf4f3c", "7b7e151628aed2a6abf7158809cf4f3c");
    AbpDevice parked(0x0808, 0x260b3008, "8b7e151628aed2a6abf7158809cf4f3c", "9b7e151628aed2a6abf7158809cf4f3c");
    AbpDevice no_adr(0x0909, 0x260b3009, "ab7e151628aed2a6abf7158809cf4f3c", "bb7e151628aed2a6abf7158809cf4f3c");
    device.add_to(f, profile_10);
    parked.add_to(f, profile_20);
    no_adr.add_to(f, profile_10);
    auto gw = f.gateway(gw_a);
    std::uint32_t tmst = 1'000'000;

    // DR0 needs −20 dB: 5 − (−20) − 10 = 15 dB to spare, 3 dB per step: 5 steps, DR0 → DR5.
    const auto asked = sf12_history(f, gw, device, true, tmst);
    REQUIRE(asked.back());
    check_link_adr(*asked.back(), 5);

    // LinkADRAns with every ACK bit (LoRaWAN 1.0.4 §5.2: 03 07), sent at DR5 as asked.
    const auto answer = hex("0307");
    const auto answered = device.read(send_expecting_reply(
        f, gw, packet(device.uplink(4, hex("bb"), true, adr_bit(), answer), tmst += 2'000'000, -118, 5.0, 7)));
    CHECK(answered.mic_ok);
    CHECK_FALSE(has_mac<lorawan::LinkAdrReq>(answered.mac_commands));
    {
        const auto record = f.store.find_device(device.dev_eui);
        REQUIRE(record);
        REQUIRE(record->session);
        const auto& mac = record->session->mac;
        CHECK(mac.dr == 5);
        CHECK(mac.tx_power_index == 0);
        CHECK(mac.nb_trans == 1);
        CHECK_FALSE(mac.pending_link_adr);
    }
    // At DR5 (needs −7.5 dB): 5 + 7.5 − 10 = 2.5 dB, 0 steps: DR and power stay, nothing to ask.
    for (int i = 0; i < 3; ++i) {
        const auto up = device.uplink(4, hex("cc"), true, adr_bit());
        const auto reply = device.read(send_expecting_reply(f, gw, packet(up, tmst += 2'000'000, -118, 5.0, 7)));
        CHECK(reply.mic_ok);
        CHECK_FALSE(has_mac<lorawan::LinkAdrReq>(reply.mac_commands));
    }
    CHECK(f.store.find_device(device.dev_eui)->session->mac.dr == 5);

    // 20 dB of installation margin: 5 + 20 − 20 = 5 dB, 1 step: DR1.
    const auto parked_asked = sf12_history(f, gw, parked, true, tmst);
    REQUIRE(parked_asked.back());
    check_link_adr(*parked_asked.back(), 1);

    // The device did not set the ADR bit: the network leaves its data rate alone (§4.3.1.1).
    for (const auto& req : sf12_history(f, gw, no_adr, false, tmst)) CHECK_FALSE(req);
}

// ---- 5. MAC commands the network answers or asks -------------------------------------------------------------------

TEST_CASE("LinkCheckReq heard by two gateways: margin over the best SNR, gateway count, reply via the best",
          "[e2e][ns]") {
    auto options = quick_options();
    options.dedup.window = std::chrono::milliseconds{200};  // both copies in one set
    NsFixture f(options);
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0a0a, 0x260b300a, "cb7e151628aed2a6abf7158809cf4f3c", "db7e151628aed2a6abf7158809cf4f3c");
    device.add_to(f, profile_id);
    auto a = f.gateway(gw_a);
    auto b = f.gateway(gw_b);

    const auto phy = device.uplink(std::nullopt, {}, false, {}, hex("02"));
    const auto before = f.processed();
    a.push({packet(phy, 1'000'000, -100, 4.0, 9, 868.3)});
    b.push({packet(phy, 7'000'000, -105, 7.5, 9, 868.3)});
    REQUIRE(sim::run_until(f.io, [&] { return f.processed() > before; }));
    REQUIRE(sim::run_until(f.io, [&] { return b.downlinks.size() == 1; }));
    CHECK(a.downlinks.empty());
    CHECK(b.downlinks[0].txpk["tmst"].get<std::uint32_t>() == 7'000'000 + 1'000'000);  // RX1 on b's clock

    const auto reply = device.read(b.downlinks[0]);
    CHECK(reply.mic_ok);
    const auto ans = find_mac<lorawan::LinkCheckAns>(reply.mac_commands);
    REQUIRE(ans);
    // SF9 (DR3) needs −12.5 dB: floor(7.5 + 12.5) = 20 (LoRaWAN 1.0.4 §5.1).
    CHECK(ans->margin == 20);
    CHECK(ans->gw_cnt == 2);
}

TEST_CASE("DeviceTimeReq: the answer is the GPS time of the gateway's reception time", "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0b0b, 0x260b300b, "eb7e151628aed2a6abf7158809cf4f3c", "fb7e151628aed2a6abf7158809cf4f3c");
    device.add_to(f, profile_id);
    auto gw = f.gateway(gw_a);

    auto rxpk = packet(device.uplink(std::nullopt, {}, false, {}, hex("0d")), 1'000'000);
    rxpk.time = "2026-11-21T08:00:00.500000Z";
    const auto reply = device.read(send_expecting_reply(f, gw, rxpk));
    CHECK(reply.mic_ok);
    const auto ans = find_mac<lorawan::DeviceTimeAns>(reply.mac_commands);
    REQUIRE(ans);

    // GPS time: seconds since 1980-01-06T00:00:00Z, ahead of UTC by the 18 leap seconds since (LoRaWAN 1.0.4 §5.9).
    using namespace std::chrono;
    const sys_time<milliseconds> received = sys_days{year{2026} / November / 21} + hours{8} + milliseconds{500};
    const auto gps = received - sys_days{year{1980} / January / 6} + seconds{18};
    CHECK(ans->seconds == static_cast<std::uint32_t>(floor<seconds>(gps).count()));
    CHECK(ans->fractional == 128);  // 0.5 s in 1/256 s
}

TEST_CASE("DevStatusReq at the profile's interval - the answer becomes a status event", "[e2e][ns]") {
    NsFixture f;
    auto profile = f.profile("status-hourly", ns::Activation::abp);
    profile.dev_status_interval = std::chrono::hours{1};
    const auto profile_id = f.add_profile(profile);
    AbpDevice device(0x0c0c, 0x260b300c, "0c7e151628aed2a6abf7158809cf4f3c", "1c7e151628aed2a6abf7158809cf4f3c");
    device.add_to(f, profile_id);
    auto gw = f.gateway(gw_a);
    std::uint32_t tmst = 1'000'000;

    // Never asked before: due with the first uplink, which has nothing else to answer.
    const auto first = device.read(send_expecting_reply(f, gw, packet(device.uplink(1, hex("01")), tmst += 2'000'000)));
    CHECK(first.mic_ok);
    CHECK(has_mac<lorawan::DevStatusReq>(first.mac_commands));

    // DevStatusAns battery 127, margin 9 (LoRaWAN 1.0.4 §5.5), as FPort 0 payload (encrypted with NwkSKey).
    f.send(gw, packet(device.uplink(0, hex("067f09")), tmst += 2'000'000));
    const auto statuses = f.events.of<ns::StatusEvent>();
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].device_info.dev_eui == device.dev_eui);
    CHECK(statuses[0].battery_level == Approx(127.0 / 254.0 * 100.0));
    CHECK(statuses[0].battery_level == Approx(50.0));
    CHECK_FALSE(statuses[0].battery_level_unavailable);
    CHECK_FALSE(statuses[0].external_power_source);
    CHECK(statuses[0].margin == 9);
    CHECK(f.events.of<ns::UplinkEvent>().size() == 1);  // MAC commands are no application data

    // Within the hour: no DevStatusReq again.
    for (int i = 0; i < 3; ++i) {
        const auto reply =
            device.read(send_expecting_reply(f, gw, packet(device.uplink(1, hex("02"), true), tmst += 2'000'000)));
        CHECK(reply.mic_ok);
        CHECK_FALSE(has_mac<lorawan::DevStatusReq>(reply.mac_commands));
    }
}

// ---- 6. the downlink queue ------------------------------------------------------------------------------------------

TEST_CASE("downlink queue: order and FPending, confirmed items with ACK and retries, too large, refused ports",
          "[e2e][ns]") {
    auto options = quick_options();
    options.confirmed_downlink_retries = 2;
    NsFixture f(options);
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0d0d, 0x260b300d, "2c7e151628aed2a6abf7158809cf4f3c", "3c7e151628aed2a6abf7158809cf4f3c");
    device.add_to(f, profile_id);
    auto gw = f.gateway(gw_a);
    std::uint32_t tmst = 1'000'000;
    auto next_packet = [&](const lorawan::Bytes& phy) { return packet(phy, tmst += 2'000'000); };
    auto& ns_server = f.network_server;

    SECTION("two unconfirmed items: the first with FPending, the second without, then the queue is empty") {
        const auto first = hex("0102030405");
        const auto second = hex("a0a1a2");
        REQUIRE(ns_server.enqueue_downlink(device.dev_eui, 10, first, false).ok());
        REQUIRE(ns_server.enqueue_downlink(device.dev_eui, 10, second, false).ok());

        const auto r1 = device.read(send_expecting_reply(f, gw, next_packet(device.uplink(1, hex("00")))));
        CHECK(r1.mic_ok);
        CHECK(r1.frame.m_type == lorawan::MType::unconfirmed_data_down);
        CHECK(r1.frame.f_port == 10);
        CHECK(r1.payload == first);
        CHECK(r1.frame.f_ctrl.f_pending);
        CHECK(f.store.queue(device.dev_eui).size() == 1);

        const auto r2 = device.read(send_expecting_reply(f, gw, next_packet(device.uplink(1, hex("00")))));
        CHECK(r2.mic_ok);
        CHECK(r2.frame.f_port == 10);
        CHECK(r2.payload == second);
        CHECK_FALSE(r2.frame.f_ctrl.f_pending);
        CHECK(f.store.queue(device.dev_eui).empty());
    }

    SECTION("a confirmed item is removed by the device's ACK") {
        const auto data = hex("c0ffee");
        const auto item = ns_server.enqueue_downlink(device.dev_eui, 20, data, true);
        REQUIRE(item.ok());
        const auto reply = device.read(send_expecting_reply(f, gw, next_packet(device.uplink(1, hex("00")))));
        CHECK(reply.mic_ok);
        CHECK(reply.frame.m_type == lorawan::MType::confirmed_data_down);
        CHECK(reply.frame.f_port == 20);
        CHECK(reply.payload == data);
        CHECK(f.store.queue(device.dev_eui).size() == 1);  // until acknowledged

        lorawan::FCtrl ack;
        ack.ack = true;
        f.send(gw, next_packet(device.uplink(1, hex("00"), false, ack)));
        const auto acks = f.events.of<ns::AckEvent>();
        REQUIRE(acks.size() == 1);
        CHECK(acks[0].acknowledged);
        CHECK(acks[0].queue_item_id == item->id);
        CHECK(acks[0].f_cnt_down == device.f_cnt_down - 1);
        CHECK(acks[0].device_info.dev_eui == device.dev_eui);
        CHECK(f.store.queue(device.dev_eui).empty());
    }

    SECTION("a confirmed item never acknowledged goes out 1 + 2 times, then is given up") {
        const auto data = hex("deadbeef");
        const auto item = ns_server.enqueue_downlink(device.dev_eui, 30, data, true);
        REQUIRE(item.ok());
        std::vector<std::uint32_t> f_cnt_downs;
        for (int attempt = 0; attempt < 3; ++attempt) {
            const auto f_cnt_down = device.f_cnt_down;
            const auto reply = device.read(send_expecting_reply(f, gw, next_packet(device.uplink(1, hex("00")))));
            CHECK(reply.mic_ok);
            CHECK(reply.frame.m_type == lorawan::MType::confirmed_data_down);
            CHECK(reply.frame.f_port == 30);
            CHECK(reply.payload == data);
            f_cnt_downs.push_back(f_cnt_down);
        }
        CHECK(f_cnt_downs == std::vector<std::uint32_t>{0, 1, 2});  // each retry a new frame, a new FCntDown
        CHECK(f.events.of<ns::AckEvent>().empty());

        f.send(gw, next_packet(device.uplink(1, hex("00"))));
        const auto acks = f.events.of<ns::AckEvent>();
        REQUIRE(acks.size() == 1);
        CHECK_FALSE(acks[0].acknowledged);
        CHECK(acks[0].queue_item_id == item->id);
        CHECK(acks[0].f_cnt_down == 2);
        CHECK(f.store.queue(device.dev_eui).empty());
    }

    SECTION("an item larger than both windows allow is dropped with a log event") {
        // RX1 at DR5 carries 242 bytes, RX2 at DR0 only 51 (RP002 Table 2.4.6): 200 fits one window, not both.
        REQUIRE(lorawan::eu868::max_payload(0)->frm_payload == 51);
        const auto item = ns_server.enqueue_downlink(device.dev_eui, 40, lorawan::Bytes(200, 0x5a), false);
        REQUIRE(item.ok());
        const auto scheduled_before = f.metrics.value("schwebe_ns_downlinks_scheduled_total");
        f.send(gw, next_packet(device.uplink(1, hex("00"))));
        const auto logs = f.events.of<ns::LogEvent>();
        REQUIRE(logs.size() == 1);
        CHECK(logs[0].code == "DOWNLINK_PAYLOAD_SIZE");
        CHECK(logs[0].device_info.dev_eui == device.dev_eui);
        CHECK(logs[0].context.at("queue_item_id") == item->id);
        CHECK(f.store.queue(device.dev_eui).empty());
        // An unconfirmed uplink without MAC commands, and nothing left to send: no reply at all (an empty downlink
        // would only spend airtime and an FCntDown).
        CHECK(f.metrics.value("schwebe_ns_downlinks_scheduled_total") == scheduled_before);

        // A payload that fits both windows still goes out after it.
        const auto small = hex("5a5a");
        REQUIRE(ns_server.enqueue_downlink(device.dev_eui, 40, small, false).ok());
        const auto reply = device.read(send_expecting_reply(f, gw, next_packet(device.uplink(1, hex("00")))));
        CHECK(reply.mic_ok);
        CHECK(reply.frame.f_cnt_16 == 0);  // the first downlink counter: none was spent on the dropped item
        CHECK(reply.payload == small);
    }

    SECTION("FPort 0 (MAC commands) and 224 (test protocol) are refused") {
        for (const std::uint8_t f_port : {std::uint8_t{0}, std::uint8_t{224}}) {
            const auto refused = ns_server.enqueue_downlink(device.dev_eui, f_port, hex("01"), false);
            REQUIRE_FALSE(refused.ok());
            CHECK(refused.error().find("f_port") != std::string::npos);
        }
        CHECK(f.store.queue(device.dev_eui).empty());
    }
}

// ---- 7. devices changed by another process --------------------------------------------------------------------------

TEST_CASE("a device added or removed through another connection counts at its next frame", "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0e0e, 0x260b300e, "4c7e151628aed2a6abf7158809cf4f3c", "5c7e151628aed2a6abf7158809cf4f3c");
    auto gw = f.gateway(gw_a);
    std::uint32_t tmst = 1'000'000;

    // Unknown at first (and remembered as unknown by the server).
    f.send(gw, packet(device.uplink(1, hex("01")), tmst += 1'000'000));
    CHECK(f.drops("unknown_devaddr") == 1);

    // The CLI, as another process: its own connection and registry.
    auto other = sqlite::Database::open(f.dir.db_path());
    sqlite::SqliteDeviceRegistry other_registry(other);
    ns::Device d;
    d.dev_eui = device.dev_eui;
    d.name = "added-while-running";
    d.application_id = f.application_id;
    d.device_profile_id = profile_id;
    d.dev_addr = device.dev_addr;
    d.nwk_s_key = device.nwk_s_key;
    d.app_s_key = device.app_s_key;
    REQUIRE(other_registry.add_device(d).ok());

    f.send(gw, packet(device.uplink(1, hex("02")), tmst += 1'000'000));
    auto ups = f.events.of<ns::UplinkEvent>();
    REQUIRE(ups.size() == 1);
    CHECK(ups[0].device_info.dev_eui == device.dev_eui);
    CHECK(ups[0].device_info.device_name == "added-while-running");
    CHECK(ups[0].f_cnt == 1);
    CHECK(ups[0].data == hex("02"));

    REQUIRE(other_registry.remove_device(device.dev_eui));
    f.send(gw, packet(device.uplink(1, hex("03")), tmst += 1'000'000));
    CHECK(f.drops("unknown_devaddr") == 2);
    CHECK(f.events.of<ns::UplinkEvent>().size() == 1);
}

// ---- 8. OTAA DevNonce ----------------------------------------------------------------------------------------------

namespace {

struct Joined {
    lorawan::JoinAccept accept;
    lorawan::NwkSKey nwk_s_key;
    lorawan::AppSKey app_s_key;
};

/// An OTAA device's side of joining.
struct OtaaDevice {
    Eui64 dev_eui;
    Eui64 join_eui;
    lorawan::AppKey app_key;
    lorawan::JoinCrypto crypto{app_key};

    lorawan::Bytes join_request(std::uint16_t dev_nonce) {
        lorawan::JoinRequest request{join_eui, dev_eui, dev_nonce, {}};
        request.mic = crypto.join_request_mic(request);
        return lorawan::serialize(request);
    }

    /// The join-accept as the device reads it, and the keys it derives.
    Joined read_accept(const sim::ReceivedDownlink& down, std::uint16_t dev_nonce) {
        auto parsed = lorawan::parse_phy_payload(down.phy_payload);
        REQUIRE(parsed.ok());
        REQUIRE(std::holds_alternative<lorawan::EncryptedJoinAccept>(parsed->body));
        auto accept = crypto.open_join_accept(std::get<lorawan::EncryptedJoinAccept>(parsed->body));
        REQUIRE(accept.ok());
        const auto keys = crypto.derive_session_keys(accept->join_nonce, accept->net_id, dev_nonce);
        return Joined{*accept, keys.nwk_s_key, keys.app_s_key};
    }
};

/// Sends a join-request expected to be accepted, and returns what the device reads from the join-accept.
Joined join(NsFixture& f, sim::SimulatedGateway& gw, OtaaDevice& device, std::uint16_t dev_nonce, std::uint32_t tmst) {
    const auto joins_before = count_of<ns::JoinEvent>(f.events);
    const auto down = send_expecting_reply(f, gw, packet(device.join_request(dev_nonce), tmst));
    REQUIRE(count_of<ns::JoinEvent>(f.events) == joins_before + 1);
    return device.read_accept(down, dev_nonce);
}

/// Sends a join-request expected to be refused as a reused DevNonce.
void join_refused(NsFixture& f, sim::SimulatedGateway& gw, OtaaDevice& device, std::uint16_t dev_nonce,
                  std::uint32_t tmst) {
    const auto refused_before = f.drops("devnonce_reused");
    const auto events_before = f.events.events.size();
    f.send(gw, packet(device.join_request(dev_nonce), tmst));
    CHECK(f.drops("devnonce_reused") == refused_before + 1);
    CHECK(f.events.events.size() == events_before);
}

/// A data uplink under a joined session, accepted or not.
bool uplink_accepted(NsFixture& f, sim::SimulatedGateway& gw, const Joined& session, std::uint32_t f_cnt,
                     std::uint32_t tmst) {
    lorawan::SessionCrypto crypto(session.nwk_s_key, session.app_s_key);
    const auto ups_before = count_of<ns::UplinkEvent>(f.events);
    f.send(gw, packet(data_uplink(crypto, session.accept.dev_addr, f_cnt, 1, hex("42")), tmst));
    return count_of<ns::UplinkEvent>(f.events) == ups_before + 1;
}

}  // namespace

TEST_CASE("OTAA DevNonce: 1.0.4 wants it to increase, 1.0.3 never reused - a rejoin ends the old session", "[e2e][ns]") {
    NsFixture f;
    auto gw = f.gateway(gw_a);
    const Eui64 join_eui = *Eui64::from_hex("70b3d57ed0000001");
    std::uint32_t tmst = 1'000'000;
    auto next_tmst = [&] { return tmst += 10'000'000; };

    SECTION("LoRaWAN 1.0.4: 5 accepted, 3 refused, 6 accepted") {
        auto profile = f.profile("otaa-1.0.4", ns::Activation::otaa);
        profile.mac_version = ns::MacVersion::v1_0_4;
        OtaaDevice device{Eui64::from_u64(0x1004), join_eui,
                          *lorawan::AppKey::from_hex("6c7e151628aed2a6abf7158809cf4f3c")};
        f.add_otaa(device.dev_eui, f.add_profile(profile), join_eui, device.app_key);

        const auto first = join(f, gw, device, 5, next_tmst());
        CHECK(uplink_accepted(f, gw, first, 0, next_tmst()));
        join_refused(f, gw, device, 3, next_tmst());
        // The refused join left the session alone.
        CHECK(uplink_accepted(f, gw, first, 1, next_tmst()));

        const auto second = join(f, gw, device, 6, next_tmst());
        CHECK(second.accept.join_nonce == first.accept.join_nonce + 1);  // §6.2.3: incremented per join-accept
        const auto unknown = f.drops("unknown_devaddr");
        const auto mismatch = f.drops("mic_mismatch");
        CHECK_FALSE(uplink_accepted(f, gw, first, 2, next_tmst()));
        CHECK(f.drops("unknown_devaddr") + f.drops("mic_mismatch") == unknown + mismatch + 1);
        CHECK(uplink_accepted(f, gw, second, 0, next_tmst()));
    }

    SECTION("LoRaWAN 1.0.3: 5 accepted, 3 accepted, 5 again refused") {
        auto profile = f.profile("otaa-1.0.3", ns::Activation::otaa);
        profile.mac_version = ns::MacVersion::v1_0_3;
        OtaaDevice device{Eui64::from_u64(0x1003), join_eui,
                          *lorawan::AppKey::from_hex("7c7e151628aed2a6abf7158809cf4f3c")};
        f.add_otaa(device.dev_eui, f.add_profile(profile), join_eui, device.app_key);

        const auto first = join(f, gw, device, 5, next_tmst());
        CHECK(uplink_accepted(f, gw, first, 0, next_tmst()));
        const auto second = join(f, gw, device, 3, next_tmst());
        CHECK(second.accept.join_nonce == first.accept.join_nonce + 1);
        const auto unknown = f.drops("unknown_devaddr");
        const auto mismatch = f.drops("mic_mismatch");
        CHECK_FALSE(uplink_accepted(f, gw, first, 1, next_tmst()));
        CHECK(f.drops("unknown_devaddr") + f.drops("mic_mismatch") == unknown + mismatch + 1);
        CHECK(uplink_accepted(f, gw, second, 0, next_tmst()));

        join_refused(f, gw, device, 5, next_tmst());
        CHECK(uplink_accepted(f, gw, second, 1, next_tmst()));  // still the second session
        const auto third = join(f, gw, device, 7, next_tmst());
        CHECK(third.accept.join_nonce > second.accept.join_nonce);  // never reused, refused join or not
        CHECK(uplink_accepted(f, gw, third, 0, next_tmst()));
    }
}

// ---- events are stored with the data they describe ---------------------------------------------------------------

TEST_CASE("events are staged inside the commit - when they cannot be stored the uplink is undone and accepted later",
          "[e2e][ns]") {
    NsFixture f;
    const auto profile_id = f.add_profile(f.profile("abp", ns::Activation::abp));
    AbpDevice device(0x0a0a, 0x260b4001, "77777777777777777777777777777777", "87878787878787878787878787878787");
    device.add_to(f, profile_id);
    auto gw = f.gateway(gw_a);

    // The application's store fails: the counter, the reply and the event all stay undone.
    f.events.fail_stage = true;
    const auto frame = device.uplink(1, hex("c0ffee"), true);
    f.send(gw, packet(frame, 1'000'000));
    CHECK(f.drops("storage_error") == 1);
    CHECK(f.metrics.value("schwebe_ns_storage_errors_total") == 1);
    CHECK(f.events.events.empty());
    CHECK(f.events.staged.empty());
    CHECK(f.network_server.stats().downlinks_scheduled == 0);
    CHECK_FALSE(f.f_cnt_up(device.dev_eui).has_value());

    // The same frame once the store works again (the device retransmits its confirmed uplink): accepted, replied.
    f.events.fail_stage = false;
    const auto reply = device.read(send_expecting_reply(f, gw, packet(frame, 3'000'000)));
    CHECK(reply.mic_ok);
    CHECK(reply.frame.f_ctrl.ack);
    const auto ups = f.events.of<ns::UplinkEvent>();
    REQUIRE(ups.size() == 1);
    CHECK(ups[0].f_cnt == 0);
    CHECK(ups[0].data == hex("c0ffee"));
    CHECK(f.f_cnt_up(device.dev_eui) == 0u);
    // Every event handed over was staged first, in the same order (the TX_ACK's in its own transaction).
    CHECK(f.events.staged == f.events.events);
}
