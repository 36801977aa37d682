// MAC commands of LoRaWAN 1.0.4 §5, both directions. Every expected value below is derived by hand from the bit
// layouts of the specification (the layout is drawn above each vector), never from the implementation's output.
//
// Conventions used throughout (LoRaWAN 1.0.4 §1.2, §5):
//   - a command is CID (1 octet) followed by its payload; multi-octet fields are little endian;
//   - frequencies are 24-bit values in units of 100 Hz (Schwebe keeps Hz);
//   - RFU bits are sent as zero and ignored by the receiver.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include "lorawan/mac_commands.hpp"
#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

namespace {

MacCommands parse_hex(std::string_view h, Direction dir) {
    const Bytes bytes = hex(h);
    return parse_mac_commands(bytes, dir);
}

Bytes serialize_one(const MacCommand& command) {
    Bytes out;
    const auto r = serialize(command, out);
    REQUIRE(r.ok());
    return out;
}

/// A command alone on the wire, and what it means.
struct Vector {
    std::string_view hex;
    MacCommand command;
};

/// Parses `v.hex` as exactly one command equal to `v.command`, serializes the command back to the same bytes and
/// parses those again.
void check_vector(const Vector& v, Direction dir) {
    INFO("bytes " << v.hex);
    const MacCommands parsed = parse_hex(v.hex, dir);
    REQUIRE_FALSE(parsed.error.has_value());
    REQUIRE(parsed.commands.size() == 1U);
    CHECK(parsed.commands[0].index() == v.command.index());
    CHECK(parsed.commands[0] == v.command);

    const Bytes written = serialize_one(v.command);
    CHECK(to_hex(written) == to_hex(hex(v.hex)));

    const MacCommands again = parse_mac_commands(written, dir);
    REQUIRE_FALSE(again.error.has_value());
    REQUIRE(again.commands.size() == 1U);
    CHECK(again.commands[0] == v.command);
}

// ---- the commands, one vector or more each, with the layout they follow ----

// Uplink, LoRaWAN 1.0.4 §5.1..§5.10.
const std::vector<Vector>& uplink_vectors() {
    static const std::vector<Vector> vectors = {
        // LinkCheckReq: CID only.
        {"02", LinkCheckReq{}},
        // LinkADRAns status | RFU 7..3 | Power ACK 2 | Data rate ACK 1 | Channel mask ACK 0 |.
        {"0300", LinkAdrAns{}},
        {"0304", LinkAdrAns{.power_ack = true, .data_rate_ack = false, .channel_mask_ack = false}},
        {"0302", LinkAdrAns{.power_ack = false, .data_rate_ack = true, .channel_mask_ack = false}},
        {"0301", LinkAdrAns{.power_ack = false, .data_rate_ack = false, .channel_mask_ack = true}},
        {"0307", LinkAdrAns{.power_ack = true, .data_rate_ack = true, .channel_mask_ack = true}},
        // DutyCycleAns: CID only.
        {"04", DutyCycleAns{}},
        // RXParamSetupAns status | RFU 7..3 | RX1DROffset ACK 2 | RX2 Data rate ACK 1 | Channel ACK 0 |.
        {"0500", RxParamSetupAns{}},
        {"0504", RxParamSetupAns{.rx1_dr_offset_ack = true, .rx2_data_rate_ack = false, .channel_ack = false}},
        {"0502", RxParamSetupAns{.rx1_dr_offset_ack = false, .rx2_data_rate_ack = true, .channel_ack = false}},
        {"0501", RxParamSetupAns{.rx1_dr_offset_ack = false, .rx2_data_rate_ack = false, .channel_ack = true}},
        {"0507", RxParamSetupAns{.rx1_dr_offset_ack = true, .rx2_data_rate_ack = true, .channel_ack = true}},
        // DevStatusAns | Battery (1) | RFU 7..6, Margin 5..0 signed (1) |.
        // 0x00: external power; margin 0b000000 = 0.
        {"060000", DevStatusAns{.battery = 0, .margin = 0}},
        // 0xff: level unknown; 0b011111 = +31, the largest 6-bit two's complement value.
        {"06ff1f", DevStatusAns{.battery = 255, .margin = 31}},
        // 0x01: minimum level; 0b100000 = −32, the smallest.
        {"060120", DevStatusAns{.battery = 1, .margin = -32}},
        // 0xfe: maximum level; 0b111111 = −1.
        {"06fe3f", DevStatusAns{.battery = 254, .margin = -1}},
        // 0b100001 = −32 + 1 = −31; 0x80 = 128.
        {"068021", DevStatusAns{.battery = 128, .margin = -31}},
        // NewChannelAns status | RFU 7..2 | Data rate range ok 1 | Channel frequency ok 0 |.
        {"0700", NewChannelAns{}},
        {"0702", NewChannelAns{.data_rate_range_ok = true, .channel_frequency_ok = false}},
        {"0701", NewChannelAns{.data_rate_range_ok = false, .channel_frequency_ok = true}},
        {"0703", NewChannelAns{.data_rate_range_ok = true, .channel_frequency_ok = true}},
        // RXTimingSetupAns, TxParamSetupAns: CID only.
        {"08", RxTimingSetupAns{}},
        {"09", TxParamSetupAns{}},
        // DlChannelAns status | RFU 7..2 | Uplink frequency exists 1 | Channel frequency ok 0 |.
        {"0a00", DlChannelAns{}},
        {"0a02", DlChannelAns{.uplink_frequency_exists = true, .channel_frequency_ok = false}},
        {"0a01", DlChannelAns{.uplink_frequency_exists = false, .channel_frequency_ok = true}},
        {"0a03", DlChannelAns{.uplink_frequency_exists = true, .channel_frequency_ok = true}},
        // DeviceTimeReq: CID only.
        {"0d", DeviceTimeReq{}},
    };
    return vectors;
}

// Downlink, LoRaWAN 1.0.4 §5.1..§5.10.
const std::vector<Vector>& downlink_vectors() {
    static const std::vector<Vector> vectors = {
        // LinkCheckAns | Margin (1) | GwCnt (1) |.
        {"020000", LinkCheckAns{.margin = 0, .gw_cnt = 0}},
        {"020a03", LinkCheckAns{.margin = 10, .gw_cnt = 3}},
        {"02feff", LinkCheckAns{.margin = 254, .gw_cnt = 255}},
        // LinkADRReq | DataRate 7..4, TXPower 3..0 | ChMask (2, LE) | RFU 7, ChMaskCntl 6..4, NbTrans 3..0 |.
        // 0x52: DR5, TXPower 2; ff 00 → ChMask 0x00ff; 0x01: ChMaskCntl 0, NbTrans 1.
        {"0352ff0001", LinkAdrReq{.data_rate = 5, .tx_power = 2, .ch_mask = 0x00ff, .ch_mask_cntl = 0, .nb_trans = 1}},
        // 34 12 → ChMask 0x1234 (the low octet first); 0x00: DR0, TXPower 0; ChMaskCntl 0, NbTrans 0.
        {"0300341200", LinkAdrReq{.data_rate = 0, .tx_power = 0, .ch_mask = 0x1234, .ch_mask_cntl = 0, .nb_trans = 0}},
        // 01 00 → ChMask 0x0001 (channel 0 only); 0x6f: ChMaskCntl 6, NbTrans 15; 0x10: DR1, TXPower 0.
        {"031001006f", LinkAdrReq{.data_rate = 1, .tx_power = 0, .ch_mask = 0x0001, .ch_mask_cntl = 6, .nb_trans = 15}},
        // Every field at its maximum: 0xff → DR15 and TXPower 15 ("keep", 1.0.4); ChMask 0xffff; 0x7f: ChMaskCntl 7,
        // NbTrans 15.
        {"03ffffff7f",
         LinkAdrReq{.data_rate = 15, .tx_power = 15, .ch_mask = 0xffff, .ch_mask_cntl = 7, .nb_trans = 15}},
        // 0x00 80 → ChMask 0x8000 (channel 15 only); 0x0e: DR0, TXPower 14; 0x70: ChMaskCntl 7, NbTrans 0.
        {"030e008070", LinkAdrReq{.data_rate = 0, .tx_power = 14, .ch_mask = 0x8000, .ch_mask_cntl = 7, .nb_trans = 0}},
        // DutyCycleReq | RFU 7..4, MaxDCycle 3..0 |.
        {"0400", DutyCycleReq{.max_duty_cycle = 0}},
        {"0407", DutyCycleReq{.max_duty_cycle = 7}},
        {"040f", DutyCycleReq{.max_duty_cycle = 15}},
        // RXParamSetupReq | RFU 7, RX1DROffset 6..4, RX2DataRate 3..0 | Frequency (3, LE, 100 Hz) |.
        // 0x53: offset 5, DR3; 869.525 MHz = 8695250 · 100 Hz = 0x84add2 → d2 ad 84.
        {"0553d2ad84", RxParamSetupReq{.rx1_dr_offset = 5, .rx2_data_rate = 3, .frequency = 869'525'000}},
        // 0x00: offset 0, DR0; 868.1 MHz = 8681000 = 0x847628 → 28 76 84.
        {"0500287684", RxParamSetupReq{.rx1_dr_offset = 0, .rx2_data_rate = 0, .frequency = 868'100'000}},
        // 0x7f: offset 7, DR15; 0xffffff · 100 Hz = 1 677 721 500 Hz, the largest frequency the field carries.
        {"057fffffff", RxParamSetupReq{.rx1_dr_offset = 7, .rx2_data_rate = 15, .frequency = 1'677'721'500}},
        // DevStatusReq: CID only.
        {"06", DevStatusReq{}},
        // NewChannelReq | ChIndex (1) | Freq (3, LE, 100 Hz) | DrRange: MaxDR 7..4, MinDR 3..0 |.
        // Channel 3 at 867.1 MHz = 8671000 = 0x844f18 → 18 4f 84; DR0..DR5 → 0x50.
        {"0703184f8450", NewChannelReq{.ch_index = 3, .frequency = 867'100'000, .min_dr = 0, .max_dr = 5}},
        // Channel 15 disabled: frequency 0, DrRange 0.
        {"070f00000000", NewChannelReq{.ch_index = 15, .frequency = 0, .min_dr = 0, .max_dr = 0}},
        // Limits: ChIndex 255, frequency 0xffffff · 100 Hz, MinDR 15 and MaxDR 15 → 0xff.
        {"07ffffffffff", NewChannelReq{.ch_index = 255, .frequency = 1'677'721'500, .min_dr = 15, .max_dr = 15}},
        // MinDR 6, MaxDR 2 (an invalid range is still a well-formed command) → 0x26; 868.5 MHz = 0x8485c8.
        {"0708c8858426", NewChannelReq{.ch_index = 8, .frequency = 868'500'000, .min_dr = 6, .max_dr = 2}},
        // RXTimingSetupReq | RFU 7..4, Del 3..0 |.
        {"0800", RxTimingSetupReq{.delay = 0}},
        {"0801", RxTimingSetupReq{.delay = 1}},
        {"080f", RxTimingSetupReq{.delay = 15}},
        // TxParamSetupReq | RFU 7..6 | DownlinkDwellTime 5 | UplinkDwellTime 4 | MaxEIRP 3..0 |.
        {"0900", TxParamSetupReq{.downlink_dwell_time = false, .uplink_dwell_time = false, .max_eirp = 0}},
        {"0920", TxParamSetupReq{.downlink_dwell_time = true, .uplink_dwell_time = false, .max_eirp = 0}},
        {"0910", TxParamSetupReq{.downlink_dwell_time = false, .uplink_dwell_time = true, .max_eirp = 0}},
        {"0925", TxParamSetupReq{.downlink_dwell_time = true, .uplink_dwell_time = false, .max_eirp = 5}},
        {"093f", TxParamSetupReq{.downlink_dwell_time = true, .uplink_dwell_time = true, .max_eirp = 15}},
        // DlChannelReq | ChIndex (1) | Freq (3, LE, 100 Hz) |. Channel 0 → 868.1 MHz; channel 2 → 868.3 MHz =
        // 8683000 = 0x847df8.
        {"0a00287684", DlChannelReq{.ch_index = 0, .frequency = 868'100'000}},
        {"0a02f87d84", DlChannelReq{.ch_index = 2, .frequency = 868'300'000}},
        {"0aff000000", DlChannelReq{.ch_index = 255, .frequency = 0}},
        // DeviceTimeAns | Seconds since the GPS epoch (4, LE) | FractionalSec in 1/256 s (1) |.
        // 80 dc 7c 52 → 0x527cdc80; 0x80 → 128/256 = 0.5 s.
        {"0d80dc7c5280", DeviceTimeAns{.seconds = 0x527cdc80, .fractional = 128}},
        {"0d0000000000", DeviceTimeAns{.seconds = 0, .fractional = 0}},
        {"0d01000000ff", DeviceTimeAns{.seconds = 1, .fractional = 255}},
        {"0dffffffffff", DeviceTimeAns{.seconds = 0xffffffff, .fractional = 255}},
    };
    return vectors;
}

/// One command of each kind per direction with its payload length from LoRaWAN 1.0.4 §5 Table 4/§5.x, so that
/// truncation can be tried at every length.
struct Shape {
    std::uint8_t cid;
    std::size_t payload;
    std::string_view full;  ///< a well-formed instance, CID included
};

const std::vector<Shape>& uplink_shapes() {
    static const std::vector<Shape> shapes = {
        {0x02, 0, "02"},   {0x03, 1, "0307"}, {0x04, 0, "04"}, {0x05, 1, "0507"}, {0x06, 2, "06fe14"},
        {0x07, 1, "0703"}, {0x08, 0, "08"},   {0x09, 0, "09"}, {0x0a, 1, "0a03"}, {0x0d, 0, "0d"},
    };
    return shapes;
}

const std::vector<Shape>& downlink_shapes() {
    static const std::vector<Shape> shapes = {
        {0x02, 2, "020a03"},     {0x03, 4, "0352ff0001"},   {0x04, 1, "0407"}, {0x05, 4, "0553d2ad84"},
        {0x06, 0, "06"},         {0x07, 5, "0703184f8450"}, {0x08, 1, "0801"}, {0x09, 1, "0925"},
        {0x0a, 4, "0a00287684"}, {0x0d, 5, "0d80dc7c5280"},
    };
    return shapes;
}

void check_refused(const MacCommand& command) {
    Bytes out = hex("06");  // something already written must stay as it was
    const auto r = serialize(command, out);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == Reject::field_out_of_range);
    CHECK(to_hex(out) == "06");

    const auto all = serialize(std::vector<MacCommand>{DevStatusReq{}, command});
    REQUIRE_FALSE(all.ok());
    CHECK(all.error().reason == Reject::field_out_of_range);
}

}  // namespace

// ---- known vectors ----

TEST_CASE("downlink FRMPayload 0352ff000106 is LinkADRReq then DevStatusReq", "[unit][mac]") {
    // 03 | 52: DR5 TXPower 2 | ff 00: ChMask 0x00ff | 01: ChMaskCntl 0 NbTrans 1 || 06: DevStatusReq
    const MacCommands m = parse_hex("0352ff000106", Direction::downlink);
    REQUIRE_FALSE(m.error.has_value());
    REQUIRE(m.commands.size() == 2U);
    REQUIRE(std::holds_alternative<LinkAdrReq>(m.commands[0]));
    const auto& adr = std::get<LinkAdrReq>(m.commands[0]);
    CHECK(adr.data_rate == std::uint8_t{5});
    CHECK(adr.tx_power == std::uint8_t{2});
    CHECK(adr.ch_mask == std::uint16_t{0x00ff});
    CHECK(adr.ch_mask_cntl == std::uint8_t{0});
    CHECK(adr.nb_trans == std::uint8_t{1});
    CHECK(std::holds_alternative<DevStatusReq>(m.commands[1]));

    const auto written = serialize(m.commands);
    REQUIRE(written.ok());
    CHECK(to_hex(*written) == "0352ff000106");
}

TEST_CASE("uplink 06fe1403070307 is DevStatusAns and two LinkADRAns", "[unit][mac]") {
    // 06 | fe: battery 254 | 14: margin +20 || 03 | 07: power, data rate and channel mask ACK || 03 | 07
    const MacCommands m = parse_hex("06fe1403070307", Direction::uplink);
    REQUIRE_FALSE(m.error.has_value());
    REQUIRE(m.commands.size() == 3U);
    REQUIRE(std::holds_alternative<DevStatusAns>(m.commands[0]));
    CHECK(std::get<DevStatusAns>(m.commands[0]).battery == std::uint8_t{254});
    CHECK(std::get<DevStatusAns>(m.commands[0]).margin == std::int8_t{20});
    const MacCommand all_ack = LinkAdrAns{.power_ack = true, .data_rate_ack = true, .channel_mask_ack = true};
    CHECK(m.commands[1] == all_ack);
    CHECK(m.commands[2] == all_ack);

    const auto written = serialize(m.commands);
    REQUIRE(written.ok());
    CHECK(to_hex(*written) == "06fe1403070307");
}

TEST_CASE("uplink FOpts 020d is LinkCheckReq then DeviceTimeReq", "[unit][mac]") {
    const MacCommands m = parse_hex("020d", Direction::uplink);
    REQUIRE_FALSE(m.error.has_value());
    REQUIRE(m.commands.size() == 2U);
    CHECK(std::holds_alternative<LinkCheckReq>(m.commands[0]));
    CHECK(std::holds_alternative<DeviceTimeReq>(m.commands[1]));

    const auto written = serialize(std::vector<MacCommand>{LinkCheckReq{}, DeviceTimeReq{}});
    REQUIRE(written.ok());
    CHECK(to_hex(*written) == "020d");
}

TEST_CASE("downlink FOpts 020a030d80dc7c5200 is LinkCheckAns then DeviceTimeAns", "[unit][mac]") {
    // 02 | 0a: margin 10 dB | 03: 3 gateways || 0d | 80 dc 7c 52: 0x527cdc80 s | 00: fractional 0
    const MacCommands m = parse_hex("020a030d80dc7c5200", Direction::downlink);
    REQUIRE_FALSE(m.error.has_value());
    REQUIRE(m.commands.size() == 2U);
    REQUIRE(std::holds_alternative<LinkCheckAns>(m.commands[0]));
    CHECK(std::get<LinkCheckAns>(m.commands[0]).margin == std::uint8_t{10});
    CHECK(std::get<LinkCheckAns>(m.commands[0]).gw_cnt == std::uint8_t{3});
    REQUIRE(std::holds_alternative<DeviceTimeAns>(m.commands[1]));
    CHECK(std::get<DeviceTimeAns>(m.commands[1]).seconds == 0x527cdc80U);
    CHECK(std::get<DeviceTimeAns>(m.commands[1]).fractional == std::uint8_t{0});

    const auto written = serialize(std::vector<MacCommand>{LinkCheckAns{.margin = 10, .gw_cnt = 3},
                                                           DeviceTimeAns{.seconds = 0x527cdc80, .fractional = 0}});
    REQUIRE(written.ok());
    CHECK(to_hex(*written) == "020a030d80dc7c5200");
}

// ---- every command, both directions ----

TEST_CASE("every uplink command parses from its layout, serializes to the same bytes and back", "[unit][mac]") {
    for (const Vector& v : uplink_vectors()) check_vector(v, Direction::uplink);
}

TEST_CASE("every downlink command parses from its layout, serializes to the same bytes and back", "[unit][mac]") {
    for (const Vector& v : downlink_vectors()) check_vector(v, Direction::downlink);
}

TEST_CASE("all commands of one direction concatenated parse in order and serialize back", "[unit][mac]") {
    for (const Direction dir : {Direction::uplink, Direction::downlink}) {
        const auto& vectors = dir == Direction::uplink ? uplink_vectors() : downlink_vectors();
        std::string all_hex;
        std::vector<MacCommand> expected;
        for (const Vector& v : vectors) {
            all_hex += v.hex;
            expected.push_back(v.command);
        }
        INFO("direction " << static_cast<int>(dir));
        const MacCommands m = parse_hex(all_hex, dir);
        REQUIRE_FALSE(m.error.has_value());
        REQUIRE(m.commands.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            INFO("command " << i << " " << vectors[i].hex);
            CHECK(m.commands[i] == expected[i]);
        }
        const auto written = serialize(expected);
        REQUIRE(written.ok());
        CHECK(to_hex(*written) == all_hex);
    }
}

TEST_CASE("serialize writes zero into RFU bits", "[unit][mac]") {
    // Every serialized vector above already has its RFU bits clear; here the fields are at their maxima, so any
    // bit beyond the field would show.
    CHECK(to_hex(serialize_one(DevStatusAns{.battery = 0, .margin = -1})) == "06003f");
    CHECK(to_hex(serialize_one(DevStatusAns{.battery = 0, .margin = -32})) == "060020");
    CHECK(to_hex(serialize_one(DutyCycleReq{.max_duty_cycle = 15})) == "040f");
    CHECK(to_hex(serialize_one(RxTimingSetupReq{.delay = 15})) == "080f");
    CHECK(to_hex(serialize_one(RxParamSetupReq{.rx1_dr_offset = 7, .rx2_data_rate = 15, .frequency = 0})) ==
          "057f000000");
    CHECK(to_hex(serialize_one(
              TxParamSetupReq{.downlink_dwell_time = true, .uplink_dwell_time = true, .max_eirp = 15})) == "093f");
    CHECK(to_hex(serialize_one(LinkAdrAns{.power_ack = true, .data_rate_ack = true, .channel_mask_ack = true})) ==
          "0307");
}

TEST_CASE("RFU bits are ignored when parsing", "[unit][mac]") {
    // LoRaWAN 1.0.4 §1.2: RFU bits are set to zero by the transmitter; a receiver does not interpret them.
    SECTION("uplink") {
        const MacCommands m = parse_hex(
            "03ff"
            "05f8"
            "06ffc0"
            "06ffe0"
            "07fc"
            "0afe",
            Direction::uplink);
        REQUIRE_FALSE(m.error.has_value());
        REQUIRE(m.commands.size() == 6U);
        CHECK(m.commands[0] ==
              MacCommand{LinkAdrAns{.power_ack = true, .data_rate_ack = true, .channel_mask_ack = true}});
        CHECK(m.commands[1] == MacCommand{RxParamSetupAns{}});
        // 0xc0: RFU 11, margin 0b000000 = 0; 0xe0: RFU 11, margin 0b100000 = −32.
        CHECK(m.commands[2] == MacCommand{DevStatusAns{.battery = 255, .margin = 0}});
        CHECK(m.commands[3] == MacCommand{DevStatusAns{.battery = 255, .margin = -32}});
        CHECK(m.commands[4] == MacCommand{NewChannelAns{}});
        CHECK(m.commands[5] ==
              MacCommand{DlChannelAns{.uplink_frequency_exists = true, .channel_frequency_ok = false}});
    }
    SECTION("downlink") {
        // 0x80 | 0x53 = 0xd3: RFU 1, offset 5, DR3. 0xf3: RFU 1111, MaxDCycle 3. 0xf2: RFU 1111, Del 2.
        // 0xc0: RFU 11, no dwell time, MaxEIRP 0. 0xff in LinkADRReq's Redundancy: RFU 1, ChMaskCntl 7, NbTrans 15.
        const MacCommands m = parse_hex(
            "05d3d2ad84"
            "04f3"
            "08f2"
            "09c0"
            "0352ff00ff",
            Direction::downlink);
        REQUIRE_FALSE(m.error.has_value());
        REQUIRE(m.commands.size() == 5U);
        CHECK(m.commands[0] ==
              MacCommand{RxParamSetupReq{.rx1_dr_offset = 5, .rx2_data_rate = 3, .frequency = 869'525'000}});
        CHECK(m.commands[1] == MacCommand{DutyCycleReq{.max_duty_cycle = 3}});
        CHECK(m.commands[2] == MacCommand{RxTimingSetupReq{.delay = 2}});
        CHECK(m.commands[3] == MacCommand{TxParamSetupReq{}});
        CHECK(m.commands[4] ==
              MacCommand{
                  LinkAdrReq{.data_rate = 5, .tx_power = 2, .ch_mask = 0x00ff, .ch_mask_cntl = 7, .nb_trans = 15}});
    }
}

TEST_CASE("empty input holds no commands and no error", "[unit][mac]") {
    for (const Direction dir : {Direction::uplink, Direction::downlink}) {
        const MacCommands m = parse_mac_commands(ByteView{}, dir);
        CHECK(m.commands.empty());
        CHECK_FALSE(m.error.has_value());
    }
}

// ---- limits of serialize ----

TEST_CASE("serialize accepts every field at its limit", "[unit][mac]") {
    CHECK(to_hex(serialize_one(DevStatusAns{.battery = 255, .margin = 31})) == "06ff1f");
    CHECK(to_hex(serialize_one(DevStatusAns{.battery = 0, .margin = -32})) == "060020");
    CHECK(to_hex(serialize_one(LinkAdrReq{
              .data_rate = 15, .tx_power = 15, .ch_mask = 0xffff, .ch_mask_cntl = 7, .nb_trans = 15})) == "03ffffff7f");
    // 0xffffff · 100 Hz = 1 677 721 500 Hz.
    CHECK(to_hex(serialize_one(NewChannelReq{
              .ch_index = 255, .frequency = 1'677'721'500, .min_dr = 15, .max_dr = 15})) == "07ffffffffff");
    CHECK(to_hex(serialize_one(DlChannelReq{.ch_index = 255, .frequency = 1'677'721'500})) == "0affffffff");
    CHECK(to_hex(serialize_one(DeviceTimeAns{.seconds = 0xffffffff, .fractional = 255})) == "0dffffffffff");
    CHECK(to_hex(serialize_one(LinkCheckAns{.margin = 254, .gw_cnt = 255})) == "02feff");
}

TEST_CASE("serialize refuses fields wider than their bits with field_out_of_range", "[unit][mac]") {
    SECTION("DevStatusAns margin outside −32..31 (6-bit two's complement)") {
        check_refused(DevStatusAns{.battery = 0, .margin = 32});
        check_refused(DevStatusAns{.battery = 0, .margin = -33});
        check_refused(DevStatusAns{.battery = 0, .margin = 127});
        check_refused(DevStatusAns{.battery = 0, .margin = -128});
    }
    SECTION("LinkADRReq: DataRate and TXPower 4 bits, ChMaskCntl 3 bits, NbTrans 4 bits") {
        check_refused(LinkAdrReq{.data_rate = 16, .tx_power = 0, .ch_mask = 0, .ch_mask_cntl = 0, .nb_trans = 1});
        check_refused(LinkAdrReq{.data_rate = 0, .tx_power = 16, .ch_mask = 0, .ch_mask_cntl = 0, .nb_trans = 1});
        check_refused(LinkAdrReq{.data_rate = 0, .tx_power = 0, .ch_mask = 0, .ch_mask_cntl = 8, .nb_trans = 1});
        check_refused(LinkAdrReq{.data_rate = 0, .tx_power = 0, .ch_mask = 0, .ch_mask_cntl = 0, .nb_trans = 16});
        check_refused(
            LinkAdrReq{.data_rate = 255, .tx_power = 255, .ch_mask = 0, .ch_mask_cntl = 255, .nb_trans = 255});
    }
    SECTION("DutyCycleReq MaxDCycle 4 bits") {
        check_refused(DutyCycleReq{.max_duty_cycle = 16});
        check_refused(DutyCycleReq{.max_duty_cycle = 255});
    }
    SECTION("RXParamSetupReq: RX1DROffset 3 bits, RX2DataRate 4 bits, frequency 24 bits of 100 Hz") {
        check_refused(RxParamSetupReq{.rx1_dr_offset = 8, .rx2_data_rate = 0, .frequency = 869'525'000});
        check_refused(RxParamSetupReq{.rx1_dr_offset = 0, .rx2_data_rate = 16, .frequency = 869'525'000});
        // 0x1000000 · 100 Hz = 1 677 721 600 Hz: one unit more than the field holds.
        check_refused(RxParamSetupReq{.rx1_dr_offset = 0, .rx2_data_rate = 0, .frequency = 1'677'721'600});
        check_refused(RxParamSetupReq{.rx1_dr_offset = 0, .rx2_data_rate = 0, .frequency = 0xffffffff});
    }
    SECTION("NewChannelReq: MinDR and MaxDR 4 bits, frequency 24 bits of 100 Hz") {
        check_refused(NewChannelReq{.ch_index = 3, .frequency = 867'100'000, .min_dr = 16, .max_dr = 5});
        check_refused(NewChannelReq{.ch_index = 3, .frequency = 867'100'000, .min_dr = 0, .max_dr = 16});
        check_refused(NewChannelReq{.ch_index = 3, .frequency = 1'677'721'600, .min_dr = 0, .max_dr = 5});
    }
    SECTION("RXTimingSetupReq Del 4 bits") {
        check_refused(RxTimingSetupReq{.delay = 16});
    }
    SECTION("TxParamSetupReq MaxEIRP 4 bits") {
        check_refused(TxParamSetupReq{.downlink_dwell_time = false, .uplink_dwell_time = false, .max_eirp = 16});
    }
    SECTION("DlChannelReq frequency 24 bits of 100 Hz") {
        check_refused(DlChannelReq{.ch_index = 0, .frequency = 1'677'721'600});
    }
    SECTION("a frequency that is not a whole number of 100 Hz steps cannot be carried") {
        // Rounding would tell the device a frequency other than the one meant.
        check_refused(DlChannelReq{.ch_index = 0, .frequency = 868'100'050});
        check_refused(NewChannelReq{.ch_index = 3, .frequency = 867'100'001, .min_dr = 0, .max_dr = 5});
        check_refused(RxParamSetupReq{.rx1_dr_offset = 0, .rx2_data_rate = 0, .frequency = 869'525'099});
    }
    SECTION("LinkCheckAns margin 255 is reserved") {
        // LoRaWAN 1.0.4 §5.2: Margin is 0..254; 255 is reserved.
        check_refused(LinkCheckAns{.margin = 255, .gw_cnt = 1});
    }
}

// ---- truncation, unknown CIDs, direction ----

TEST_CASE("a truncated command stops parsing with malformed at its CID, earlier commands kept", "[unit][mac]") {
    struct Case {
        Direction dir;
        const std::vector<Shape>* shapes;
        std::string_view prefix;  ///< well-formed commands before the cut one
        std::size_t prefix_commands;
    };
    // Uplink prefix: DeviceTimeReq (0d) + LinkADRAns (03 07). Downlink prefix: DevStatusReq (06) + LinkCheckAns
    // (02 0a 03).
    const Case cases[] = {
        {Direction::uplink, &uplink_shapes(), "0d0307", 2},
        {Direction::downlink, &downlink_shapes(), "06020a03", 2},
    };
    for (const Case& c : cases) {
        const std::size_t cid_offset = c.prefix.size() / 2;
        for (const Shape& s : *c.shapes) {
            const Bytes full = hex(s.full);
            REQUIRE(full.size() == s.payload + 1);
            // Every length from the CID alone up to one octet short of the whole command.
            for (std::size_t kept = 0; kept < s.payload; ++kept) {
                Bytes input = hex(c.prefix);
                input.insert(input.end(), full.begin(), full.begin() + static_cast<std::ptrdiff_t>(kept + 1));
                INFO("direction " << static_cast<int>(c.dir) << " input " << to_hex(input));
                const MacCommands m = parse_mac_commands(input, c.dir);
                REQUIRE(m.error.has_value());
                CHECK(m.error->reason == Reject::malformed);
                CHECK(m.stopped_at == cid_offset);
                CHECK(m.commands.size() == c.prefix_commands);
            }
            // The whole command parses.
            Bytes input = hex(c.prefix);
            input.insert(input.end(), full.begin(), full.end());
            const MacCommands m = parse_mac_commands(input, c.dir);
            CHECK_FALSE(m.error.has_value());
            CHECK(m.commands.size() == c.prefix_commands + 1);
        }
    }
}

TEST_CASE("a truncated first command stops at offset 0 with nothing parsed", "[unit][mac]") {
    // LinkADRReq needs 4 payload octets; 3 are there.
    const MacCommands m = parse_hex("0352ff00", Direction::downlink);
    REQUIRE(m.error.has_value());
    CHECK(m.error->reason == Reject::malformed);
    CHECK(m.stopped_at == 0U);
    CHECK(m.commands.empty());
}

TEST_CASE("an unknown CID stops parsing with unknown_mac_command, earlier commands kept", "[unit][mac]") {
    // 0x80..0xff: proprietary; 0x01, 0x0b, 0x0c, 0x0e, 0x0f: LoRaWAN 1.1 only (ResetInd/Conf, RekeyInd/Conf,
    // ADRParamSetupReq, ForceRejoinReq, RejoinParamSetupReq); 0x00 and 0xff never assigned to 1.0.4 commands.
    const std::uint8_t unknown[] = {0x80, 0x0b, 0x01, 0x0c, 0x0e, 0x0f, 0x00, 0xff};
    for (const std::uint8_t cid : unknown) {
        INFO("CID " << static_cast<int>(cid));
        {  // uplink, after LinkCheckReq and LinkADRAns
            // 02 | 03 07 | cid | 02 (a valid LinkCheckReq that must not be read: the length of cid's payload is
            // unknown)
            Bytes input = hex("020307");
            input.push_back(cid);
            input.push_back(0x02);
            INFO("input " << to_hex(input));
            const MacCommands m = parse_mac_commands(input, Direction::uplink);
            REQUIRE(m.error.has_value());
            CHECK(m.error->reason == Reject::unknown_mac_command);
            CHECK(m.stopped_at == 3U);
            REQUIRE(m.commands.size() == 2U);
            CHECK(std::holds_alternative<LinkCheckReq>(m.commands[0]));
            CHECK(std::holds_alternative<LinkAdrAns>(m.commands[1]));
        }
        {  // downlink, after DevStatusReq
            Bytes input = hex("06");
            input.push_back(cid);
            input.push_back(0x06);
            INFO("input " << to_hex(input));
            const MacCommands m = parse_mac_commands(input, Direction::downlink);
            REQUIRE(m.error.has_value());
            CHECK(m.error->reason == Reject::unknown_mac_command);
            CHECK(m.stopped_at == 1U);
            REQUIRE(m.commands.size() == 1U);
            CHECK(std::holds_alternative<DevStatusReq>(m.commands[0]));
        }
        {  // as the first octet
            const Bytes input = {cid};
            for (const Direction dir : {Direction::uplink, Direction::downlink}) {
                const MacCommands m = parse_mac_commands(input, dir);
                REQUIRE(m.error.has_value());
                CHECK(m.error->reason == Reject::unknown_mac_command);
                CHECK(m.stopped_at == 0U);
                CHECK(m.commands.empty());
            }
        }
        CHECK_FALSE(payload_size(cid, Direction::uplink).has_value());
        CHECK_FALSE(payload_size(cid, Direction::downlink).has_value());
    }
}

TEST_CASE("the same CID is a different command in each direction", "[unit][mac]") {
    SECTION("02 0a 03: LinkCheckReq + DlChannelAns uplink, LinkCheckAns downlink") {
        const MacCommands up = parse_hex("020a03", Direction::uplink);
        REQUIRE_FALSE(up.error.has_value());
        REQUIRE(up.commands.size() == 2U);
        CHECK(up.commands[0] == MacCommand{LinkCheckReq{}});
        CHECK(up.commands[1] ==
              MacCommand{DlChannelAns{.uplink_frequency_exists = true, .channel_frequency_ok = true}});

        const MacCommands down = parse_hex("020a03", Direction::downlink);
        REQUIRE_FALSE(down.error.has_value());
        REQUIRE(down.commands.size() == 1U);
        CHECK(down.commands[0] == MacCommand{LinkCheckAns{.margin = 10, .gw_cnt = 3}});
    }
    SECTION("03 07: LinkADRAns uplink, a LinkADRReq cut short downlink") {
        const MacCommands up = parse_hex("0307", Direction::uplink);
        REQUIRE_FALSE(up.error.has_value());
        REQUIRE(up.commands.size() == 1U);
        CHECK(std::holds_alternative<LinkAdrAns>(up.commands[0]));

        const MacCommands down = parse_hex("0307", Direction::downlink);
        REQUIRE(down.error.has_value());
        CHECK(down.error->reason == Reject::malformed);
        CHECK(down.stopped_at == 0U);
    }
    SECTION("06: DevStatusReq downlink, a DevStatusAns cut short uplink") {
        const MacCommands down = parse_hex("06", Direction::downlink);
        REQUIRE_FALSE(down.error.has_value());
        REQUIRE(down.commands.size() == 1U);
        CHECK(std::holds_alternative<DevStatusReq>(down.commands[0]));

        const MacCommands up = parse_hex("06", Direction::uplink);
        REQUIRE(up.error.has_value());
        CHECK(up.error->reason == Reject::malformed);
        CHECK(up.stopped_at == 0U);
    }
    SECTION("0d: DeviceTimeReq uplink, a DeviceTimeAns cut short downlink") {
        const MacCommands up = parse_hex("0d", Direction::uplink);
        REQUIRE_FALSE(up.error.has_value());
        REQUIRE(up.commands.size() == 1U);
        CHECK(std::holds_alternative<DeviceTimeReq>(up.commands[0]));

        const MacCommands down = parse_hex("0d", Direction::downlink);
        REQUIRE(down.error.has_value());
        CHECK(down.error->reason == Reject::malformed);
        CHECK(down.stopped_at == 0U);
    }
    SECTION("04 0f: DutyCycleReq(15) downlink; DutyCycleAns then the unknown CID 0x0f uplink") {
        const MacCommands down = parse_hex("040f", Direction::downlink);
        REQUIRE_FALSE(down.error.has_value());
        REQUIRE(down.commands.size() == 1U);
        CHECK(down.commands[0] == MacCommand{DutyCycleReq{.max_duty_cycle = 15}});

        // Uplink DutyCycleAns has no payload, so 0x0f is read as the next CID, which 1.0.4 does not define.
        const MacCommands up = parse_hex("040f", Direction::uplink);
        REQUIRE(up.error.has_value());
        CHECK(up.error->reason == Reject::unknown_mac_command);
        CHECK(up.stopped_at == 1U);
        REQUIRE(up.commands.size() == 1U);
        CHECK(std::holds_alternative<DutyCycleAns>(up.commands[0]));
    }
}

// ---- name_of, cid_of, direction_of, payload_size ----

TEST_CASE("name_of, cid_of and direction_of follow LoRaWAN 1.0.4 Table 4", "[unit][mac]") {
    struct Row {
        MacCommand command;
        std::string_view name;
        std::uint8_t cid;
        Direction dir;
    };
    const Row rows[] = {
        {LinkCheckReq{}, "LinkCheckReq", 0x02, Direction::uplink},
        {LinkAdrAns{}, "LinkADRAns", 0x03, Direction::uplink},
        {DutyCycleAns{}, "DutyCycleAns", 0x04, Direction::uplink},
        {RxParamSetupAns{}, "RXParamSetupAns", 0x05, Direction::uplink},
        {DevStatusAns{}, "DevStatusAns", 0x06, Direction::uplink},
        {NewChannelAns{}, "NewChannelAns", 0x07, Direction::uplink},
        {RxTimingSetupAns{}, "RXTimingSetupAns", 0x08, Direction::uplink},
        {TxParamSetupAns{}, "TxParamSetupAns", 0x09, Direction::uplink},
        {DlChannelAns{}, "DlChannelAns", 0x0a, Direction::uplink},
        {DeviceTimeReq{}, "DeviceTimeReq", 0x0d, Direction::uplink},
        {LinkCheckAns{}, "LinkCheckAns", 0x02, Direction::downlink},
        {LinkAdrReq{}, "LinkADRReq", 0x03, Direction::downlink},
        {DutyCycleReq{}, "DutyCycleReq", 0x04, Direction::downlink},
        {RxParamSetupReq{}, "RXParamSetupReq", 0x05, Direction::downlink},
        {DevStatusReq{}, "DevStatusReq", 0x06, Direction::downlink},
        {NewChannelReq{}, "NewChannelReq", 0x07, Direction::downlink},
        {RxTimingSetupReq{}, "RXTimingSetupReq", 0x08, Direction::downlink},
        {TxParamSetupReq{}, "TxParamSetupReq", 0x09, Direction::downlink},
        {DlChannelReq{}, "DlChannelReq", 0x0a, Direction::downlink},
        {DeviceTimeAns{}, "DeviceTimeAns", 0x0d, Direction::downlink},
    };
    // One row per alternative of MacCommand, none twice.
    STATIC_REQUIRE(std::variant_size_v<MacCommand> == 20U);
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        const Row& r = rows[i];
        INFO(r.name);
        CHECK(r.command.index() == i);
        CHECK(name_of(r.command) == r.name);
        CHECK(cid_of(r.command) == r.cid);
        CHECK(direction_of(r.command) == r.dir);
        // The serialized command starts with its CID.
        const Bytes written = serialize_one(r.command);
        REQUIRE_FALSE(written.empty());
        CHECK(written[0] == r.cid);
        const auto size = payload_size(r.cid, r.dir);
        REQUIRE(size.has_value());
        CHECK(written.size() == *size + 1);
    }
    CHECK(cid::link_check == std::uint8_t{0x02});
    CHECK(cid::link_adr == std::uint8_t{0x03});
    CHECK(cid::duty_cycle == std::uint8_t{0x04});
    CHECK(cid::rx_param_setup == std::uint8_t{0x05});
    CHECK(cid::dev_status == std::uint8_t{0x06});
    CHECK(cid::new_channel == std::uint8_t{0x07});
    CHECK(cid::rx_timing_setup == std::uint8_t{0x08});
    CHECK(cid::tx_param_setup == std::uint8_t{0x09});
    CHECK(cid::dl_channel == std::uint8_t{0x0a});
    CHECK(cid::device_time == std::uint8_t{0x0d});
}

TEST_CASE("payload_size gives the payload length of each command per direction", "[unit][mac]") {
    for (const Shape& s : uplink_shapes()) {
        INFO("uplink CID " << static_cast<int>(s.cid));
        const auto size = payload_size(s.cid, Direction::uplink);
        REQUIRE(size.has_value());
        CHECK(*size == s.payload);
    }
    for (const Shape& s : downlink_shapes()) {
        INFO("downlink CID " << static_cast<int>(s.cid));
        const auto size = payload_size(s.cid, Direction::downlink);
        REQUIRE(size.has_value());
        CHECK(*size == s.payload);
    }
    // Every CID that is not one of the ten above, in either direction.
    for (unsigned cid = 0; cid <= 0xff; ++cid) {
        const bool known = cid == 0x02 || cid == 0x03 || cid == 0x04 || cid == 0x05 || cid == 0x06 || cid == 0x07 ||
                           cid == 0x08 || cid == 0x09 || cid == 0x0a || cid == 0x0d;
        if (known) continue;
        INFO("CID " << cid);
        CHECK_FALSE(payload_size(static_cast<std::uint8_t>(cid), Direction::uplink).has_value());
        CHECK_FALSE(payload_size(static_cast<std::uint8_t>(cid), Direction::downlink).has_value());
    }
}
