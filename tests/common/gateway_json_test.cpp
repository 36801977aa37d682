// ChirpStack Gateway Bridge JSON: the reference's own examples (shared/reference/chirpstack-mqtt.md) parse to the
// values they state, every message survives a round trip, and refused JSON names the field at fault.

#include "common/gateway_json.hpp"

#include <functional>
#include <string>

#include "test_support.hpp"

using namespace schwebe::common;
using namespace std::chrono_literals;
using schwebe::test::hex;

namespace {

constexpr const char* reference_gateway = "0016c001f153a14c";

Eui64 gateway(const char* id = reference_gateway) {
    const auto g = Eui64::from_hex(id);
    REQUIRE(g.has_value());
    return *g;
}

SystemTime utc(std::chrono::year_month_day day, std::chrono::nanoseconds time_of_day) {
    return SystemTime{
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::sys_days{day}.time_since_epoch() + time_of_day)};
}

/// The error of a refused parse; fails the test when the parse succeeded.
template <class T>
std::string error_of(const JsonResult<T>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error();
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

UplinkFrame full_uplink() {
    UplinkFrame f;
    f.phy_payload = hex("40aabbccdd800100016e2a5c1ef00ea1");
    f.tx_info.frequency_hz = 868'100'000;
    f.tx_info.modulation = LoraModulation{12, 125'000, "4/6"};
    f.rx_info.gateway_id = gateway("aa555a0000000101");
    f.rx_info.uplink_id = 4'000'000'001;
    f.rx_info.received_at = utc(2024y / 3 / 1, 12h + 5min + 7s + 123456789ns);
    f.rx_info.time = utc(2024y / 3 / 1, 12h + 5min + 7s + 120ms);
    f.rx_info.gps_time_ms = 1'393'333'525'120;
    f.rx_info.tmst = 0xfffffff0;
    f.rx_info.rssi = -119;
    f.rx_info.snr = -17.25;
    f.rx_info.channel = 7;
    f.rx_info.rf_chain = 1;
    f.rx_info.antenna = 2;
    f.rx_info.location = Location{51.2562, 7.1508, 142.5};
    f.rx_info.crc_status = CrcStatus::bad;
    return f;
}

DownlinkFrame reference_downlink() {
    // The reference's downlink command: RX1 as written, and "the RX2 item: 869525000 Hz, SF12, delay 2s".
    DownlinkFrame f;
    f.downlink_id = 894104280;
    f.gateway_id = gateway();
    DownlinkItem rx1;
    rx1.phy_payload = hex("80a6fe6a018005000138873a7304");
    rx1.frequency_hz = 867'300'000;
    rx1.power_dbm = 14;
    rx1.modulation = LoraModulation{7, 125'000, "4/5"};
    rx1.polarization_inversion = true;
    rx1.timing = TimingDelay{1s};
    rx1.context_tmst = 0xc70c7419;  // "xwx0GQ=="
    DownlinkItem rx2 = rx1;
    rx2.frequency_hz = 869'525'000;
    rx2.modulation = LoraModulation{12, 125'000, "4/5"};
    rx2.timing = TimingDelay{2s};
    f.items = {rx1, rx2};
    return f;
}

}  // namespace

TEST_CASE("the reference uplink event parses to the values it states", "[unit][gateway_json]") {
    const std::string json = R"({"phyPayload":"gKb+agGABQABOIc6cwQ=",
 "txInfo":{"frequency":867300000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}},
 "rxInfo":{"gatewayId":"0016c001f153a14c","uplinkId":7895,"time":"2022-08-03T14:37:43.383634108Z",
   "rssi":-52,"snr":13.75,"context":"xwx0GQ=="}})";
    const auto r = parse_uplink_frame(json);
    REQUIRE(r.ok());
    const UplinkFrame& f = *r;
    CHECK(f.phy_payload == hex("80a6fe6a018005000138873a7304"));
    CHECK(f.tx_info.frequency_hz == 867'300'000);
    CHECK(f.tx_info.modulation == Modulation{LoraModulation{7, 125'000, "4/5"}});
    CHECK(f.rx_info.gateway_id == gateway());
    CHECK(f.rx_info.uplink_id == 7895);
    CHECK(f.rx_info.time == utc(2022y / 8 / 3, 14h + 37min + 43s + 383634108ns));
    CHECK(f.rx_info.rssi == -52);
    CHECK(f.rx_info.snr == 13.75);
    // "context carries the gateway's concentrator timestamp": xwx0GQ== is c7 0c 74 19, big endian.
    CHECK(f.rx_info.tmst == 0xc70c7419);
    // Fields the example leaves out take their protobuf defaults.
    CHECK(f.rx_info.channel == 0);
    CHECK(f.rx_info.rf_chain == 0);
    CHECK(f.rx_info.antenna == 0);
    CHECK(f.rx_info.crc_status == CrcStatus::none);  // CRCStatus 0 is NO_CRC
    CHECK_FALSE(f.rx_info.location.has_value());
    CHECK_FALSE(f.rx_info.gps_time_ms.has_value());
    CHECK(f.rx_info.received_at == SystemTime{});  // no nsTime: the network server stamps it
}

TEST_CASE("the rxInfo and txInfo of the reference application event parse too", "[unit][gateway_json]") {
    const auto rx = rx_info_from_json(Json::parse(
        R"({"gatewayId":"0016c001f153a14c","uplinkId":4217106255,"nsTime":"2022-07-18T09:34:15.6Z",
            "rssi":-36,"snr":10.5,"channel":1,"location":{},"context":"E3OWOQ==","crcStatus":"CRC_OK"})"));
    REQUIRE(rx.ok());
    CHECK(rx->gateway_id == gateway());
    CHECK(rx->uplink_id == 4'217'106'255U);
    CHECK(rx->received_at == utc(2022y / 7 / 18, 9h + 34min + 15s + 600ms));
    CHECK(rx->rssi == -36);
    CHECK(rx->snr == 10.5);
    CHECK(rx->channel == 1);
    CHECK_FALSE(rx->location.has_value());  // "location":{} is ChirpStack's "unknown"
    CHECK(rx->tmst == 0x13739639);          // E3OWOQ== is 13 73 96 39
    CHECK(rx->crc_status == CrcStatus::ok);

    const auto tx = tx_info_from_json(Json::parse(R"({"frequency":867100000,
        "modulation":{"lora":{"bandwidth":125000,"spreadingFactor":11,"codeRate":"CR_4_5"}}})"));
    REQUIRE(tx.ok());
    CHECK(tx->frequency_hz == 867'100'000);
    CHECK(tx->modulation == Modulation{LoraModulation{11, 125'000, "4/5"}});
}

TEST_CASE("the reference downlink command parses to RX1 and RX2 items", "[unit][gateway_json]") {
    const std::string json = R"({"downlinkId":894104280,"gatewayId":"0016c001f153a14c","items":[
 {"phyPayload":"gKb+agGABQABOIc6cwQ=","txInfo":{"frequency":867300000,"power":14,
   "modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5","polarizationInversion":true}},
   "timing":{"delay":{"delay":"1s"}},"context":"xwx0GQ=="}},
 {"phyPayload":"gKb+agGABQABOIc6cwQ=","txInfo":{"frequency":869525000,"power":14,
   "modulation":{"lora":{"bandwidth":125000,"spreadingFactor":12,"codeRate":"CR_4_5","polarizationInversion":true}},
   "timing":{"delay":{"delay":"2s"}},"context":"xwx0GQ=="}}]})";
    const auto r = parse_downlink_frame(json);
    REQUIRE(r.ok());
    CHECK(*r == reference_downlink());
    REQUIRE(r->items.size() == 2);
    CHECK(std::get<TimingDelay>(r->items[0].timing).delay == 1'000'000us);
    CHECK(std::get<TimingDelay>(r->items[1].timing).delay == 2'000'000us);
}

TEST_CASE("the reference ack event and every status name parse", "[unit][gateway_json]") {
    const auto r = parse_downlink_tx_ack(
        R"({"gatewayId":"0016c001f153a14c","downlinkId":894104280,"items":[{"status":"OK"},{"status":"IGNORED"}]})");
    REQUIRE(r.ok());
    CHECK(r->gateway_id == gateway());
    CHECK(r->downlink_id == 894104280);
    CHECK(r->items == std::vector<TxAckStatus>{TxAckStatus::ok, TxAckStatus::ignored});

    // The statuses the reference lists, in its order, which is TxAckStatus's.
    const std::vector<std::pair<std::string, TxAckStatus>> names{
        {"IGNORED", TxAckStatus::ignored},
        {"OK", TxAckStatus::ok},
        {"TOO_LATE", TxAckStatus::too_late},
        {"TOO_EARLY", TxAckStatus::too_early},
        {"COLLISION_PACKET", TxAckStatus::collision_packet},
        {"COLLISION_BEACON", TxAckStatus::collision_beacon},
        {"TX_FREQ", TxAckStatus::tx_freq},
        {"TX_POWER", TxAckStatus::tx_power},
        {"GPS_UNLOCKED", TxAckStatus::gps_unlocked},
        {"QUEUE_FULL", TxAckStatus::queue_full},
        {"INTERNAL_ERROR", TxAckStatus::internal_error},
        {"DUTY_CYCLE_OVERFLOW", TxAckStatus::duty_cycle_overflow},
    };
    for (const auto& [name, status] : names) {
        INFO(name);
        const auto one =
            parse_downlink_tx_ack(R"({"gatewayId":"0016c001f153a14c","items":[{"status":")" + name + R"("}]})");
        REQUIRE(one.ok());
        CHECK(one->items == std::vector<TxAckStatus>{status});
        const DownlinkTxAck ack{gateway(), 1, {status}};
        CHECK(Json::parse(to_gateway_json(ack))["items"][0]["status"] == name);
    }
}

TEST_CASE("the reference connection state parses both ways", "[unit][gateway_json]") {
    const auto online = parse_gateway_conn_state(R"({"gatewayId":"0016c001f153a14c","state":"ONLINE"})");
    REQUIRE(online.ok());
    CHECK(*online == GatewayConnState{gateway(), true});
    const auto offline = parse_gateway_conn_state(R"({"gatewayId":"0016c001f153a14c","state":"OFFLINE"})");
    REQUIRE(offline.ok());
    CHECK(*offline == GatewayConnState{gateway(), false});
    CHECK(Json::parse(to_gateway_json(GatewayConnState{gateway(), true})) ==
          Json::parse(R"({"gatewayId":"0016c001f153a14c","state":"ONLINE"})"));
    CHECK(Json::parse(to_gateway_json(GatewayConnState{gateway(), false})) ==
          Json::parse(R"({"gatewayId":"0016c001f153a14c","state":"OFFLINE"})"));
}

TEST_CASE("uplinks are written with gw.proto's names and forms", "[unit][gateway_json]") {
    UplinkFrame f;
    f.phy_payload = hex("80a6fe6a018005000138873a7304");
    f.tx_info = TxInfo{867'300'000, LoraModulation{7, 125'000, "4/5"}};
    f.rx_info.gateway_id = gateway();
    f.rx_info.uplink_id = 7895;
    f.rx_info.tmst = 0xc70c7419;
    f.rx_info.rssi = -52;
    f.rx_info.snr = 13.75;
    f.rx_info.time = utc(2022y / 8 / 3, 14h + 37min + 43s + 383634108ns);
    f.rx_info.gps_time_ms = 1'234'567;
    f.rx_info.crc_status = CrcStatus::ok;
    const Json j = Json::parse(to_gateway_json(f));
    CHECK(j["phyPayload"] == "gKb+agGABQABOIc6cwQ=");
    CHECK(j["txInfo"] == Json::parse(R"({"frequency":867300000,
        "modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}})"));
    const Json& rx = j["rxInfo"];
    CHECK(rx["gatewayId"] == "0016c001f153a14c");
    CHECK(rx["uplinkId"] == 7895);
    CHECK(rx["time"] == "2022-08-03T14:37:43.383634108Z");
    CHECK(rx["timeSinceGpsEpoch"] == "1234.567s");
    CHECK(rx["rssi"] == -52);
    CHECK(rx["snr"] == 13.75);
    CHECK(rx["context"] == "xwx0GQ==");
    CHECK(rx["crcStatus"] == "CRC_OK");
    CHECK(rx["board"] == 0);
    CHECK(rx["nsTime"] == "1970-01-01T00:00:00Z");
    CHECK_FALSE(rx.contains("location"));
}

TEST_CASE("downlink timing is written as protobuf Durations", "[unit][gateway_json]") {
    DownlinkFrame f = reference_downlink();
    f.items.resize(1);
    const auto timing_of = [&](Timing t) {
        f.items[0].timing = t;
        return Json::parse(to_gateway_json(f))["items"][0]["txInfo"]["timing"];
    };
    CHECK(timing_of(TimingDelay{1s}) == Json::parse(R"({"delay":{"delay":"1s"}})"));
    CHECK(timing_of(TimingDelay{1'000'500us}) == Json::parse(R"({"delay":{"delay":"1.000500s"}})"));
    CHECK(timing_of(TimingDelay{5'250ms}) == Json::parse(R"({"delay":{"delay":"5.250s"}})"));
    CHECK(timing_of(TimingImmediately{}) == Json::parse(R"({"immediately":{}})"));
    CHECK(timing_of(TimingGpsEpoch{1'234'567ms}) == Json::parse(R"({"gpsEpoch":{"timeSinceGpsEpoch":"1234.567s"}})"));

    const Json tx = Json::parse(to_gateway_json(reference_downlink()))["items"][0]["txInfo"];
    CHECK(tx["context"] == "xwx0GQ==");
    CHECK(tx["board"] == 0);
    CHECK(tx["antenna"] == 0);
    CHECK(tx["power"] == 14);
    CHECK(tx["modulation"]["lora"]["polarizationInversion"] == true);
}

TEST_CASE("every gateway message round-trips exactly", "[unit][gateway_json]") {
    SECTION("uplink, every field set") {
        const UplinkFrame f = full_uplink();
        const auto back = parse_uplink_frame(to_gateway_json(f));
        REQUIRE(back.ok());
        CHECK(*back == f);
    }
    SECTION("uplink, optional fields absent, FSK") {
        UplinkFrame f;
        f.phy_payload = hex("00");
        f.tx_info = TxInfo{868'800'000, FskModulation{50'000, 25'000}};
        f.rx_info.gateway_id = gateway();
        f.rx_info.received_at = utc(2030y / 12 / 31, 23h + 59min + 59s + 999999999ns);
        f.rx_info.crc_status = CrcStatus::none;
        const auto back = parse_uplink_frame(to_gateway_json(f));
        REQUIRE(back.ok());
        CHECK(*back == f);
    }
    SECTION("uplink, every code rate") {
        for (const char* cr :
             {"4/5", "4/6", "4/7", "4/8", "OFF", "3/8", "2/6", "1/4", "1/6", "5/6", "4/5LI", "4/6LI", "4/8LI"}) {
            INFO(cr);
            UplinkFrame f = full_uplink();
            f.tx_info.modulation = LoraModulation{9, 250'000, cr};
            const auto back = parse_uplink_frame(to_gateway_json(f));
            REQUIRE(back.ok());
            CHECK(*back == f);
        }
    }
    SECTION("gateway stats") {
        GatewayStats s;
        s.gateway_id = gateway("aa555a0000000101");
        s.received_at = utc(2024y / 3 / 1, 12h + 30s + 1us);
        s.time = utc(2024y / 3 / 1, 12h + 29s);
        s.location = Location{51.2562, 7.1508, 142.5};
        s.rx_received = 100;
        s.rx_ok = 90;
        s.rx_forwarded = 85;
        s.ack_ratio = 66.7;
        s.tx_received = 4;
        s.tx_emitted = 3;
        const auto back = parse_gateway_stats(to_gateway_json(s));
        REQUIRE(back.ok());
        CHECK(*back == s);
        const Json j = Json::parse(to_gateway_json(s));
        CHECK(j["metadata"]["ackr"] == "66.7");
        CHECK(j["rxPacketsReceived"] == 100);
        CHECK(j["rxPacketsReceivedOk"] == 90);
        CHECK(j["txPacketsReceived"] == 4);
        CHECK(j["txPacketsEmitted"] == 3);

        GatewayStats bare;
        bare.gateway_id = gateway();
        const auto bare_back = parse_gateway_stats(to_gateway_json(bare));
        REQUIRE(bare_back.ok());
        CHECK(*bare_back == bare);
    }
    SECTION("downlink frame, each timing and modulation") {
        DownlinkFrame f = reference_downlink();
        DownlinkItem immediate = f.items[0];
        immediate.timing = TimingImmediately{};
        immediate.power_dbm = -3;
        immediate.polarization_inversion = false;
        DownlinkItem gps = f.items[1];
        gps.timing = TimingGpsEpoch{1'393'333'525'120ms};
        DownlinkItem fsk = f.items[0];
        fsk.modulation = FskModulation{50'000, 25'000};
        fsk.polarization_inversion = false;  // FSK has none; false is what reads back
        fsk.timing = TimingDelay{1'000'500us};
        f.items.insert(f.items.end(), {immediate, gps, fsk});
        const auto back = parse_downlink_frame(to_gateway_json(f));
        REQUIRE(back.ok());
        CHECK(*back == f);
    }
    SECTION("tx ack") {
        const DownlinkTxAck ack{gateway(), 4'294'967'295U, {TxAckStatus::too_late, TxAckStatus::ok}};
        const auto back = parse_downlink_tx_ack(to_gateway_json(ack));
        REQUIRE(back.ok());
        CHECK(*back == ack);
        const DownlinkTxAck empty{gateway(), 0, {}};
        const auto empty_back = parse_downlink_tx_ack(to_gateway_json(empty));
        REQUIRE(empty_back.ok());
        CHECK(*empty_back == empty);
    }
    SECTION("connection state") {
        for (const bool online : {true, false}) {
            const GatewayConnState s{gateway("0102030405060708"), online};
            const auto back = parse_gateway_conn_state(to_gateway_json(s));
            REQUIRE(back.ok());
            CHECK(*back == s);
        }
    }
}

TEST_CASE("gateway JSON is read leniently where protobuf is", "[unit][gateway_json]") {
    // Unknown fields are ignored, null stands for absent, upper-case ids are accepted, gwTime is the later name
    // of time, and ChirpStack v3's codeRateLegacy is understood.
    const auto r = parse_uplink_frame(R"({"phyPayload":"AA==","unknown":{"x":1},
        "txInfo":{"frequency":868100000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,
                  "codeRateLegacy":"4/5"}}},
        "rxInfo":{"gatewayId":"0016C001F153A14C","snr":null,"gwTime":"2022-08-03T16:37:43+02:00",
                  "context":"AAAAAQ==","metadata":{"k":"v"}}})");
    REQUIRE(r.ok());
    CHECK(r->rx_info.gateway_id == gateway());
    CHECK_FALSE(r->rx_info.snr.has_value());
    CHECK(r->rx_info.time == utc(2022y / 8 / 3, 14h + 37min + 43s));
    CHECK(r->rx_info.tmst == 1);
    CHECK(std::get<LoraModulation>(r->tx_info.modulation).code_rate == "4/5");
}

TEST_CASE("refused gateway JSON names the field at fault", "[unit][gateway_json]") {
    const std::string good_rx = R"("rxInfo":{"gatewayId":"0016c001f153a14c","context":"xwx0GQ=="})";
    const std::string good_tx =
        R"("txInfo":{"frequency":867300000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7}}})";
    const auto uplink_error = [&](const std::string& json) { return error_of(parse_uplink_frame(json)); };

    SECTION("not JSON, or not an object") {
        CHECK(starts_with(uplink_error(""), "message: invalid JSON"));
        CHECK(starts_with(uplink_error(R"({"phyPayload":)"), "message: invalid JSON"));
        CHECK(starts_with(uplink_error("[1,2]"), "message: expected an object"));
        CHECK(starts_with(error_of(parse_downlink_frame("\xff\xfe")), "message: invalid JSON"));
    }
    SECTION("missing fields") {
        CHECK(uplink_error("{" + good_tx + "," + good_rx + "}") == "phyPayload: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_rx + "}") == "txInfo: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_tx + "}") == "rxInfo: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_tx + R"(,"rxInfo":{"context":"xwx0GQ=="}})") ==
              "rxInfo.gatewayId: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_tx + R"(,"rxInfo":{"gatewayId":"0016c001f153a14c"}})") ==
              "rxInfo.context: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"modulation":{}},)" + good_rx + "}") ==
              "txInfo.frequency: missing");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"frequency":1,"modulation":{}},)" + good_rx + "}") ==
              "txInfo.modulation: expected one of lora, fsk");
        CHECK(error_of(parse_gateway_stats("{}")) == "gatewayId: missing");
        CHECK(error_of(parse_gateway_conn_state(R"({"state":"ONLINE"})")) == "gatewayId: missing");
        CHECK(error_of(parse_downlink_tx_ack(R"({"downlinkId":1})")) == "gatewayId: missing");
        CHECK(error_of(parse_downlink_frame(R"({"gatewayId":"0016c001f153a14c"})")) ==
              "items: expected at least one item");
    }
    SECTION("wrong types and values") {
        const auto rx_with = [&](const std::string& field) {
            return uplink_error(R"({"phyPayload":"AA==",)" + good_tx +
                                R"(,"rxInfo":{"gatewayId":"0016c001f153a14c","context":"xwx0GQ==",)" + field + "}}");
        };
        CHECK(rx_with(R"("rssi":"-52")") == "rxInfo.rssi: expected an integer");
        CHECK(rx_with(R"("rssi":-3000000000)") == "rxInfo.rssi: out of range");
        CHECK(rx_with(R"("uplinkId":-1)") == "rxInfo.uplinkId: out of range");
        CHECK(rx_with(R"("uplinkId":4294967296)") == "rxInfo.uplinkId: out of range");
        CHECK(rx_with(R"("channel":1.5)") == "rxInfo.channel: expected an unsigned integer");
        CHECK(rx_with(R"("snr":"high")") == "rxInfo.snr: expected a number");
        CHECK(rx_with(R"("time":"2022-13-01T00:00:00Z")") == "rxInfo.time: expected an RFC 3339 time");
        CHECK(rx_with(R"("time":"2022-08-03 14:37:43")") == "rxInfo.time: expected an RFC 3339 time");
        CHECK(rx_with(R"("timeSinceGpsEpoch":"12")") ==
              R"(rxInfo.timeSinceGpsEpoch: expected a duration such as "1.5s")");
        CHECK(rx_with(R"("crcStatus":"CRC_FINE")") == "rxInfo.crcStatus: expected CRC_OK, BAD_CRC or NO_CRC");
        CHECK(rx_with(R"("location":[])") == "rxInfo.location: expected an object");
        CHECK(rx_with(R"("location":{"latitude":"north"})") == "rxInfo.location.latitude: expected a number");

        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_tx +
                           R"(,"rxInfo":{"gatewayId":"0016c001f153a14","context":"xwx0GQ=="}})") ==
              "rxInfo.gatewayId: expected 16 hex digits");
        CHECK(uplink_error(R"({"phyPayload":"AA==",)" + good_tx +
                           R"(,"rxInfo":{"gatewayId":"0016c001f153a14c","context":"xwx0"}})") ==
              "rxInfo.context: expected at least 4 bytes (the concentrator timestamp)");
        CHECK(uplink_error(R"({"phyPayload":"not base64!",)" + good_tx + "," + good_rx + "}") ==
              "phyPayload: expected base64");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"frequency":-1,"modulation":{}},)" + good_rx + "}") ==
              "txInfo.frequency: out of range");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"frequency":1,"modulation":{"lora":{"bandwidth":125000,
              "spreadingFactor":7,"codeRate":"CR_9_9"}}},)" +
                           good_rx + "}") == "txInfo.modulation.lora.codeRate: unknown code rate");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"frequency":1,"modulation":{"lora":{"bandwidth":125000,
              "spreadingFactor":13}}},)" +
                           good_rx + "}") == "txInfo.modulation.lora.spreadingFactor: out of range");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":{"frequency":1,"modulation":{"lrFhss":{}}},)" + good_rx +
                           "}") == "txInfo.modulation.lrFhss: LR-FHSS is not supported");
        CHECK(uplink_error(R"({"phyPayload":"AA==","txInfo":[],)" + good_rx + "}") == "txInfo: expected an object");

        CHECK(error_of(parse_gateway_conn_state(R"({"gatewayId":"0016c001f153a14c","state":"MAYBE"})")) ==
              "state: expected ONLINE or OFFLINE");
        CHECK(error_of(parse_downlink_tx_ack(R"({"gatewayId":"0016c001f153a14c","items":[{"status":"FINE"}]})")) ==
              "items[0].status: unknown status");
        CHECK(error_of(parse_downlink_tx_ack(R"({"gatewayId":"0016c001f153a14c","items":{}})")) ==
              "items: expected an array");
        CHECK(error_of(parse_gateway_stats(R"({"gatewayId":"0016c001f153a14c","metadata":{"ackr":"most"}})")) ==
              "metadata.ackr: expected a number");
        CHECK(error_of(parse_gateway_stats(R"({"gatewayId":"0016c001f153a14c","metadata":{"rxfw":7}})")) ==
              "metadata.rxfw: expected a string");
    }
    SECTION("downlink items") {
        Json j = Json::parse(to_gateway_json(reference_downlink()));
        const auto error_with = [&](const std::function<void(Json&)>& edit) {
            Json copy = j;
            edit(copy);
            return error_of(parse_downlink_frame(copy.dump()));
        };
        CHECK(error_with([](Json& d) { d["items"][1]["txInfo"].erase("timing"); }) ==
              "items[1].txInfo.timing: missing");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"]["timing"] = Json::object(); }) ==
              "items[0].txInfo.timing: expected exactly one of immediately, delay, gpsEpoch");
        CHECK(error_with([](Json& d) {
                  d["items"][0]["txInfo"]["timing"] = Json::parse(R"({"immediately":{},"delay":{"delay":"1s"}})");
              }) == "items[0].txInfo.timing: expected exactly one of immediately, delay, gpsEpoch");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"]["timing"]["delay"]["delay"] = "-1s"; }) ==
              "items[0].txInfo.timing.delay.delay: must not be negative");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"]["timing"]["delay"].erase("delay"); }) ==
              "items[0].txInfo.timing.delay.delay: missing");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"].erase("context"); }) ==
              "items[0].txInfo.context: missing (a delay counts from the uplink's timestamp)");
        CHECK(error_with([](Json& d) { d["items"][1].erase("phyPayload"); }) == "items[1].phyPayload: missing");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"]["power"] = "high"; }) ==
              "items[0].txInfo.power: expected an integer");
        CHECK(error_with([](Json& d) { d["items"][0]["txInfo"]["modulation"]["lora"]["polarizationInversion"] = 1; }) ==
              "items[0].txInfo.modulation.lora.polarizationInversion: expected true or false");
        CHECK(error_with([](Json& d) { d["items"][0] = 5; }) == "items[0]: expected an object");
        CHECK(error_with([](Json& d) { d["gatewayId"] = 12; }) == "gatewayId: expected a string");

        // An immediate downlink needs no context.
        Json immediate = j;
        immediate["items"][0]["txInfo"]["timing"] = Json::parse(R"({"immediately":{}})");
        immediate["items"][0]["txInfo"].erase("context");
        CHECK(parse_downlink_frame(immediate.dump()).ok());
    }
}

TEST_CASE("protobuf Timestamps and Durations", "[unit][gateway_json]") {
    CHECK(format_rfc3339(utc(2022y / 8 / 3, 14h + 37min + 43s + 383634108ns)) == "2022-08-03T14:37:43.383634108Z");
    CHECK(format_rfc3339(utc(2022y / 7 / 18, 9h + 34min + 15s + 600ms)) == "2022-07-18T09:34:15.600Z");
    CHECK(format_rfc3339(utc(2022y / 7 / 18, 9h + 34min + 15s + 600us)) == "2022-07-18T09:34:15.000600Z");
    CHECK(format_rfc3339(utc(1969y / 12 / 31, 23h + 59min + 59s + 500ms)) == "1969-12-31T23:59:59.500Z");
    CHECK(parse_rfc3339("2022-07-18T09:34:15.6Z") == utc(2022y / 7 / 18, 9h + 34min + 15s + 600ms));
    CHECK(parse_rfc3339("2022-07-18T09:34:15.775023242+00:00") == utc(2022y / 7 / 18, 9h + 34min + 15s + 775023242ns));
    CHECK(parse_rfc3339("2022-07-18T11:34:15+02:00") == parse_rfc3339("2022-07-18T09:34:15Z"));
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2022-07-18T24:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2022-07-18T09:34:15.1234567891Z").has_value());
    CHECK_FALSE(parse_rfc3339("2022-07-18T09:34:15.Z").has_value());
    CHECK_FALSE(parse_rfc3339("2022-07-18T09:34:15").has_value());
    CHECK_FALSE(parse_rfc3339("2022-07-18T09:34:15Zjunk").has_value());
    CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59Z").has_value());  // beyond a nanosecond clock

    CHECK(format_duration(1s) == "1s");
    CHECK(format_duration(1'000'500us) == "1.000500s");
    CHECK(format_duration(-1500ms) == "-1.500s");
    CHECK(format_duration(1ns) == "0.000000001s");
    CHECK(parse_duration("1.5s") == std::chrono::nanoseconds{1'500'000'000});
    CHECK(parse_duration("-0.5s") == std::chrono::nanoseconds{-500'000'000});
    CHECK(parse_duration("0s") == std::chrono::nanoseconds{0});
    CHECK_FALSE(parse_duration("1").has_value());
    CHECK_FALSE(parse_duration("s").has_value());
    CHECK_FALSE(parse_duration("1.s").has_value());
    CHECK_FALSE(parse_duration("1.0000000001s").has_value());
    CHECK_FALSE(parse_duration("1ss").has_value());
    CHECK_FALSE(parse_duration("99999999999999s").has_value());
}
