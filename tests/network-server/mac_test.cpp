// The pure parts of MAC command handling: answer values computed by hand, and the bookkeeping of requests and
// answers on a MacState. Required SNRs (EU868): DR0 −20, DR2 −15, DR5 −7.5 dB; DR7 is FSK.

#include "network-server/mac.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lorawan/mac_commands.hpp"
#include "test_support.hpp"

using namespace schwebe;
using namespace std::chrono_literals;
using common::RxInfo;
using lorawan::MacCommand;
using ns::MacState;
using Names = std::vector<std::string_view>;

namespace {
RxInfo rx(std::uint64_t gateway, std::optional<double> snr, std::int32_t rssi = -100) {
    RxInfo r;
    r.gateway_id = lorawan::Eui64::from_u64(gateway);
    r.snr = snr;
    r.rssi = rssi;
    return r;
}

std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

/// The plain MAC commands of vector F09 (FPort 0): DevStatusAns battery 254 margin 20, then LinkADRAns twice.
std::vector<MacCommand> f09_commands() {
    const auto vectors = test::load_vectors("lorawan-frames.json");
    for (const auto& frame : vectors["frames"]) {
        if (frame["id"] != "F09") continue;
        const std::string plain = frame["fields"]["payload_plain_hex"];
        CHECK(plain == "06fe1403070307");
        const auto parsed = lorawan::parse_mac_commands(test::hex(plain), lorawan::Direction::uplink);
        REQUIRE_FALSE(parsed.error.has_value());
        return parsed.commands;
    }
    FAIL("vector F09 not found");
    return {};
}

/// `state` as apply_mac_commands leaves it when nothing was accepted: only the pending requests gone.
MacState without_pending(MacState state) {
    state.pending_link_adr.reset();
    state.pending_rx_param_setup.reset();
    state.pending_rx_timing_setup.reset();
    state.pending_duty_cycle.reset();
    state.pending_new_channels.clear();
    return state;
}

constexpr lorawan::LinkAdrAns link_adr_ack{true, true, true};
}  // namespace

// ---- gateways ----

TEST_CASE("best_gateway: highest SNR, then highest RSSI, then the first", "[unit][mac]") {
    CHECK(ns::best_gateway({}) == nullptr);

    const std::vector<RxInfo> by_snr = {rx(1, -3.0, -90), rx(2, 4.5, -120), rx(3, 1.0, -80)};
    CHECK(ns::best_gateway(by_snr) == &by_snr[1]);

    // A reception without SNR ranks below any with one, even a very bad one.
    const std::vector<RxInfo> no_snr = {rx(1, std::nullopt, -30), rx(2, -19.0, -125)};
    CHECK(ns::best_gateway(no_snr) == &no_snr[1]);

    // Equal SNR: the higher RSSI.
    const std::vector<RxInfo> by_rssi = {rx(1, 2.0, -110), rx(2, 2.0, -95), rx(3, 2.0, -100)};
    CHECK(ns::best_gateway(by_rssi) == &by_rssi[1]);

    // Equal in both: the first.
    const std::vector<RxInfo> tie = {rx(1, 2.0, -95), rx(2, 2.0, -95)};
    CHECK(ns::best_gateway(tie) == &tie[0]);
    const std::vector<RxInfo> none = {rx(1, std::nullopt, -95), rx(2, std::nullopt, -95)};
    CHECK(ns::best_gateway(none) == &none[0]);
}

TEST_CASE("max_snr is the best SNR reported", "[unit][mac]") {
    CHECK_FALSE(ns::max_snr({}).has_value());
    const std::vector<RxInfo> none = {rx(1, std::nullopt), rx(2, std::nullopt)};
    CHECK_FALSE(ns::max_snr(none).has_value());
    const std::vector<RxInfo> some = {rx(1, -7.25), rx(2, std::nullopt), rx(3, -2.5), rx(4, -9.0)};
    CHECK(ns::max_snr(some) == -2.5);
}

TEST_CASE("gateway_count counts distinct gateways, at most 255", "[unit][mac]") {
    CHECK(ns::gateway_count({}) == 0);
    // Gateway 1 heard it on two antennas: still one gateway.
    const std::vector<RxInfo> rxs = {rx(1, 1.0), rx(2, 1.0), rx(1, 3.0), rx(3, 1.0)};
    CHECK(ns::gateway_count(rxs) == 3);

    std::vector<RxInfo> many;
    for (std::uint64_t g = 0; g < 300; ++g) many.push_back(rx(g, 0.0));
    CHECK(ns::gateway_count(many) == 255);
}

// ---- LinkCheckAns ----

TEST_CASE("LinkCheckAns: margin over the DR's required SNR, in whole dB", "[unit][mac]") {
    // DR2 (SF10, −15 dB): best SNR 2 → 2 − (−15) = 17 dB; two gateways.
    const std::vector<RxInfo> two = {rx(1, -2.0), rx(2, 2.0)};
    CHECK(ns::link_check_ans(two, 2) == lorawan::LinkCheckAns{17, 2});

    // DR5 (SF7, −7.5 dB): 2.7 − (−7.5) = 10.2 → floor 10.
    const std::vector<RxInfo> one = {rx(1, 2.7)};
    CHECK(ns::link_check_ans(one, 5) == lorawan::LinkCheckAns{10, 1});
    // DR5: −7.9 − (−7.5) = −0.4 → floor −1 → clamped to 0 (below the floor).
    const std::vector<RxInfo> below = {rx(1, -7.9)};
    CHECK(ns::link_check_ans(below, 5) == lorawan::LinkCheckAns{0, 1});
    // DR0 (−20 dB): 250 − (−20) = 270 → clamped to 254 (255 is reserved).
    const std::vector<RxInfo> huge = {rx(1, 250.0)};
    CHECK(ns::link_check_ans(huge, 0) == lorawan::LinkCheckAns{254, 1});
}

TEST_CASE("LinkCheckAns: margin 0 without an SNR or on FSK", "[unit][mac]") {
    const std::vector<RxInfo> no_snr = {rx(1, std::nullopt), rx(2, std::nullopt)};
    CHECK(ns::link_check_ans(no_snr, 5) == lorawan::LinkCheckAns{0, 2});
    // DR7 is FSK: no required SNR to measure against.
    const std::vector<RxInfo> fsk = {rx(1, 10.0)};
    CHECK(ns::link_check_ans(fsk, 7) == lorawan::LinkCheckAns{0, 1});
}

TEST_CASE("LinkCheckAns: GwCnt counts gateways, not receptions", "[unit][mac]") {
    std::vector<RxInfo> rxs = {rx(1, 0.0), rx(1, 1.0)};
    CHECK(ns::link_check_ans(rxs, 5).gw_cnt == 1);
    for (std::uint64_t g = 2; g < 400; ++g) rxs.push_back(rx(g, 0.0));
    CHECK(ns::link_check_ans(rxs, 5).gw_cnt == 255);
}

// ---- time ----

TEST_CASE("gps_time_of: since 1980-01-06T00:00:00Z, 18 leap seconds ahead of UTC", "[unit][mac]") {
    // 1980-01-01 → 2020-01-01: 40 × 365 + 10 leap days (1980, 1984, …, 2016) = 14610 days; from 1980-01-06 five
    // fewer: 14605 days × 86400 s = 1261872000 s; GPS adds 18 s.
    CHECK(ns::gps_time_of(utc(2020, 1, 1)) == 1'261'872'018'000ms);
    CHECK(ns::gps_time_of(utc(2020, 1, 1) + 1'500ms) == 1'261'872'019'500ms);
    // The epoch itself is 18 s in GPS time (the leap seconds are counted from now back, not as of 1980).
    CHECK(ns::gps_time_of(utc(1980, 1, 6)) == 18'000ms);
    // Sub-millisecond parts are dropped.
    CHECK(ns::gps_time_of(utc(2020, 1, 1) + 999us) == 1'261'872'018'000ms);
}

TEST_CASE("reception_gps_time prefers a GPS timestamp, then a gateway UTC time, then the receive time", "[unit][mac]") {
    const auto received = utc(2020, 1, 1) + 5s;
    RxInfo plain = rx(1, 0.0);
    plain.received_at = received;
    RxInfo with_time = rx(2, 0.0);
    with_time.received_at = received;
    with_time.time = utc(2020, 1, 1) + 250ms;
    RxInfo with_gps = rx(3, 0.0);
    with_gps.received_at = received;
    with_gps.gps_time_ms = 1'261'872'018'123;
    RxInfo with_gps_2 = with_gps;
    with_gps_2.gps_time_ms = 1'261'872'018'999;

    // A GPS timestamp wins wherever it is; the first one if several.
    const std::vector<RxInfo> all = {plain, with_time, with_gps, with_gps_2};
    CHECK(ns::reception_gps_time(all) == 1'261'872'018'123ms);
    // Else the first gateway UTC time: 1261872000 s + 250 ms + 18 s.
    const std::vector<RxInfo> timed = {plain, with_time};
    CHECK(ns::reception_gps_time(timed) == 1'261'872'018'250ms);
    // Else the first reception's receive time: 1261872000 s + 5 s + 18 s.
    const std::vector<RxInfo> untimed = {plain, rx(4, 0.0)};
    CHECK(ns::reception_gps_time(untimed) == 1'261'872'023'000ms);
    // None at all: the GPS time of the Unix epoch, which is 10 × 365 + 2 leap days + 5 = 3657 days = 315964800 s
    // before the GPS epoch; plus 18 s.
    CHECK(ns::reception_gps_time({}) == -315'964'782'000ms);
}

TEST_CASE("DeviceTimeAns: seconds and 1/256 s", "[unit][mac]") {
    CHECK(ns::device_time_ans(1'261'872'018'000ms) == lorawan::DeviceTimeAns{1'261'872'018, 0});
    // 500 ms × 256 / 1000 = 128.
    CHECK(ns::device_time_ans(1'261'872'018'500ms) == lorawan::DeviceTimeAns{1'261'872'018, 128});
    // 999 ms → 255.744 → 255; 3 ms → 0.768 → 0; 4 ms → 1.024 → 1.
    CHECK(ns::device_time_ans(1'261'872'018'999ms) == lorawan::DeviceTimeAns{1'261'872'018, 255});
    CHECK(ns::device_time_ans(3ms) == lorawan::DeviceTimeAns{0, 0});
    CHECK(ns::device_time_ans(4ms) == lorawan::DeviceTimeAns{0, 1});
    // Before the GPS epoch there is nothing to tell: the epoch.
    CHECK(ns::device_time_ans(-1'500ms) == lorawan::DeviceTimeAns{0, 0});
}

// ---- apply_mac_commands: vector F09 ----

TEST_CASE("F09: DevStatusAns and a LinkADRAns block accept the pending LinkADRReq", "[unit][mac]") {
    const auto commands = f09_commands();
    REQUIRE(commands.size() == 3);

    MacState state;
    state.pending_link_adr = lorawan::LinkAdrReq{3, 2, 0x00ff, 0, 1};
    const auto answers = ns::apply_mac_commands(state, commands);

    REQUIRE(answers.dev_status.has_value());
    CHECK(*answers.dev_status == lorawan::DevStatusAns{254, 20});
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK_FALSE(answers.link_check_req);
    CHECK_FALSE(answers.device_time_req);
    CHECK(state.dr == 3);
    CHECK(state.tx_power_index == 2);
    CHECK(state.ch_mask == 0x00ff);
    CHECK(state.nb_trans == 1);
    CHECK_FALSE(state.pending_link_adr.has_value());
}

TEST_CASE("F09 without a pending LinkADRReq: one unexpected LinkADRAns, state unchanged", "[unit][mac]") {
    MacState state;
    state.dr = 1;
    state.tx_power_index = 4;
    const MacState before = state;
    const auto answers = ns::apply_mac_commands(state, f09_commands());

    CHECK(answers.unexpected == Names{"LinkADRAns"});  // two answers, one block: reported once
    CHECK(answers.rejected.empty());
    REQUIRE(answers.dev_status.has_value());
    CHECK(*answers.dev_status == lorawan::DevStatusAns{254, 20});
    CHECK(state == before);
}

// ---- LinkADRAns ----

TEST_CASE("LinkADRAns: DataRate and TXPower 15 keep the current values", "[unit][mac]") {
    MacState state;
    state.dr = 4;
    state.tx_power_index = 1;
    state.pending_link_adr = lorawan::LinkAdrReq{15, 15, 0x0003, 0, 2};
    const std::vector<MacCommand> commands = {link_adr_ack};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected.empty());
    CHECK(state.dr == 4);
    CHECK(state.tx_power_index == 1);
    CHECK(state.ch_mask == 0x0003);
    CHECK(state.nb_trans == 2);
}

TEST_CASE("LinkADRAns: NbTrans 0 means the default, 1", "[unit][mac]") {
    MacState state;
    state.nb_trans = 3;
    state.pending_link_adr = lorawan::LinkAdrReq{5, 0, 0x0007, 0, 0};
    const std::vector<MacCommand> commands = {link_adr_ack};
    (void)ns::apply_mac_commands(state, commands);
    CHECK(state.nb_trans == 1);
    CHECK(state.dr == 5);
}

TEST_CASE("LinkADRAns: ChMaskCntl 6 turns every defined channel on", "[unit][mac]") {
    MacState state;
    state.ch_mask = 0x0001;
    state.extra_channels_hz[0] = 867'100'000;  // channel 3
    state.extra_channels_hz[2] = 867'500'000;  // channel 5
    state.pending_link_adr = lorawan::LinkAdrReq{2, 1, 0x0000, 6, 1};
    const std::vector<MacCommand> commands = {link_adr_ack};
    (void)ns::apply_mac_commands(state, commands);
    // Channels 0, 1, 2, 3 and 5: 0b10'1111.
    CHECK(state.ch_mask == 0x002f);
    CHECK(state.dr == 2);
    CHECK(state.tx_power_index == 1);
}

TEST_CASE("LinkADRAns: a NACK bit in any answer of the block refuses it", "[unit][mac]") {
    MacState state;
    state.pending_link_adr = lorawan::LinkAdrReq{5, 3, 0x00ff, 0, 2};
    const MacState before = state;
    // Power ACK missing in the second answer.
    const std::vector<MacCommand> commands = {link_adr_ack, lorawan::LinkAdrAns{false, true, true}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected == Names{"LinkADRAns"});
    CHECK(answers.unexpected.empty());
    CHECK(state == without_pending(before));

    // Each of the three bits counts.
    for (const lorawan::LinkAdrAns nack :
         {lorawan::LinkAdrAns{true, true, false}, lorawan::LinkAdrAns{true, false, true},
          lorawan::LinkAdrAns{false, true, true}}) {
        MacState s = before;
        const std::vector<MacCommand> one = {nack};
        CHECK(ns::apply_mac_commands(s, one).rejected == Names{"LinkADRAns"});
        CHECK(s == without_pending(before));
    }
}

// ---- RXParamSetupAns, RXTimingSetupAns, DutyCycleAns ----

TEST_CASE("RXParamSetupAns with every ACK moves RX1 offset, RX2 DR and frequency", "[unit][mac]") {
    MacState state;
    state.pending_rx_param_setup = lorawan::RxParamSetupReq{2, 3, 869'100'000};
    const std::vector<MacCommand> commands = {lorawan::RxParamSetupAns{true, true, true}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK(state.rx1_dr_offset == 2);
    CHECK(state.rx2_dr == 3);
    CHECK(state.rx2_frequency_hz == 869'100'000U);
    CHECK_FALSE(state.pending_rx_param_setup.has_value());
}

TEST_CASE("RXParamSetupAns with a NACK changes nothing", "[unit][mac]") {
    MacState state;
    state.pending_rx_param_setup = lorawan::RxParamSetupReq{2, 3, 869'100'000};
    const MacState before = state;
    const std::vector<MacCommand> commands = {lorawan::RxParamSetupAns{true, true, false}};
    CHECK(ns::apply_mac_commands(state, commands).rejected == Names{"RXParamSetupAns"});
    CHECK(state == without_pending(before));
    CHECK(state.rx2_frequency_hz == 869'525'000U);
}

TEST_CASE("RXTimingSetupAns sets the RX1 delay - Del 0 means 1 s", "[unit][mac]") {
    MacState state;
    state.pending_rx_timing_setup = lorawan::RxTimingSetupReq{5};
    const std::vector<MacCommand> commands = {lorawan::RxTimingSetupAns{}};
    CHECK(ns::apply_mac_commands(state, commands).unexpected.empty());
    CHECK(state.rx1_delay_s == 5);

    state.pending_rx_timing_setup = lorawan::RxTimingSetupReq{0};
    (void)ns::apply_mac_commands(state, commands);
    CHECK(state.rx1_delay_s == 1);
}

TEST_CASE("DutyCycleAns answers the pending DutyCycleReq", "[unit][mac]") {
    MacState state;
    state.pending_duty_cycle = lorawan::DutyCycleReq{7};
    const MacState before = state;
    const std::vector<MacCommand> commands = {lorawan::DutyCycleAns{}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK(state == without_pending(before));
}

// ---- NewChannelAns ----

TEST_CASE("NewChannelAns answers the pending NewChannelReqs in order", "[unit][mac]") {
    MacState state;
    state.extra_channels_hz[4] = 867'900'000;  // channel 7 exists
    state.ch_mask = 0x0087;                    // channels 0, 1, 2, 7
    state.pending_new_channels = {
        {3, 867'100'000, 0, 5},  // create channel 3
        {4, 867'300'000, 0, 5},  // create channel 4: refused below
        {7, 0, 0, 0},            // remove channel 7
    };
    const std::vector<MacCommand> commands = {
        lorawan::NewChannelAns{true, true},
        lorawan::NewChannelAns{true, false},
        lorawan::NewChannelAns{true, true},
    };
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected == Names{"NewChannelAns"});
    CHECK(answers.unexpected.empty());
    CHECK(state.extra_channels_hz == std::array<std::uint32_t, 5>{867'100'000, 0, 0, 0, 0});
    // Channel 3 on, channel 4 still off, channel 7 off: 0b0000'1111.
    CHECK(state.ch_mask == 0x000f);
    CHECK(state.pending_new_channels.empty());
}

TEST_CASE("NewChannelAns beyond the pending requests is unexpected", "[unit][mac]") {
    MacState state;
    state.pending_new_channels = {{3, 867'100'000, 0, 5}};
    const std::vector<MacCommand> commands = {lorawan::NewChannelAns{true, true}, lorawan::NewChannelAns{true, true}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.unexpected == Names{"NewChannelAns"});
    CHECK(state.extra_channels_hz[0] == 867'100'000U);
    CHECK(state.ch_mask == 0x000f);
}

TEST_CASE("NewChannelAns for a channel outside 3..7 changes no state", "[unit][mac]") {
    MacState state;
    state.pending_new_channels = {{9, 867'100'000, 0, 5}, {1, 868'800'000, 0, 5}};
    const MacState before = state;
    const std::vector<MacCommand> commands = {lorawan::NewChannelAns{true, true}, lorawan::NewChannelAns{true, true}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK(state == without_pending(before));
}

// ---- requests from the device, unexpected commands, clearing ----

TEST_CASE("LinkCheckReq, DeviceTimeReq and DevStatusAns are reported", "[unit][mac]") {
    MacState state;
    const std::vector<MacCommand> commands = {lorawan::LinkCheckReq{}, lorawan::DevStatusAns{0, -5},
                                              lorawan::DeviceTimeReq{}};
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.link_check_req);
    CHECK(answers.device_time_req);
    REQUIRE(answers.dev_status.has_value());
    CHECK(*answers.dev_status == lorawan::DevStatusAns{0, -5});
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK(state == MacState{});
}

TEST_CASE("answers without a request and network commands are unexpected", "[unit][mac]") {
    MacState state;
    const std::vector<MacCommand> commands = {
        lorawan::RxParamSetupAns{true, true, true},
        lorawan::RxTimingSetupAns{},
        lorawan::DutyCycleAns{},
        lorawan::NewChannelAns{true, true},
        lorawan::TxParamSetupAns{},
        lorawan::DlChannelAns{true, true},
        lorawan::LinkCheckAns{10, 1},  // downlink commands in an uplink
        lorawan::DevStatusReq{},
    };
    const auto answers = ns::apply_mac_commands(state, commands);
    CHECK(answers.unexpected == Names{"RXParamSetupAns", "RXTimingSetupAns", "DutyCycleAns", "NewChannelAns",
                                      "TxParamSetupAns", "DlChannelAns", "LinkCheckAns", "DevStatusReq"});
    CHECK(answers.rejected.empty());
    CHECK(state == MacState{});
}

TEST_CASE("every pending request is cleared, answered or not", "[unit][mac]") {
    MacState state;
    state.pending_link_adr = lorawan::LinkAdrReq{5, 3, 0x00ff, 0, 2};
    state.pending_rx_param_setup = lorawan::RxParamSetupReq{1, 2, 869'100'000};
    state.pending_rx_timing_setup = lorawan::RxTimingSetupReq{3};
    state.pending_duty_cycle = lorawan::DutyCycleReq{2};
    state.pending_new_channels = {{3, 867'100'000, 0, 5}};
    const MacState before = state;

    const auto answers = ns::apply_mac_commands(state, {});
    CHECK(answers.rejected.empty());
    CHECK(answers.unexpected.empty());
    CHECK_FALSE(answers.dev_status.has_value());
    CHECK(state == without_pending(before));
    CHECK(state == MacState{});
}

// ---- size ----

TEST_CASE("mac_commands_size counts CID and payload of each command", "[unit][mac]") {
    CHECK(ns::mac_commands_size({}) == 0);
    // F09: DevStatusAns 1 + 2, LinkADRAns 1 + 1 twice = 7, the length of "06fe1403070307".
    CHECK(ns::mac_commands_size(f09_commands()) == 7);
    // Downlink: LinkADRReq 1 + 4, DevStatusReq 1 + 0, DeviceTimeAns 1 + 5, NewChannelReq 1 + 5 = 18.
    const std::vector<MacCommand> downlink = {lorawan::LinkAdrReq{5, 0, 0x0007, 0, 1}, lorawan::DevStatusReq{},
                                              lorawan::DeviceTimeAns{1, 2},
                                              lorawan::NewChannelReq{3, 867'100'000, 0, 5}};
    CHECK(ns::mac_commands_size(downlink) == 18);
    // The same as what serialize writes.
    const auto bytes = lorawan::serialize(downlink);
    REQUIRE(bytes.ok());
    CHECK(bytes->size() == 18);
}
