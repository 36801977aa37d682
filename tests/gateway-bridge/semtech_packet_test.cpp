// The Semtech UDP codec against shared/reference/semtech-udp.md (PROTOCOL.TXT rev 1.4, lora_pkt_fwd v4.0.1), "§n"
// below: the header of each message type and each refusal, PUSH_DATA rxpk/stat JSON (rxpk by rxpk), TX_ACK with and
// without JSON, and the PULL_RESP a downlink becomes. Every expected value is read off the reference or worked out
// by hand (base64 literals come from Python's base64 module).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/base64.hpp"
#include "common/messages.hpp"
#include "gateway-bridge/semtech_packet.hpp"
#include "test_support.hpp"

using namespace schwebe::bridge;
using schwebe::common::CrcStatus;
using schwebe::common::DownlinkItem;
using schwebe::common::FskModulation;
using schwebe::common::Location;
using schwebe::common::LoraModulation;
using schwebe::common::RxInfo;
using schwebe::common::SystemTime;
using schwebe::common::TimingDelay;
using schwebe::common::TimingGpsEpoch;
using schwebe::common::TimingImmediately;
using schwebe::common::TxAckStatus;
using schwebe::test::hex;
using json = nlohmann::json;

namespace {

ByteView bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Bytes datagram(std::string_view header_hex, std::string_view json_text = {}) {
    Bytes d = hex(header_hex);
    d.insert(d.end(), json_text.begin(), json_text.end());
    return d;
}

constexpr Eui64 gateway = Eui64::from_u64(0xaa555a0000000101);
constexpr SystemTime received_at = SystemTime{std::chrono::seconds{1'700'000'000}};

// One parser for many datagrams, as the bridge uses it; the counter starts away from 0 so that ids are visibly
// counted from it.
struct Parse {
    PushDataParser parser;
    std::uint32_t counter = 100;

    schwebe::lorawan::Result<PushData, PacketError> operator()(std::string_view text) {
        return parser.parse(bytes_of(text), gateway, received_at, counter);
    }
};

// PROTOCOL.TXT §4's rxpk example, with data replaced by valid base64 of 32 bytes (the example's own data uses '-',
// which is not in the base64 alphabet).
constexpr std::string_view good_data = "QAQDAgGAAQABAgMEBQYHCAkKCwwNDg8QERITFKGyw9Q=";
constexpr std::string_view good_payload_hex = "40040302018001000102030405060708090a0b0c0d0e0f1011121314a1b2c3d4";

json good_rxpk() {
    json rxpk = json::parse(R"({"time":"2013-03-31T16:21:17.528002Z","tmst":3512348611,"chan":2,"rfch":0,
        "freq":866.349812,"stat":1,"modu":"LORA","datr":"SF7BW125","codr":"4/6","rssi":-35,"lsnr":5.1,"size":32})");
    rxpk["data"] = good_data;
    return rxpk;
}

std::string push_json(const std::vector<json>& rxpk) {
    return json{{"rxpk", rxpk}}.dump();
}

// The single rxpk of a datagram must be refused for `reason`.
void check_text_refused(std::string_view text, PacketError reason) {
    Parse parse;
    const auto r = parse(text);
    INFO(text);
    REQUIRE(r.ok());
    CHECK(r->rxpk.empty());
    REQUIRE(r->rejected.size() == 1U);
    CHECK(r->rejected[0].index == 0U);
    CHECK(r->rejected[0].reason == reason);
    CHECK(parse.counter == 100U);
}

void check_refused(const json& rxpk, PacketError reason) {
    check_text_refused(push_json({rxpk}), reason);
}

void check_datagram_refused(std::string_view text, PacketError reason) {
    Parse parse;
    const auto r = parse(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == reason);
}

}  // namespace

// ---- Header (§2) ----

TEST_CASE("parse_header splits a PUSH_DATA into version, token, gateway EUI and JSON", "[unit][semtech]") {
    const std::string text = R"({"stat":{}})";
    const Bytes d = datagram(
        "02"
        "b7e3"
        "00"
        "aa555a0000000101",
        text);
    const auto h = parse_header(d);
    REQUIRE(h.ok());
    CHECK(h->version == 2);
    CHECK(h->token == Token{0xb7, 0xe3});
    CHECK(h->type == PacketType::push_data);
    REQUIRE(h->gateway_id.has_value());
    CHECK(*h->gateway_id == gateway);
    CHECK(h->gateway_id->bytes() == Eui64::Array{0xaa, 0x55, 0x5a, 0x00, 0x00, 0x00, 0x01, 0x01});
    CHECK(std::string(h->json.begin(), h->json.end()) == text);
}

TEST_CASE("parse_header accepts PULL_DATA and TX_ACK with and without JSON", "[unit][semtech]") {
    SECTION("PULL_DATA is the 12-byte header alone") {
        const Bytes d = datagram(
            "02"
            "0102"
            "02"
            "0102030405060708");
        const auto h = parse_header(d);
        REQUIRE(h.ok());
        CHECK(h->type == PacketType::pull_data);
        CHECK(h->token == Token{0x01, 0x02});
        CHECK(*h->gateway_id == Eui64::from_u64(0x0102030405060708));
        CHECK(h->json.empty());
    }
    SECTION("TX_ACK without JSON (lora_pkt_fwd v4 when all is well)") {
        const Bytes d = datagram(
            "02"
            "ffee"
            "05"
            "aa555a0000000101");
        const auto h = parse_header(d);
        REQUIRE(h.ok());
        CHECK(h->type == PacketType::tx_ack);
        CHECK(h->token == Token{0xff, 0xee});
        CHECK(h->json.empty());
    }
    SECTION("TX_ACK with JSON") {
        const std::string text = R"({"txpk_ack":{"error":"TOO_LATE"}})";
        const Bytes d = datagram(
            "02"
            "0000"
            "05"
            "aa555a0000000101",
            text);
        const auto h = parse_header(d);
        REQUIRE(h.ok());
        CHECK(h->type == PacketType::tx_ack);
        CHECK(std::string(h->json.begin(), h->json.end()) == text);
    }
    SECTION("protocol version 1") {
        const Bytes d = datagram(
            "01"
            "4242"
            "00"
            "aa555a0000000101",
            "{}");
        const auto h = parse_header(d);
        REQUIRE(h.ok());
        CHECK(h->version == 1);
        CHECK(h->type == PacketType::push_data);
    }
}

TEST_CASE("parse_header refuses datagrams under 4 bytes, and gateway messages under 12", "[unit][semtech]") {
    for (const std::string_view d : {"", "02", "0201", "020102"}) {
        const auto h = parse_header(hex(d));
        INFO(d);
        REQUIRE_FALSE(h.ok());
        CHECK(h.error() == PacketError::too_short);
    }
    // PUSH_DATA, PULL_DATA and TX_ACK need the 8 bytes of gateway EUI after the 4-byte header.
    for (const std::string_view d : {"02010200", "02010200aa555a00000001", "02010202", "02010202aa555a00000001",
                                     "0201020501", "02010205aa555a00000001"}) {
        const auto h = parse_header(hex(d));
        INFO(d);
        REQUIRE_FALSE(h.ok());
        CHECK(h.error() == PacketError::too_short);
    }
}

TEST_CASE("parse_header refuses versions other than 1 and 2", "[unit][semtech]") {
    for (const std::string_view v : {"00", "03", "ff"}) {
        const auto h = parse_header(datagram(std::string(v) + "0102"
                                                              "00"
                                                              "aa555a0000000101",
                                             "{}"));
        REQUIRE_FALSE(h.ok());
        CHECK(h.error() == PacketError::unsupported_version);
    }
}

TEST_CASE("parse_header refuses unknown identifiers", "[unit][semtech]") {
    for (const std::string_view id : {"06", "07", "80", "ff"}) {
        const auto h = parse_header(datagram("020102" + std::string(id) + "aa555a0000000101"));
        REQUIRE_FALSE(h.ok());
        CHECK(h.error() == PacketError::unknown_identifier);
    }
}

TEST_CASE("parse_header refuses the server-to-gateway messages", "[unit][semtech]") {
    // PUSH_ACK (1), PULL_RESP (3), PULL_ACK (4): 4-byte header, or PULL_RESP JSON from byte 4.
    for (const std::string_view d : {"02010201", "02010203", "02010204", "020102037b7d"}) {
        const auto h = parse_header(hex(d));
        REQUIRE_FALSE(h.ok());
        CHECK(h.error() == PacketError::unexpected_direction);
    }
}

TEST_CASE("parse_header refuses datagrams above max_datagram_size", "[unit][semtech]") {
    Bytes d =
        hex("02"
            "0102"
            "00"
            "aa555a0000000101");
    d.resize(max_datagram_size, ' ');
    CHECK(parse_header(d).ok());
    d.push_back(' ');
    const auto h = parse_header(d);
    REQUIRE_FALSE(h.ok());
    CHECK(h.error() == PacketError::too_large);
}

TEST_CASE("make_ack echoes version and token: PUSH_ACK for PUSH_DATA, PULL_ACK for PULL_DATA", "[unit][semtech]") {
    const auto push =
        parse_header(datagram("02"
                              "b7e3"
                              "00"
                              "aa555a0000000101",
                              "{}"));
    REQUIRE(push.ok());
    CHECK(make_ack(*push) == std::array<std::uint8_t, 4>{0x02, 0xb7, 0xe3, 0x01});

    const auto pull =
        parse_header(datagram("02"
                              "0a0b"
                              "02"
                              "aa555a0000000101"));
    REQUIRE(pull.ok());
    CHECK(make_ack(*pull) == std::array<std::uint8_t, 4>{0x02, 0x0a, 0x0b, 0x04});

    const auto v1 =
        parse_header(datagram("01"
                              "ffff"
                              "02"
                              "aa555a0000000101"));
    REQUIRE(v1.ok());
    CHECK(make_ack(*v1) == std::array<std::uint8_t, 4>{0x01, 0xff, 0xff, 0x04});
}

TEST_CASE("PacketError names are distinct metric labels", "[unit][semtech]") {
    CHECK(to_string(PacketError::too_short) == "too_short");
    CHECK(to_string(PacketError::unsupported_version) == "unsupported_version");
    CHECK(to_string(PacketError::unknown_identifier) == "unknown_identifier");
    CHECK(to_string(PacketError::unexpected_direction) == "unexpected_direction");
    CHECK(to_string(PacketError::too_large) == "too_large");
    CHECK(to_string(PacketError::invalid_json) == "invalid_json");
    CHECK(to_string(PacketError::wrong_json_type) == "wrong_json_type");
    CHECK(to_string(PacketError::invalid_base64) == "invalid_base64");
    CHECK(to_string(PacketError::size_mismatch) == "size_mismatch");
    CHECK(to_string(PacketError::crc_not_ok) == "crc_not_ok");
    CHECK(to_string(PacketError::invalid_datarate) == "invalid_datarate");
    CHECK(to_string(PacketError::invalid_modulation) == "invalid_modulation");
}

// ---- PUSH_DATA rxpk (§3) ----

TEST_CASE("PUSH_DATA: the reference example's data is not base64 and is refused", "[unit][semtech]") {
    // PROTOCOL.TXT's example, verbatim: '-' is not in the RFC 4648 §4 alphabet.
    check_text_refused(
        R"({"rxpk":[{"time":"2013-03-31T16:21:17.528002Z","tmst":3512348611,"chan":2,"rfch":0,"freq":866.349812,)"
        R"("stat":1,"modu":"LORA","datr":"SF7BW125","codr":"4/6","rssi":-35,"lsnr":5.1,"size":32,)"
        R"("data":"-DS4CGaDCdG+48eJNM3Vai-zDpsR71Pn9CPA9uCON84"}]})",
        PacketError::invalid_base64);
}

TEST_CASE("PUSH_DATA: every field of a LoRa rxpk", "[unit][semtech]") {
    Parse parse;
    const std::string text = push_json({good_rxpk()});
    const auto r = parse(text);
    REQUIRE(r.ok());
    CHECK(r->rejected.empty());
    CHECK_FALSE(r->stat.has_value());
    REQUIRE(r->rxpk.size() == 1U);
    const RxPacket& p = r->rxpk[0];
    CHECK(p.more_antennas.empty());
    CHECK(p.frame.phy_payload == hex(good_payload_hex));
    CHECK(p.frame.tx_info.frequency_hz == 866'349'812U);
    CHECK(p.frame.tx_info.modulation == schwebe::common::Modulation{LoraModulation{7, 125'000, "4/6"}});

    const RxInfo& rx = p.frame.rx_info;
    using namespace std::chrono;
    const SystemTime expected_time =
        time_point_cast<SystemTime::duration>(sys_days{2013y / March / 31} + 16h + 21min + 17s + 528002us);
    CHECK(rx.gateway_id == gateway);
    CHECK(rx.uplink_id == 101U);
    CHECK(parse.counter == 101U);
    CHECK(rx.received_at == received_at);
    CHECK(rx.time == std::optional<SystemTime>{expected_time});
    CHECK_FALSE(rx.gps_time_ms.has_value());
    CHECK(rx.tmst == 3'512'348'611U);
    CHECK(rx.rssi == -35);
    REQUIRE(rx.snr.has_value());
    CHECK(*rx.snr == Approx(5.1));
    CHECK(rx.channel == 2U);
    CHECK(rx.rf_chain == 0U);
    CHECK(rx.antenna == 0U);
    CHECK_FALSE(rx.location.has_value());
    CHECK(rx.crc_status == CrcStatus::ok);
}

TEST_CASE("PUSH_DATA: optional rxpk fields", "[unit][semtech]") {
    SECTION("tmms (GPS time, ms since 1980-01-06)") {
        json rxpk = good_rxpk();
        rxpk["tmms"] = 1'365'000'000'123ULL;
        Parse parse;
        const auto r = parse(push_json({rxpk}));
        REQUIRE(r.ok());
        REQUIRE(r->rxpk.size() == 1U);
        CHECK(r->rxpk[0].frame.rx_info.gps_time_ms == std::optional<std::uint64_t>{1'365'000'000'123ULL});
    }
    SECTION("time, chan, rfch, codr, lsnr absent") {
        json rxpk = good_rxpk();
        for (const char* key : {"time", "chan", "rfch", "codr", "lsnr"}) rxpk.erase(key);
        Parse parse;
        const auto r = parse(push_json({rxpk}));
        REQUIRE(r.ok());
        REQUIRE(r->rxpk.size() == 1U);
        const RxInfo& rx = r->rxpk[0].frame.rx_info;
        CHECK_FALSE(rx.time.has_value());
        CHECK_FALSE(rx.snr.has_value());
        CHECK(rx.channel == 0U);
        CHECK(rx.rf_chain == 0U);
        // LoRaWAN uplinks are sent at coding rate 4/5.
        CHECK(std::get<LoraModulation>(r->rxpk[0].frame.tx_info.modulation).code_rate == "4/5");
    }
    SECTION("a time that is not ISO 8601 compact is left absent, the frame kept") {
        for (const char* t : {"2014-01-12 08:59:28 GMT", "2013-02-30T00:00:00Z", "2013-03-31T24:00:00Z",
                              "2013-03-31T16:21:17.Z", "2013-03-31T16:21:17.528002", "", "yesterday"}) {
            json rxpk = good_rxpk();
            rxpk["time"] = t;
            Parse parse;
            const auto r = parse(push_json({rxpk}));
            INFO(t);
            REQUIRE(r.ok());
            REQUIRE(r->rxpk.size() == 1U);
            CHECK_FALSE(r->rxpk[0].frame.rx_info.time.has_value());
        }
    }
    SECTION("a time without fraction, and one with ns") {
        using namespace std::chrono;
        json rxpk = good_rxpk();
        rxpk["time"] = "2020-02-29T23:59:59Z";
        Parse parse;
        auto r = parse(push_json({rxpk}));
        REQUIRE(r.ok());
        REQUIRE(r->rxpk.size() == 1U);
        CHECK(r->rxpk[0].frame.rx_info.time ==
              std::optional<SystemTime>{sys_days{2020y / February / 29} + 23h + 59min + 59s});
        rxpk["time"] = "2020-02-29T23:59:59.000000001Z";
        r = parse(push_json({rxpk}));
        REQUIRE(r.ok());
        REQUIRE(r->rxpk.size() == 1U);
        CHECK(r->rxpk[0].frame.rx_info.time ==
              std::optional<SystemTime>{sys_days{2020y / February / 29} + 23h + 59min + 59s + 1ns});
    }
}

TEST_CASE("PUSH_DATA: freq in MHz becomes Hz, rounded to the nearest Hz", "[unit][semtech]") {
    const std::vector<std::pair<double, std::uint32_t>> cases = {
        {868.1, 868'100'000}, {867.499998, 867'499'998},  {869.525, 869'525'000},    {866.349812, 866'349'812},
        {863.0, 863'000'000}, {868.0000004, 868'000'000}, {868.0000006, 868'000'001}};
    for (const auto& [mhz, hz] : cases) {
        json rxpk = good_rxpk();
        rxpk["freq"] = mhz;
        Parse parse;
        const auto r = parse(push_json({rxpk}));
        INFO(mhz);
        REQUIRE(r.ok());
        REQUIRE(r->rxpk.size() == 1U);
        CHECK(r->rxpk[0].frame.tx_info.frequency_hz == hz);
    }
}

TEST_CASE("PUSH_DATA: tmst is the full unsigned 32-bit counter", "[unit][semtech]") {
    json rxpk = good_rxpk();
    rxpk["tmst"] = 4'294'967'295U;
    Parse parse;
    auto r = parse(push_json({rxpk}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    CHECK(r->rxpk[0].frame.rx_info.tmst == 4'294'967'295U);

    rxpk["tmst"] = 4'294'967'296ULL;
    check_refused(rxpk, PacketError::wrong_json_type);
    rxpk["tmst"] = -1;
    check_refused(rxpk, PacketError::wrong_json_type);
}

TEST_CASE("PUSH_DATA: LoRa data rates SF5..SF12 at 125, 250, 500 kHz", "[unit][semtech]") {
    for (int sf = 5; sf <= 12; ++sf) {
        for (const std::uint32_t bw : {125U, 250U, 500U}) {
            json rxpk = good_rxpk();
            rxpk["datr"] = "SF" + std::to_string(sf) + "BW" + std::to_string(bw);
            Parse parse;
            const auto r = parse(push_json({rxpk}));
            INFO(rxpk["datr"]);
            REQUIRE(r.ok());
            REQUIRE(r->rxpk.size() == 1U);
            const auto& m = std::get<LoraModulation>(r->rxpk[0].frame.tx_info.modulation);
            CHECK(m.spreading_factor == sf);
            CHECK(m.bandwidth_hz == bw * 1000);
        }
    }
}

TEST_CASE("PUSH_DATA: a LoRa datr that is not SF{5..12}BW{125,250,500} is refused", "[unit][semtech]") {
    for (const char* datr : {"SF4BW125", "SF13BW125", "SF7BW124", "SF7BW1250", "SF7", "BW125", "sf7bw125", "SF07BW125",
                             "SF7BW125 ", "SFBW125", "SF7BW", "", "SF-7BW125", "SF+7BW125"}) {
        json rxpk = good_rxpk();
        rxpk["datr"] = datr;
        INFO(datr);
        check_refused(rxpk, PacketError::invalid_datarate);
    }
    json rxpk = good_rxpk();
    rxpk["datr"] = 50000;  // a number is FSK's form
    check_refused(rxpk, PacketError::invalid_datarate);
}

TEST_CASE("PUSH_DATA: an FSK rxpk has its bit rate as a number and no SNR", "[unit][semtech]") {
    json rxpk = json::parse(R"({"tmst":3512348514,"chan":9,"rfch":1,"freq":868.8,"stat":1,"modu":"FSK",
        "datr":50000,"rssi":-75,"size":14,"data":"YAQDAgEgAAABAKGyw9Q="})");
    Parse parse;
    const auto r = parse(push_json({rxpk}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    const auto& frame = r->rxpk[0].frame;
    CHECK(frame.phy_payload == hex("60040302012000000100a1b2c3d4"));
    CHECK(frame.tx_info.frequency_hz == 868'800'000U);
    REQUIRE(std::holds_alternative<FskModulation>(frame.tx_info.modulation));
    CHECK(std::get<FskModulation>(frame.tx_info.modulation).bit_rate == 50'000U);
    CHECK(frame.rx_info.rssi == -75);
    CHECK_FALSE(frame.rx_info.snr.has_value());
    CHECK(frame.rx_info.channel == 9U);
    CHECK(frame.rx_info.rf_chain == 1U);

    for (const json& bad : {json("50000"), json(0), json(-50000), json(50000.5), json(4294967296.0)}) {
        rxpk["datr"] = bad;
        INFO(bad.dump());
        check_refused(rxpk, PacketError::invalid_datarate);
    }
}

TEST_CASE("PUSH_DATA: modu other than LORA and FSK is refused", "[unit][semtech]") {
    for (const char* modu : {"LORA2", "lora", "FSK ", "", "LR-FHSS"}) {
        json rxpk = good_rxpk();
        rxpk["modu"] = modu;
        INFO(modu);
        check_refused(rxpk, PacketError::invalid_modulation);
    }
}

TEST_CASE("PUSH_DATA: stat other than 1 (CRC bad or absent) is dropped", "[unit][semtech]") {
    for (const int stat : {-1, 0, 2}) {
        json rxpk = good_rxpk();
        rxpk["stat"] = stat;
        INFO(stat);
        check_refused(rxpk, PacketError::crc_not_ok);
    }
}

TEST_CASE("PUSH_DATA: size must match the decoded data", "[unit][semtech]") {
    for (const int size : {0, 31, 33, 255}) {
        json rxpk = good_rxpk();
        rxpk["size"] = size;
        INFO(size);
        check_refused(rxpk, PacketError::size_mismatch);
    }
}

TEST_CASE("PUSH_DATA: data without padding is accepted, anything else than base64 refused", "[unit][semtech]") {
    json rxpk = good_rxpk();
    rxpk["data"] = "QAQDAgGAAQABAgMEBQYHCAkKCwwNDg8QERITFKGyw9Q";
    Parse parse;
    const auto r = parse(push_json({rxpk}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    CHECK(r->rxpk[0].frame.phy_payload == hex(good_payload_hex));

    for (const char* data : {"QAQDAgGAAQABAgMEBQYHCAkKCwwNDg8QERITFKGyw9Q=x", "QAQD AgGA", "Q", "QA=A"}) {
        rxpk["data"] = data;
        INFO(data);
        check_refused(rxpk, PacketError::invalid_base64);
    }
}

TEST_CASE("PUSH_DATA: each required rxpk field missing refuses the rxpk", "[unit][semtech]") {
    for (const char* key : {"tmst", "freq", "stat", "modu", "datr", "size", "data", "rssi"}) {
        json rxpk = good_rxpk();
        rxpk.erase(key);
        INFO(key);
        check_refused(rxpk, PacketError::wrong_json_type);
    }
}

TEST_CASE("PUSH_DATA: a known rxpk field of the wrong JSON type refuses the rxpk", "[unit][semtech]") {
    const std::vector<std::pair<const char*, json>> cases = {{"freq", "868.1"},
                                                             {"tmst", "3512348611"},
                                                             {"tmst", 1.5},
                                                             {"tmst", nullptr},
                                                             {"stat", "1"},
                                                             {"stat", true},
                                                             {"modu", 1},
                                                             {"datr", true},
                                                             {"datr", nullptr},
                                                             {"codr", 45},
                                                             {"rssi", "-35"},
                                                             {"lsnr", "5.1"},
                                                             {"size", "32"},
                                                             {"size", -1},
                                                             {"data", 32},
                                                             {"data", nullptr},
                                                             {"chan", -1},
                                                             {"rfch", "0"},
                                                             {"time", 1364746877},
                                                             {"tmms", -5},
                                                             {"chan", json::array()},
                                                             {"freq", json::object()},
                                                             {"freq", -868.1},
                                                             {"rsig", json::object()}};
    for (const auto& [key, value] : cases) {
        json rxpk = good_rxpk();
        rxpk[key] = value;
        INFO(key << " = " << value.dump());
        check_refused(rxpk, PacketError::wrong_json_type);
    }
}

TEST_CASE("PUSH_DATA: unknown fields are ignored, at every level", "[unit][semtech]") {
    json rxpk = good_rxpk();
    rxpk["foff"] = -123;
    rxpk["brd"] = 0;
    rxpk["jver"] = 1;
    rxpk["nested"] = json::parse(R"({"a":[1,{"b":null},"c"],"d":{"e":{}}})");
    rxpk["rssis"] = -37;
    const json root = {{"rxpk", {rxpk}},
                       {"future", {{"x", json::array({1, 2, 3})}}},
                       {"stat", {{"rxnb", 1}, {"temp", 41.5}, {"brd", json::array()}}},
                       {"version", "9"}};
    Parse parse;
    const auto r = parse(root.dump());
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    CHECK(r->rejected.empty());
    CHECK(r->rxpk[0].frame.phy_payload == hex(good_payload_hex));
    CHECK(r->rxpk[0].frame.rx_info.rssi == -35);
    REQUIRE(r->stat.has_value());
    CHECK(r->stat->rxnb == std::optional<std::uint32_t>{1});
}

TEST_CASE("PUSH_DATA: several rxpk in one datagram stand or fall one by one", "[unit][semtech]") {
    json crc_bad = good_rxpk();
    crc_bad["stat"] = -1;
    json second = good_rxpk();
    second["tmst"] = 1000;
    second["size"] = 13;
    second["data"] = "QAQDAgEAAgCrze8BAg==";
    json size_bad = good_rxpk();
    size_bad["size"] = 3;
    const json not_object = 42;

    Parse parse;
    const auto r = parse(push_json({good_rxpk(), crc_bad, second, size_bad, not_object}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 2U);
    CHECK(r->rxpk[0].frame.rx_info.tmst == 3'512'348'611U);
    CHECK(r->rxpk[0].frame.rx_info.uplink_id == 101U);
    CHECK(r->rxpk[1].frame.rx_info.tmst == 1000U);
    CHECK(r->rxpk[1].frame.phy_payload == hex("4004030201000200abcdef0102"));
    CHECK(r->rxpk[1].frame.rx_info.uplink_id == 102U);
    CHECK(parse.counter == 102U);
    REQUIRE(r->rejected.size() == 3U);
    CHECK(r->rejected[0].index == 1U);
    CHECK(r->rejected[0].reason == PacketError::crc_not_ok);
    CHECK(r->rejected[1].index == 3U);
    CHECK(r->rejected[1].reason == PacketError::size_mismatch);
    CHECK(r->rejected[2].index == 4U);
    CHECK(r->rejected[2].reason == PacketError::wrong_json_type);
}

TEST_CASE("PUSH_DATA: the same frame twice in one rxpk array is two receptions", "[unit][semtech]") {
    // §3: "One rxpk array can carry several packets, including several copies of the same frame."
    Parse parse;
    const auto r = parse(push_json({good_rxpk(), good_rxpk()}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 2U);
    CHECK(r->rxpk[0].frame.phy_payload == r->rxpk[1].frame.phy_payload);
    CHECK(r->rxpk[0].frame.rx_info.uplink_id == 101U);
    CHECK(r->rxpk[1].frame.rx_info.uplink_id == 102U);
}

TEST_CASE("PUSH_DATA: rsig gives one RxInfo per antenna", "[unit][semtech]") {
    json rxpk = good_rxpk();
    for (const char* key : {"rssi", "lsnr", "chan"}) rxpk.erase(key);
    rxpk["rsig"] = json::parse(R"([
        {"ant":0,"chan":3,"rssic":-50,"rssis":-52,"lsnr":7.5,"etime":"AAAA","foff":-10,"ftime":1,"rssisd":0},
        {"ant":1,"chan":4,"rssic":-60,"lsnr":-2.25}])");
    Parse parse;
    const auto r = parse(push_json({rxpk}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    const RxPacket& p = r->rxpk[0];
    const RxInfo& first = p.frame.rx_info;
    CHECK(first.antenna == 0U);
    CHECK(first.channel == 3U);
    CHECK(first.rssi == -50);
    CHECK(first.snr == std::optional<double>{7.5});
    CHECK(first.uplink_id == 101U);
    CHECK(first.tmst == 3'512'348'611U);
    CHECK(first.gateway_id == gateway);
    CHECK(first.received_at == received_at);
    CHECK(first.crc_status == CrcStatus::ok);
    REQUIRE(p.more_antennas.size() == 1U);
    const RxInfo& second = p.more_antennas[0];
    CHECK(second.antenna == 1U);
    CHECK(second.channel == 4U);
    CHECK(second.rssi == -60);
    CHECK(second.snr == std::optional<double>{-2.25});
    CHECK(second.uplink_id == 102U);
    CHECK(second.tmst == 3'512'348'611U);
    CHECK(second.time == first.time);
    CHECK(second.gateway_id == gateway);
    CHECK(second.crc_status == CrcStatus::ok);
    CHECK(parse.counter == 102U);
}

TEST_CASE("PUSH_DATA: rsig entries fall back to rssis and to the rxpk's own fields", "[unit][semtech]") {
    json rxpk = good_rxpk();  // chan 2, rssi -35, lsnr 5.1
    rxpk["rsig"] = json::parse(R"([{"ant":1,"rssis":-70},{"ant":2}])");
    Parse parse;
    const auto r = parse(push_json({rxpk}));
    REQUIRE(r.ok());
    REQUIRE(r->rxpk.size() == 1U);
    CHECK(r->rxpk[0].frame.rx_info.antenna == 1U);
    CHECK(r->rxpk[0].frame.rx_info.rssi == -70);
    CHECK(r->rxpk[0].frame.rx_info.channel == 2U);
    REQUIRE(r->rxpk[0].more_antennas.size() == 1U);
    CHECK(r->rxpk[0].more_antennas[0].antenna == 2U);
    CHECK(r->rxpk[0].more_antennas[0].rssi == -35);
    REQUIRE(r->rxpk[0].more_antennas[0].snr.has_value());
    CHECK(*r->rxpk[0].more_antennas[0].snr == Approx(5.1));

    SECTION("no RSSI anywhere") {
        rxpk.erase("rssi");
        check_refused(rxpk, PacketError::wrong_json_type);
    }
    SECTION("an entry that is not an object") {
        rxpk["rsig"] = json::parse(R"([{"ant":0,"rssic":-50},3])");
        check_refused(rxpk, PacketError::wrong_json_type);
    }
    SECTION("a member of the wrong type") {
        rxpk["rsig"] = json::parse(R"([{"ant":"0","rssic":-50}])");
        check_refused(rxpk, PacketError::wrong_json_type);
    }
}

// ---- PUSH_DATA stat (§3) ----

TEST_CASE("PUSH_DATA: a stat-only datagram", "[unit][semtech]") {
    // PROTOCOL.TXT §4's stat example.
    Parse parse;
    const auto r = parse(R"({"stat":{"time":"2014-01-12 08:59:28 GMT","lati":46.24000,"long":3.25230,"alti":145,)"
                         R"("rxnb":2,"rxok":2,"rxfw":2,"ackr":100.0,"dwnb":2,"txnb":2}})");
    REQUIRE(r.ok());
    CHECK(r->rxpk.empty());
    CHECK(r->rejected.empty());
    CHECK(parse.counter == 100U);
    REQUIRE(r->stat.has_value());
    const Stat& s = *r->stat;
    CHECK(s.time == std::optional<std::string>{"2014-01-12 08:59:28 GMT"});
    CHECK(s.location == std::optional<Location>{Location{46.24, 3.2523, 145}});
    CHECK(s.rxnb == std::optional<std::uint32_t>{2});
    CHECK(s.rxok == std::optional<std::uint32_t>{2});
    CHECK(s.rxfw == std::optional<std::uint32_t>{2});
    CHECK(s.ackr == std::optional<double>{100.0});
    CHECK(s.dwnb == std::optional<std::uint32_t>{2});
    CHECK(s.txnb == std::optional<std::uint32_t>{2});
}

TEST_CASE("PUSH_DATA: stat fields the gateway omits are absent", "[unit][semtech]") {
    Parse parse;
    SECTION("empty stat") {
        const auto r = parse(R"({"stat":{}})");
        REQUIRE(r.ok());
        REQUIRE(r->stat.has_value());
        CHECK(r->stat->time == std::nullopt);
        CHECK(r->stat->location == std::nullopt);
        CHECK(r->stat->rxnb == std::nullopt);
        CHECK(r->stat->ackr == std::nullopt);
    }
    SECTION("no GPS fix: no position; a latitude alone is no position") {
        const auto r = parse(R"({"stat":{"lati":46.24,"alti":145,"rxnb":0}})");
        REQUIRE(r.ok());
        REQUIRE(r->stat.has_value());
        CHECK(r->stat->location == std::nullopt);
        CHECK(r->stat->rxnb == std::optional<std::uint32_t>{0});
    }
    SECTION("position without altitude") {
        const auto r = parse(R"({"stat":{"lati":-33.5,"long":-70.25}})");
        REQUIRE(r.ok());
        REQUIRE(r->stat.has_value());
        CHECK(r->stat->location == std::optional<Location>{Location{-33.5, -70.25, 0}});
    }
}

TEST_CASE("PUSH_DATA: a stat member of the wrong type is skipped, the rest kept", "[unit][semtech]") {
    Parse parse;
    const auto r = parse(R"({"stat":{"time":5,"lati":"46.24","long":3.2523,"rxnb":"2","rxok":-1,)"
                         R"("rxfw":4294967296,"ackr":"100","dwnb":[2],"txnb":7}})");
    REQUIRE(r.ok());
    REQUIRE(r->stat.has_value());
    const Stat& s = *r->stat;
    CHECK(s.time == std::nullopt);
    CHECK(s.location == std::nullopt);
    CHECK(s.rxnb == std::nullopt);
    CHECK(s.rxok == std::nullopt);
    CHECK(s.rxfw == std::nullopt);
    CHECK(s.ackr == std::nullopt);
    CHECK(s.dwnb == std::nullopt);
    CHECK(s.txnb == std::optional<std::uint32_t>{7});
}

TEST_CASE("PUSH_DATA: rxpk and stat together", "[unit][semtech]") {
    Parse parse;
    const auto r = parse(R"({"rxpk":[)" + good_rxpk().dump() + R"(],"stat":{"rxnb":1,"rxok":1}})");
    REQUIRE(r.ok());
    CHECK(r->rxpk.size() == 1U);
    REQUIRE(r->stat.has_value());
    CHECK(r->stat->rxok == std::optional<std::uint32_t>{1});
}

// ---- PUSH_DATA refused as a whole ----

TEST_CASE("PUSH_DATA: rxpk that is not an array, stat that is not an object", "[unit][semtech]") {
    check_datagram_refused(R"({"rxpk":{}})", PacketError::wrong_json_type);
    check_datagram_refused(R"({"rxpk":)" + good_rxpk().dump() + "}", PacketError::wrong_json_type);
    check_datagram_refused(R"({"rxpk":null})", PacketError::wrong_json_type);
    check_datagram_refused(R"({"rxpk":"[]"})", PacketError::wrong_json_type);
    check_datagram_refused(R"({"stat":[]})", PacketError::wrong_json_type);
    check_datagram_refused(R"({"stat":1})", PacketError::wrong_json_type);
    check_datagram_refused(R"({"rxpk":[],"stat":"ok"})", PacketError::wrong_json_type);
}

TEST_CASE("PUSH_DATA: empty, non-object and broken JSON", "[unit][semtech]") {
    for (const std::string_view text : {"",
                                        " ",
                                        "\n",
                                        "[]",
                                        "[{}]",
                                        "null",
                                        "true",
                                        "1",
                                        R"("rxpk")",
                                        "{",
                                        "}",
                                        "{]",
                                        R"({"rxpk":[]}})",
                                        R"({"rxpk":[]} {})",
                                        R"({"rxpk":[]} x)",
                                        "{rxpk:[]}",
                                        R"({"rxpk" [] })",
                                        R"({"rxpk":[],})",
                                        R"({"rxpk":[1,]})",
                                        R"({"rxpk":[{"tmst":1,}]})",
                                        R"({"stat":{"rxnb":1,"rxok"}})",
                                        R"({"rxpk":[{"data":"\x"}]})",
                                        "{\"rxpk\":[{\"modu\":\"\xc3\x28\"}]}",
                                        R"({'rxpk':[]})",
                                        R"({"rxpk":[NONE]})",
                                        R"({"rxpk":[{"tmst":NONE}]})",
                                        R"({"stat":{"rxnb":NONE}})",
                                        R"({"rxpk":NONE})",
                                        R"({"stat":NONE})",
                                        R"({"rxpk":[{"tmst":1 "freq":868.1}]})",
                                        R"({"rxpk":[{"tmst":1}{"tmst":2}]})",
                                        R"({"rxpk":[{"tmst"}]})",
                                        R"({"rxpk":[{"rsig":[{"ant":NONE}]}]})",
                                        R"({"rxpk":[{"rsig":[{"ant":0},NONE]}]})"}) {
        check_datagram_refused(text, PacketError::invalid_json);
    }
}

TEST_CASE("PUSH_DATA: every truncation of a valid datagram is invalid JSON", "[unit][semtech]") {
    const std::string text = R"({"rxpk":[)" + good_rxpk().dump() + R"(],"stat":{"rxnb":1,"lati":46.2,"long":3.2}})";
    Parse parse;
    REQUIRE(parse(text).ok());
    for (std::size_t n = 0; n < text.size(); ++n) {
        const auto r = parse(std::string_view{text}.substr(0, n));
        INFO(text.substr(0, n));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error() == PacketError::invalid_json);
    }
}

TEST_CASE("PUSH_DATA: an empty object and an empty rxpk array are valid and hold nothing", "[unit][semtech]") {
    Parse parse;
    for (const std::string_view text : {"{}", R"({"rxpk":[]})", " { \"rxpk\" : [ ] } \n"}) {
        const auto r = parse(text);
        INFO(text);
        REQUIRE(r.ok());
        CHECK(r->rxpk.empty());
        CHECK(r->rejected.empty());
        CHECK_FALSE(r->stat.has_value());
    }
}

TEST_CASE("PUSH_DATA: one parser serves datagrams of any size in turn", "[unit][semtech]") {
    Parse parse;
    std::vector<json> many(40, good_rxpk());
    const std::string big = push_json(many);
    const auto r1 = parse(big);
    REQUIRE(r1.ok());
    CHECK(r1->rxpk.size() == 40U);
    const auto r2 = parse(R"({"stat":{"time":"t"}})");
    REQUIRE(r2.ok());
    CHECK(r2->rxpk.empty());
    REQUIRE(r2->stat.has_value());
    CHECK(r2->stat->time == std::optional<std::string>{"t"});
    const auto r3 = parse(push_json({good_rxpk()}));
    REQUIRE(r3.ok());
    REQUIRE(r3->rxpk.size() == 1U);
    CHECK(r3->rxpk[0].frame.rx_info.uplink_id == 141U);
    // Larger than any datagram (the parser's buffer grows).
    std::vector<json> huge(400, good_rxpk());
    const auto r4 = parse(push_json(huge));
    REQUIRE(r4.ok());
    CHECK(r4->rxpk.size() == 400U);
}

TEST_CASE("PUSH_DATA: escaped keys and strings are read unescaped", "[unit][semtech]") {
    std::string text = push_json({good_rxpk()});
    const auto replace = [&text](std::string_view from, std::string_view to) {
        text.replace(text.find(from), from.size(), to);
    };
    replace(R"("modu":"LORA")", R"("\u006dodu":"LO\u0052A")");
    replace(R"("datr":"SF7BW125")", R"("datr":"SF7\/BW125")");
    Parse parse;
    const auto r = parse(text);
    REQUIRE(r.ok());
    // "SF7/BW125" is not a data rate; the escaped modu was understood.
    REQUIRE(r->rejected.size() == 1U);
    CHECK(r->rejected[0].reason == PacketError::invalid_datarate);
}

// ---- TX_ACK (§5) ----

TEST_CASE("TX_ACK without JSON, or with NONE, is success", "[unit][semtech]") {
    const auto empty = parse_tx_ack({});
    REQUIRE(empty.ok());
    CHECK(*empty == TxAckStatus::ok);

    for (const std::string_view text : {R"({"txpk_ack":{"error":"NONE"}})", R"({"txpk_ack":{}})", "{}",
                                        R"({"txpk_ack":{"warn":"TX_POWER","value":20}})",
                                        R"({"other":1,"txpk_ack":{"error":"NONE","extra":[1,2]}})", " {} \n"}) {
        const auto r = parse_tx_ack(bytes_of(text));
        INFO(text);
        REQUIRE(r.ok());
        CHECK(*r == TxAckStatus::ok);
    }
}

TEST_CASE("TX_ACK errors map onto TxAckStatus", "[unit][semtech]") {
    const std::vector<std::pair<std::string_view, TxAckStatus>> cases = {
        {"TOO_LATE", TxAckStatus::too_late},
        {"TOO_EARLY", TxAckStatus::too_early},
        {"COLLISION_PACKET", TxAckStatus::collision_packet},
        {"COLLISION_BEACON", TxAckStatus::collision_beacon},
        {"TX_FREQ", TxAckStatus::tx_freq},
        {"TX_POWER", TxAckStatus::tx_power},
        {"GPS_UNLOCKED", TxAckStatus::gps_unlocked},
        {"SOMETHING_NEW", TxAckStatus::internal_error},
        {"", TxAckStatus::internal_error},
        {"too_late", TxAckStatus::internal_error},
    };
    for (const auto& [error, status] : cases) {
        const std::string text = R"({"txpk_ack":{"error":")" + std::string(error) + R"("}})";
        const auto r = parse_tx_ack(bytes_of(text));
        INFO(text);
        REQUIRE(r.ok());
        CHECK(*r == status);
    }
}

TEST_CASE("TX_ACK with broken JSON is refused", "[unit][semtech]") {
    for (const std::string_view text : {"{", "[]", "null", "x", R"({"txpk_ack":{"error":"NONE"})",
                                        R"({"txpk_ack":{"error":"NONE"}} x)", R"({"txpk_ack":{"error":NONE}})"}) {
        const auto r = parse_tx_ack(bytes_of(text));
        INFO(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error() == PacketError::invalid_json);
    }
    for (const std::string_view text : {R"({"txpk_ack":"TOO_LATE"})", R"({"txpk_ack":{"error":5}})",
                                        R"({"txpk_ack":{"error":null}})", R"({"txpk_ack":[]})"}) {
        const auto r = parse_tx_ack(bytes_of(text));
        INFO(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error() == PacketError::wrong_json_type);
    }
}

TEST_CASE("TxAckStatus names are ChirpStack's, and NONE is OK", "[unit][semtech]") {
    using schwebe::common::tx_ack_status_from_string;
    const std::vector<std::pair<TxAckStatus, std::string_view>> names = {
        {TxAckStatus::ignored, "IGNORED"},
        {TxAckStatus::ok, "OK"},
        {TxAckStatus::too_late, "TOO_LATE"},
        {TxAckStatus::too_early, "TOO_EARLY"},
        {TxAckStatus::collision_packet, "COLLISION_PACKET"},
        {TxAckStatus::collision_beacon, "COLLISION_BEACON"},
        {TxAckStatus::tx_freq, "TX_FREQ"},
        {TxAckStatus::tx_power, "TX_POWER"},
        {TxAckStatus::gps_unlocked, "GPS_UNLOCKED"},
        {TxAckStatus::queue_full, "QUEUE_FULL"},
        {TxAckStatus::internal_error, "INTERNAL_ERROR"},
        {TxAckStatus::duty_cycle_overflow, "DUTY_CYCLE_OVERFLOW"},
    };
    for (const auto& [status, name] : names) {
        CHECK(to_string(status) == name);
        CHECK(tx_ack_status_from_string(name) == std::optional<TxAckStatus>{status});
    }
    CHECK(tx_ack_status_from_string("NONE") == std::optional<TxAckStatus>{TxAckStatus::ok});
    CHECK_FALSE(tx_ack_status_from_string("ok").has_value());
    CHECK_FALSE(tx_ack_status_from_string("").has_value());
}

// ---- PULL_RESP (§4) ----

namespace {

DownlinkItem rx1_item() {
    DownlinkItem item;
    item.phy_payload = hex("60040302012000000100a1b2c3d4");
    item.frequency_hz = 868'100'000;
    item.power_dbm = 14;
    item.modulation = LoraModulation{9, 125'000, "4/5"};
    item.polarization_inversion = true;
    item.timing = TimingDelay{std::chrono::seconds{1}};
    item.context_tmst = 3'512'348'611U;
    item.rf_chain = 0;
    return item;
}

// The header bytes, and the txpk object parsed by nlohmann (a second, independent JSON reader).
json txpk_of(const Bytes& d, Token token, std::uint8_t version = 2) {
    REQUIRE(d.size() > 4U);
    CHECK(d[0] == version);
    CHECK(d[1] == token[0]);
    CHECK(d[2] == token[1]);
    CHECK(d[3] == 0x03);
    const json root = json::parse(d.begin() + 4, d.end());
    REQUIRE(root.is_object());
    CHECK(root.size() == 1U);
    REQUIRE(root.contains("txpk"));
    return root["txpk"];
}

}  // namespace

TEST_CASE("PULL_RESP for a class A RX1 downlink", "[unit][semtech]") {
    const Token token{0x5a, 0xa5};
    const json txpk = txpk_of(make_pull_resp(2, token, rx1_item()), token);
    CHECK(txpk["tmst"] == 3'513'348'611U);
    CHECK_FALSE(txpk.contains("imme"));
    CHECK_FALSE(txpk.contains("tmms"));
    CHECK(std::llround(txpk["freq"].get<double>() * 1e6) == 868'100'000);
    CHECK(txpk["rfch"] == 0);
    CHECK(txpk["powe"] == 14);
    CHECK(txpk["modu"] == "LORA");
    CHECK(txpk["datr"] == "SF9BW125");
    CHECK(txpk["codr"] == "4/5");
    CHECK(txpk["ipol"] == true);
    CHECK(txpk["size"] == 14);
    CHECK(txpk["data"] == "YAQDAgEgAAABAKGyw9Q=");
    CHECK_FALSE(txpk.contains("fdev"));
}

TEST_CASE("PULL_RESP tmst wraps modulo 2^32", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.context_tmst = 4'294'967'000U;
    item.timing = TimingDelay{std::chrono::seconds{1}};
    // 4294967000 + 1000000 − 2^32 = 999704
    CHECK(txpk_of(make_pull_resp(2, {0, 0}, item), {0, 0})["tmst"] == 999'704U);
    item.timing = TimingDelay{std::chrono::seconds{6}};  // join accept RX2
    item.context_tmst = 4'294'967'295U;
    CHECK(txpk_of(make_pull_resp(2, {0, 0}, item), {0, 0})["tmst"] == 5'999'999U);
}

TEST_CASE("PULL_RESP for RX2 at 869.525 MHz: the gateway reads back 869525000 Hz", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.frequency_hz = 869'525'000;
    item.modulation = LoraModulation{12, 125'000, "4/5"};
    item.timing = TimingDelay{std::chrono::seconds{2}};
    item.power_dbm = 27;
    item.rf_chain = 1;
    const Bytes d = make_pull_resp(2, {1, 2}, item);
    const json txpk = txpk_of(d, {1, 2});
    const double mhz = txpk["freq"].get<double>();
    CHECK(std::llround(mhz * 1e6) == 869'525'000);
    // lora_pkt_fwd truncates: (uint32_t)(1.0e6 * freq).
    CHECK(static_cast<std::uint32_t>(1.0e6 * mhz) == 869'525'000U);
    CHECK(std::string(d.begin(), d.end()).find(R"("freq":869.525000)") != std::string::npos);
    CHECK(txpk["datr"] == "SF12BW125");
    CHECK(txpk["tmst"] == 3'514'348'611U);
    CHECK(txpk["powe"] == 27);
    CHECK(txpk["rfch"] == 1);
}

TEST_CASE("PULL_RESP timing: immediately (class C) and GPS time (class B)", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.timing = TimingImmediately{};
    json txpk = txpk_of(make_pull_resp(2, {9, 9}, item), {9, 9});
    CHECK(txpk["imme"] == true);
    CHECK_FALSE(txpk.contains("tmst"));
    CHECK_FALSE(txpk.contains("tmms"));

    item.timing = TimingGpsEpoch{std::chrono::milliseconds{1'300'000'000'123LL}};
    txpk = txpk_of(make_pull_resp(2, {9, 9}, item), {9, 9});
    CHECK(txpk["tmms"] == 1'300'000'000'123LL);
    CHECK_FALSE(txpk.contains("tmst"));
    CHECK_FALSE(txpk.contains("imme"));
}

TEST_CASE("PULL_RESP for FSK: bit rate as a number, fdev instead of codr", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.frequency_hz = 868'800'000;
    item.modulation = FskModulation{50'000, 25'000};
    const json txpk = txpk_of(make_pull_resp(2, {0, 1}, item), {0, 1});
    CHECK(txpk["modu"] == "FSK");
    CHECK(txpk["datr"] == 50'000);
    CHECK(txpk["fdev"] == 25'000);
    CHECK_FALSE(txpk.contains("codr"));
    CHECK(std::llround(txpk["freq"].get<double>() * 1e6) == 868'800'000);
}

TEST_CASE("PULL_RESP: ipol false, protocol version 1, empty and large payloads", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.polarization_inversion = false;
    item.phy_payload.clear();
    json txpk = txpk_of(make_pull_resp(1, {0, 0}, item), {0, 0}, 1);
    CHECK(txpk["ipol"] == false);
    CHECK(txpk["size"] == 0);
    CHECK(txpk["data"] == "");

    item.phy_payload.assign(255, 0xff);
    txpk = txpk_of(make_pull_resp(2, {0, 0}, item), {0, 0});
    CHECK(txpk["size"] == 255);
    CHECK(schwebe::common::base64_decode(txpk["data"].get<std::string>()) == std::optional<Bytes>{Bytes(255, 0xff)});
}

TEST_CASE("PULL_RESP escapes a code rate that needs it", "[unit][semtech]") {
    DownlinkItem item = rx1_item();
    item.modulation = LoraModulation{7, 500'000, "4/5\"\\\n"};
    const json txpk = txpk_of(make_pull_resp(2, {0, 0}, item), {0, 0});
    CHECK(txpk["codr"] == "4/5\"\\\n");
    CHECK(txpk["datr"] == "SF7BW500");
}
