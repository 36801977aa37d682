// ChirpStack v4 application JSON: the reference's `up` example (shared/reference/chirpstack-mqtt.md) comes out of
// the same event field by field, every event carries integration.proto's fields with their JSON types, defaults are
// written, and `down` commands are read or refused with the field at fault, never with a throw.

#include "integrations/mqtt/event_json.hpp"

#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "common/base64.hpp"
#include "common/gateway_json.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using schwebe::common::SystemTime;
using schwebe::lorawan::DevAddr;
using schwebe::lorawan::Eui64;
namespace common = schwebe::common;
namespace mqtt = schwebe::mqtt;
namespace ns = schwebe::ns;

namespace {

SystemTime utc(std::chrono::year_month_day day, std::chrono::nanoseconds time_of_day) {
    return SystemTime{
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::sys_days{day}.time_since_epoch() + time_of_day)};
}

Eui64 eui(const char* hex) {
    const auto e = Eui64::from_hex(hex);
    REQUIRE(e.has_value());
    return *e;
}

json parsed(const ns::Event& event, const json* object = nullptr) {
    const std::string text = mqtt::event_json(event, object);
    INFO(text);
    const json j = json::parse(text, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

std::vector<std::string> keys_of(const json& j) {
    std::vector<std::string> keys;
    for (const auto& item : j.items()) keys.push_back(item.key());
    std::sort(keys.begin(), keys.end());
    return keys;
}

bool is_time_key(const std::string& key) {
    return key == "time" || key == "nsTime" || key == "gwTime";
}

/// Event times: RFC 3339 UTC with nanoseconds, as ChirpStack prints them.
bool is_event_time(const std::string& s) {
    static const std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00)");
    return std::regex_match(s, shape);
}

/// Every field of `expected` is in `actual` with the same JSON type and value (fields beyond are allowed). Times are
/// compared as instants, since "…15.6Z" and "…15.600000000+00:00" are one time in two spellings.
void check_fields(const json& expected, const json& actual, const std::string& path) {
    INFO("field " << path);
    if (expected.is_object()) {
        REQUIRE(actual.is_object());
        for (const auto& item : expected.items()) {
            const std::string child = path.empty() ? item.key() : path + "." + item.key();
            INFO("field " << child);
            REQUIRE(actual.contains(item.key()));
            if (is_time_key(item.key())) {
                REQUIRE(actual[item.key()].is_string());
                const auto want = common::parse_rfc3339(item.value().get<std::string>());
                const auto got = common::parse_rfc3339(actual[item.key()].get<std::string>());
                REQUIRE(want.has_value());
                CHECK(got == want);
                CHECK(is_event_time(actual[item.key()].get<std::string>()));
            } else {
                check_fields(item.value(), actual[item.key()], child);
            }
        }
    } else if (expected.is_array()) {
        REQUIRE(actual.is_array());
        REQUIRE(actual.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            check_fields(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
        }
    } else {
        CHECK(actual.type_name() == std::string(expected.type_name()));
        CHECK(actual.is_number_float() == expected.is_number_float());
        CHECK(actual == expected);
    }
}

ns::DeviceInfo parking_sensor() {
    ns::DeviceInfo d;
    d.application_id = "17c82e96-be03-4f38-aef3-f83d48582d97";
    d.application_name = "Parking";
    d.device_profile_id = "14855bf7-d10d-4aee-b618-ebfcb64dc7ad";
    d.device_profile_name = "Parking sensor";
    d.device_name = "P-Neumarkt-017";
    d.dev_eui = eui("0101010101010101");
    d.codec = "parking";
    d.tags = {{"zone", "neumarkt"}};
    return d;
}

/// The reference's `up` example as an event.
ns::UplinkEvent reference_uplink() {
    ns::UplinkEvent e;
    e.deduplication_id = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d";
    e.time = utc(2022y / 7 / 18, 9h + 34min + 15s + 775023242ns);
    e.device_info = parking_sensor();
    e.dev_addr = DevAddr{0x00189440};
    e.adr = true;
    e.dr = 1;
    e.f_cnt = 10;
    e.f_port = 1;
    e.confirmed = false;
    e.data = {0xaa};
    common::RxInfo rx;
    rx.gateway_id = eui("0016c001f153a14c");
    rx.uplink_id = 4217106255;
    rx.received_at = utc(2022y / 7 / 18, 9h + 34min + 15s + 600ms);
    rx.tmst = 0x13739639;
    rx.rssi = -36;
    rx.snr = 10.5;
    rx.channel = 1;
    rx.crc_status = common::CrcStatus::ok;
    e.rx_info = {rx};
    e.tx_info.frequency_hz = 867'100'000;
    e.tx_info.modulation = common::LoraModulation{11, 125'000, "4/5"};
    return e;
}

/// The reference's example, typed from shared/reference/chirpstack-mqtt.md. Its tenant is ChirpStack's default
/// tenant id; the name is Schwebe's choice (mqtt::tenant_name), so it is checked on its own.
constexpr const char* reference_up_json = R"({"deduplicationId":"3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
 "time":"2022-07-18T09:34:15.775023242+00:00",
 "deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
   "applicationId":"17c82e96-be03-4f38-aef3-f83d48582d97","applicationName":"Parking",
   "deviceProfileId":"14855bf7-d10d-4aee-b618-ebfcb64dc7ad","deviceProfileName":"Parking sensor",
   "deviceName":"P-Neumarkt-017","devEui":"0101010101010101","deviceClassEnabled":"CLASS_A",
   "tags":{"zone":"neumarkt"}},
 "devAddr":"00189440","adr":true,"dr":1,"fCnt":10,"fPort":1,"confirmed":false,
 "data":"qg==","object":{"occupied":true},
 "rxInfo":[{"gatewayId":"0016c001f153a14c","uplinkId":4217106255,"nsTime":"2022-07-18T09:34:15.6Z",
   "rssi":-36,"snr":10.5,"channel":1,"location":{},"context":"E3OWOQ==","crcStatus":"CRC_OK"}],
 "txInfo":{"frequency":867100000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":11,"codeRate":"CR_4_5"}}},
 "regionConfigId":"eu868"})";

void check_device_info(const json& j, const ns::DeviceInfo& d) {
    REQUIRE(j.contains("deviceInfo"));
    const json& info = j["deviceInfo"];
    CHECK(info["tenantId"] == "52f14cd4-c6f1-4fbd-8f87-4025e1d49242");
    CHECK(info["tenantName"] == "ChirpStack");
    CHECK(info["applicationId"] == d.application_id);
    CHECK(info["applicationName"] == d.application_name);
    CHECK(info["deviceProfileId"] == d.device_profile_id);
    CHECK(info["deviceProfileName"] == d.device_profile_name);
    CHECK(info["deviceName"] == d.device_name);
    CHECK(info["devEui"] == d.dev_eui.to_string());
    CHECK(info["deviceClassEnabled"] == "CLASS_A");
    REQUIRE(info["tags"].is_object());
    CHECK(info["tags"].size() == d.tags.size());
    CHECK(keys_of(info) == std::vector<std::string>{"applicationId", "applicationName", "devEui", "deviceClassEnabled",
                                                    "deviceName", "deviceProfileId", "deviceProfileName", "tags",
                                                    "tenantId", "tenantName"});
}

// -------------------------------------------------------------------------------------------------------------------
// Down commands

constexpr const char* reference_topic =
    "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0102030405060708/command/down";

std::string error_of(const schwebe::lorawan::Result<mqtt::DownCommand, std::string>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error();
}

std::string refusal(std::string_view payload, std::string_view topic = reference_topic) {
    return error_of(mqtt::parse_down_command(topic, payload));
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

/// The reference's command with `change` applied to it.
std::string command_with(const std::function<void(json&)>& change) {
    json j = json::parse(R"({"devEui":"0102030405060708","confirmed":true,"fPort":10,"data":"AQID"})");
    change(j);
    return j.dump();
}

}  // namespace

TEST_CASE("up event: the reference example, field by field", "[unit]") {
    const json object{{"occupied", true}};
    const json actual = parsed(reference_uplink(), &object);
    const json expected = json::parse(reference_up_json);
    check_fields(expected, actual, "");
    // The top-level time is spelt exactly as the reference (and ChirpStack) spells it.
    CHECK(actual["time"] == "2022-07-18T09:34:15.775023242+00:00");
    CHECK(actual["rxInfo"][0]["nsTime"] == "2022-07-18T09:34:15.600000000+00:00");
    check_device_info(actual, reference_uplink().device_info);
}

TEST_CASE("up event: the fields and nothing unexpected at the top level", "[unit]") {
    const json object{{"occupied", true}};
    CHECK(keys_of(parsed(reference_uplink(), &object)) ==
          std::vector<std::string>{"adr", "confirmed", "data", "deduplicationId", "devAddr", "deviceInfo", "dr", "fCnt",
                                   "fPort", "object", "regionConfigId", "rxInfo", "time", "txInfo"});
    CHECK(mqtt::event_topic(reference_uplink().device_info, ns::event_type(ns::Event{reference_uplink()})) ==
          "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up");
}

TEST_CASE("up event: object only when given, as it was given", "[unit]") {
    CHECK_FALSE(parsed(reference_uplink()).contains("object"));

    const json nested{{"spots", json::array({json{{"id", 17}, {"occupied", false}}})}, {"battery", 3.61}};
    const json j = parsed(reference_uplink(), &nested);
    CHECK(j["object"] == nested);

    const json empty = json::object();
    CHECK(parsed(reference_uplink(), &empty)["object"] == json::object());
}

TEST_CASE("up event: scalar fields present at their default values", "[unit]") {
    ns::UplinkEvent e;  // every field at its default; no FPort (MAC commands only)
    e.device_info.dev_eui = eui("a840415711866a85");
    const json j = parsed(e);
    CHECK(j["deduplicationId"] == "");
    CHECK(j["devAddr"] == "00000000");
    CHECK(j["adr"] == false);
    CHECK(j["dr"] == 0);
    CHECK(j["fCnt"] == 0);
    CHECK(j["fPort"] == 0);
    CHECK(j["confirmed"] == false);
    CHECK(j["data"] == "");
    CHECK(j["rxInfo"] == json::array());
    CHECK(j["txInfo"]["frequency"] == 0);
    CHECK(j["regionConfigId"] == "eu868");
    CHECK(j["time"] == "1970-01-01T00:00:00.000000000+00:00");
    CHECK(j["deviceInfo"]["tags"] == json::object());
    CHECK(j["deviceInfo"]["deviceName"] == "");
    check_device_info(j, e.device_info);

    e.f_port = 0;  // FPort 0: MAC commands in FRMPayload, no application data
    CHECK(parsed(e)["fPort"] == 0);
    CHECK(parsed(e)["data"] == "");
}

TEST_CASE("up event: DevAddr, DevEUI and data in their ChirpStack spelling", "[unit]") {
    ns::UplinkEvent e = reference_uplink();
    e.dev_addr = DevAddr{0xFE00AB12};
    e.device_info.dev_eui = eui("A840415711866A85");
    e.f_port = 223;
    e.f_cnt = 0xffffffff;
    e.dr = 5;
    e.confirmed = true;
    e.data = schwebe::test::hex("0001fffe");
    const json j = parsed(e);
    CHECK(j["devAddr"] == "fe00ab12");
    CHECK(j["deviceInfo"]["devEui"] == "a840415711866a85");
    CHECK(j["fPort"] == 223);
    CHECK(j["fCnt"] == 4294967295U);
    CHECK(j["dr"] == 5);
    CHECK(j["confirmed"] == true);
    CHECK(j["data"] == "AAH//g==");
}

TEST_CASE("up event: times with nanoseconds in UTC", "[unit]") {
    ns::UplinkEvent e = reference_uplink();
    e.time = utc(2024y / 2 / 29, 23h + 59min + 59s);
    CHECK(parsed(e)["time"] == "2024-02-29T23:59:59.000000000+00:00");
    e.time = utc(2030y / 12 / 31, 1ns);
    CHECK(parsed(e)["time"] == "2030-12-31T00:00:00.000000001+00:00");
    e.time = utc(1969y / 12 / 31, 23h + 59min + 59s + 999999999ns);  // before the epoch: floor, not truncation
    CHECK(parsed(e)["time"] == "1969-12-31T23:59:59.999999999+00:00");
}

TEST_CASE("up event: rxInfo of every gateway, with what each gateway knows", "[unit]") {
    ns::UplinkEvent e = reference_uplink();
    common::RxInfo gps = e.rx_info.front();
    gps.gateway_id = eui("AA555A0000000101");
    gps.uplink_id = 7;
    gps.time = utc(2022y / 7 / 18, 9h + 34min + 15s + 512345678ns);
    gps.tmst = 0xfffffff0;
    gps.rssi = -119;
    gps.snr = -17.25;
    gps.channel = 7;
    gps.rf_chain = 1;
    gps.location = common::Location{51.2562, 7.1508, 142.5};
    e.rx_info.push_back(gps);
    common::RxInfo fsk = e.rx_info.front();
    fsk.snr.reset();
    e.rx_info.push_back(fsk);

    const json rx = parsed(e)["rxInfo"];
    REQUIRE(rx.size() == 3);

    const json& first = rx[0];
    CHECK_FALSE(first.contains("gwTime"));
    CHECK_FALSE(first.contains("time"));
    CHECK(first["location"] == json::object());
    CHECK(first["rfChain"] == 0);
    CHECK(first["metadata"]["region_config_id"] == "eu868");
    CHECK(first["metadata"]["region_common_name"] == "EU868");

    const json& second = rx[1];
    CHECK(second["gatewayId"] == "aa555a0000000101");
    CHECK(second["uplinkId"] == 7);
    CHECK(second["gwTime"] == "2022-07-18T09:34:15.512345678+00:00");
    CHECK_FALSE(second.contains("time"));  // gw.proto's name is gwTime now; ChirpStack 4.0's `time` is not repeated
    CHECK(second["nsTime"] == "2022-07-18T09:34:15.600000000+00:00");
    CHECK(second["rssi"] == -119);
    CHECK(second["rssi"].is_number_integer());
    CHECK(second["snr"] == -17.25);
    CHECK(second["channel"] == 7);
    CHECK(second["rfChain"] == 1);
    CHECK(second["context"] == "////8A==");  // tmst 0xfffffff0, 4 bytes big endian
    CHECK(second["crcStatus"] == "CRC_OK");
    CHECK(second["location"]["latitude"] == 51.2562);
    CHECK(second["location"]["longitude"] == 7.1508);
    CHECK(second["location"]["altitude"] == 142.5);

    CHECK_FALSE(rx[2].contains("snr"));  // LoRa only
}

TEST_CASE("join event", "[unit]") {
    ns::JoinEvent e;
    e.deduplication_id = "0bf37eb1-2d13-4cbb-b0a0-65ec82e75ea0";
    e.time = utc(2024y / 1 / 21, 23h + 9min + 18s + 655164839ns);
    e.device_info = parking_sensor();
    e.dev_addr = DevAddr{0x01ffe479};
    e.rx_info = reference_uplink().rx_info;
    const json j = parsed(e);
    CHECK(keys_of(j) == std::vector<std::string>{"deduplicationId", "devAddr", "deviceInfo", "time"});
    CHECK(j["deduplicationId"] == "0bf37eb1-2d13-4cbb-b0a0-65ec82e75ea0");
    CHECK(j["time"] == "2024-01-21T23:09:18.655164839+00:00");
    CHECK(j["devAddr"] == "01ffe479");
    check_device_info(j, e.device_info);
    CHECK(mqtt::event_topic(e.device_info, ns::event_type(ns::Event{e})) ==
          "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/join");
}

TEST_CASE("ack event", "[unit]") {
    ns::AckEvent e;
    e.deduplication_id = "d078d70c-411a-475d-adca-c8436a0cfad9";
    e.time = utc(2023y / 7 / 28, 4h + 10min + 22s);
    e.device_info = parking_sensor();
    e.queue_item_id = "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c11";
    e.acknowledged = true;
    e.f_cnt_down = 42;
    json j = parsed(e);
    CHECK(keys_of(j) ==
          std::vector<std::string>{"acknowledged", "deduplicationId", "deviceInfo", "fCntDown", "queueItemId", "time"});
    CHECK(j["deduplicationId"] == "d078d70c-411a-475d-adca-c8436a0cfad9");
    CHECK(j["time"] == "2023-07-28T04:10:22.000000000+00:00");
    CHECK(j["queueItemId"] == "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c11");
    CHECK(j["acknowledged"] == true);
    CHECK(j["fCntDown"] == 42);
    check_device_info(j, e.device_info);

    e.acknowledged = false;  // the retries ran out
    e.f_cnt_down = 0;
    j = parsed(e);
    CHECK(j["acknowledged"] == false);
    CHECK(j["fCntDown"] == 0);
    CHECK(mqtt::event_topic(e.device_info, ns::event_type(ns::Event{e})).ends_with("/event/ack"));
}

TEST_CASE("txack event: the item the gateway accepted", "[unit]") {
    ns::TxAckEvent e;
    e.downlink_id = 894104280;
    e.time = utc(2022y / 8 / 3, 14h + 37min + 44s + 383634108ns);
    e.device_info = parking_sensor();
    e.queue_item_id = "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c11";
    e.f_cnt_down = 7;
    e.gateway_id = eui("0016c001f153a14c");
    e.status = common::TxAckStatus::ok;
    common::DownlinkItem item;
    item.frequency_hz = 867'300'000;
    item.power_dbm = 14;
    item.modulation = common::LoraModulation{7, 125'000, "4/5"};
    item.polarization_inversion = true;
    item.timing = common::TimingDelay{1s};
    item.context_tmst = 0xc70c7419;  // "xwx0GQ==", the reference's context
    e.item = item;

    const json j = parsed(e);
    CHECK(keys_of(j) == std::vector<std::string>{"deviceInfo", "downlinkId", "fCntDown", "gatewayId", "queueItemId",
                                                 "time", "txInfo"});
    CHECK(j["downlinkId"] == 894104280);
    CHECK(j["time"] == "2022-08-03T14:37:44.383634108+00:00");
    CHECK(j["queueItemId"] == "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c11");
    CHECK(j["fCntDown"] == 7);
    CHECK(j["gatewayId"] == "0016c001f153a14c");
    check_device_info(j, e.device_info);
    const json& tx = j["txInfo"];
    CHECK(tx["frequency"] == 867300000);
    CHECK(tx["power"] == 14);
    CHECK(tx["modulation"] == json::parse(R"({"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5",
                                                       "polarizationInversion":true}})"));
    CHECK(tx["timing"] == json::parse(R"({"delay":{"delay":"1s"}})"));
    CHECK(tx["context"] == "xwx0GQ==");
    CHECK_FALSE(tx.contains("phyPayload"));

    e.item->timing = common::TimingDelay{2s};  // RX2
    CHECK(parsed(e)["txInfo"]["timing"]["delay"]["delay"] == "2s");
    CHECK(mqtt::event_topic(e.device_info, ns::event_type(ns::Event{e})).ends_with("/event/txack"));
}

TEST_CASE("txack event: a downlink without application payload, and one no gateway took", "[unit]") {
    ns::TxAckEvent e;
    e.device_info = parking_sensor();
    e.status = common::TxAckStatus::too_late;
    const json j = parsed(e);
    CHECK(j["downlinkId"] == 0);
    CHECK(j["queueItemId"] == "");
    CHECK(j["fCntDown"] == 0);
    CHECK(j["gatewayId"] == "0000000000000000");
    CHECK_FALSE(j.contains("txInfo"));
}

TEST_CASE("status event", "[unit]") {
    ns::StatusEvent e;
    e.deduplication_id = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d";
    e.time = utc(2022y / 7 / 18, 9h + 34min + 15s + 775023242ns);
    e.device_info = parking_sensor();
    e.margin = -3;
    e.external_power_source = false;
    e.battery_level_unavailable = false;
    e.battery_level = 75.5;
    json j = parsed(e);
    CHECK(keys_of(j) == std::vector<std::string>{"batteryLevel", "batteryLevelUnavailable", "deduplicationId",
                                                 "deviceInfo", "externalPowerSource", "margin", "time"});
    CHECK(j["margin"] == -3);
    CHECK(j["margin"].is_number_integer());
    CHECK(j["externalPowerSource"] == false);
    CHECK(j["batteryLevelUnavailable"] == false);
    CHECK(j["batteryLevel"] == 75.5);
    CHECK(j["batteryLevel"].is_number());
    check_device_info(j, e.device_info);

    e.margin = 20;
    e.external_power_source = true;
    e.battery_level = 0;
    j = parsed(e);
    CHECK(j["margin"] == 20);
    CHECK(j["externalPowerSource"] == true);
    CHECK(j["batteryLevel"] == 0);
    CHECK(mqtt::event_topic(e.device_info, ns::event_type(ns::Event{e})).ends_with("/event/status"));
}

TEST_CASE("log event: level, code, description, context", "[unit]") {
    ns::LogEvent e;
    e.time = utc(2022y / 7 / 18, 9h + 34min + 15s);
    e.device_info = parking_sensor();
    e.level = ns::LogLevel::warning;
    e.code = "UPLINK_F_CNT_RESET";
    e.description = "frame counter reset";
    e.context = {{"deduplication_id", "3ac7e3c4-4401-4b8d-9386-a5c902f9202d"}, {"f_cnt", "0"}};
    json j = parsed(e);
    CHECK(keys_of(j) == std::vector<std::string>{"code", "context", "description", "deviceInfo", "level", "time"});
    CHECK(j["level"] == "WARNING");
    CHECK(j["code"] == "UPLINK_F_CNT_RESET");
    CHECK(j["description"] == "frame counter reset");
    CHECK(j["context"] == json{{"deduplication_id", "3ac7e3c4-4401-4b8d-9386-a5c902f9202d"}, {"f_cnt", "0"}});
    check_device_info(j, e.device_info);

    e.level = ns::LogLevel::info;
    e.context.clear();
    j = parsed(e);
    CHECK(j["level"] == "INFO");
    CHECK(j["context"] == json::object());
    e.level = ns::LogLevel::error;
    CHECK(parsed(e)["level"] == "ERROR");
    CHECK(mqtt::event_topic(e.device_info, ns::event_type(ns::Event{e})).ends_with("/event/log"));
}

TEST_CASE("down command: the reference example", "[unit]") {
    const auto r = mqtt::parse_down_command(
        reference_topic, R"({"devEui":"0102030405060708","confirmed":true,"fPort":10,"data":"AQID"})");
    REQUIRE(r.ok());
    CHECK(r->application_id == "17c82e96-be03-4f38-aef3-f83d48582d97");
    CHECK(r->dev_eui == eui("0102030405060708"));
    CHECK(r->confirmed);
    CHECK(r->f_port == 10);
    CHECK(r->data == std::vector<std::uint8_t>{1, 2, 3});
    CHECK_FALSE(r->object.has_value());
    CHECK(r->id.empty());
    CHECK_FALSE(r->expires_at.has_value());
    STATIC_REQUIRE(noexcept(mqtt::parse_down_command("", "")));
}

TEST_CASE("down command: object instead of data, id and expiresAt", "[unit]") {
    const auto r = mqtt::parse_down_command(reference_topic,
                                            R"({"devEui":"0102030405060708","fPort":2,"object":{"led":"on","level":3},
            "id":"8E3A1C44-6A0B-4C38-9D2A-4B7A6F0F2C11","expiresAt":"2022-07-18T10:00:00Z","unknown":1})");
    REQUIRE(r.ok());
    CHECK_FALSE(r->confirmed);
    CHECK(r->f_port == 2);
    CHECK(r->data.empty());
    REQUIRE(r->object.has_value());
    CHECK(*r->object == json{{"led", "on"}, {"level", 3}});
    CHECK(r->id == "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c11");
    REQUIRE(r->expires_at.has_value());
    CHECK(*r->expires_at == utc(2022y / 7 / 18, 10h));

    // A serializer that writes every default sends "data":"" beside the object.
    const auto both = mqtt::parse_down_command(reference_topic, command_with([](json& j) {
                                                   j["data"] = "";
                                                   j["object"] = json{{"led", "off"}};
                                               }));
    REQUIRE(both.ok());
    CHECK(both->object.has_value());
    CHECK(both->data.empty());
}

TEST_CASE("down command: optional fields and limits that are accepted", "[unit]") {
    SECTION("no data: an empty FRMPayload on the port") {
        const auto r = mqtt::parse_down_command(reference_topic, R"({"devEui":"0102030405060708","fPort":1})");
        REQUIRE(r.ok());
        CHECK(r->data.empty());
        CHECK_FALSE(r->confirmed);
        CHECK(r->f_port == 1);
    }
    SECTION("null stands for absent") {
        const auto r = mqtt::parse_down_command(
            reference_topic,
            R"({"devEui":"0102030405060708","fPort":223,"confirmed":null,"data":null,"object":null,"id":null})");
        REQUIRE(r.ok());
        CHECK(r->f_port == 223);
        CHECK_FALSE(r->confirmed);
    }
    SECTION("protobuf JSON numbers: a string or an integral float") {
        auto r = mqtt::parse_down_command(reference_topic, command_with([](json& j) { j["fPort"] = "10"; }));
        REQUIRE(r.ok());
        CHECK(r->f_port == 10);
        r = mqtt::parse_down_command(reference_topic, command_with([](json& j) { j["fPort"] = 10.0; }));
        REQUIRE(r.ok());
        CHECK(r->f_port == 10);
    }
    SECTION("the DevEUI in either case, in topic and message") {
        const auto r = mqtt::parse_down_command("application/app-1/device/A840415711866A85/command/down",
                                                R"({"devEui":"a840415711866a85","fPort":5,"data":"AQID"})");
        REQUIRE(r.ok());
        CHECK(r->dev_eui == eui("a840415711866a85"));
        CHECK(r->application_id == "app-1");
    }
    SECTION("an empty id: the queue assigns one") {
        const auto r = mqtt::parse_down_command(reference_topic, command_with([](json& j) { j["id"] = ""; }));
        REQUIRE(r.ok());
        CHECK(r->id.empty());
    }
    SECTION("242 bytes of data") {
        const std::vector<std::uint8_t> bytes(242, 0x5a);
        const auto r = mqtt::parse_down_command(
            reference_topic, command_with([&](json& j) { j["data"] = common::base64_encode(bytes); }));
        REQUIRE(r.ok());
        CHECK(r->data == bytes);
    }
    SECTION("an object nested a few levels") {
        const auto r = mqtt::parse_down_command(reference_topic, command_with([](json& j) {
                                                    j.erase("data");
                                                    j["object"] = json::parse(R"({"a":{"b":[[{"c":"]]]]"}]]}})");
                                                }));
        REQUIRE(r.ok());
        CHECK(r->object->at("a").at("b")[0][0]["c"] == "]]]]");
    }
}

TEST_CASE("down command: each refused field is named", "[unit]") {
    const auto refused = [](const std::function<void(json&)>& change) { return refusal(command_with(change)); };

    CHECK(refused([](json& j) { j.erase("devEui"); }) == "devEui: missing");
    CHECK(refused([](json& j) { j["devEui"] = "01020304050607"; }) == "devEui: expected 16 hex digits");
    CHECK(refused([](json& j) { j["devEui"] = "01020304050607zz"; }) == "devEui: expected 16 hex digits");
    CHECK(refused([](json& j) { j["devEui"] = 72623859790382856; }) == "devEui: expected 16 hex digits");
    CHECK(refused([](json& j) { j["devEui"] = "0102030405060709"; }) == "devEui: does not match the topic");

    CHECK(refused([](json& j) { j["confirmed"] = "yes"; }) == "confirmed: expected true or false");
    CHECK(refused([](json& j) { j["confirmed"] = 1; }) == "confirmed: expected true or false");

    CHECK(refused([](json& j) { j.erase("fPort"); }) == "fPort: missing (expected 1..223)");
    CHECK(refused([](json& j) { j["fPort"] = 0; }) == "fPort: expected 1..223");
    CHECK(refused([](json& j) { j["fPort"] = 224; }) == "fPort: expected 1..223");
    CHECK(refused([](json& j) { j["fPort"] = -1; }) == "fPort: expected 1..223");
    CHECK(refused([](json& j) { j["fPort"] = 4294967306ULL; }) == "fPort: expected 1..223");  // 2^32 + 10
    CHECK(refused([](json& j) { j["fPort"] = 18446744073709551615ULL; }) == "fPort: expected 1..223");
    CHECK(refused([](json& j) { j["fPort"] = 1.5; }) == "fPort: expected an integer 1..223");
    CHECK(refused([](json& j) { j["fPort"] = 1e300; }) == "fPort: expected an integer 1..223");
    CHECK(refused([](json& j) { j["fPort"] = "ten"; }) == "fPort: expected an integer 1..223");
    CHECK(refused([](json& j) { j["fPort"] = "10 "; }) == "fPort: expected an integer 1..223");
    CHECK(refused([](json& j) { j["fPort"] = true; }) == "fPort: expected an integer 1..223");
    CHECK(refused([](json& j) { j["fPort"] = json::array({10}); }) == "fPort: expected an integer 1..223");

    CHECK(refused([](json& j) { j["data"] = "AQI*"; }) == "data: not base64");
    CHECK(refused([](json& j) { j["data"] = "A"; }) == "data: not base64");
    CHECK(refused([](json& j) { j["data"] = 123; }) == "data: expected a base64 string");
    CHECK(refused([](json& j) { j["data"] = common::base64_encode(std::vector<std::uint8_t>(243, 1)); }) ==
          "data: longer than 242 bytes");

    CHECK(refused([](json& j) { j["object"] = json::array({1, 2}); }) == "object: expected a JSON object");
    CHECK(refused([](json& j) { j["object"] = "{\"led\":1}"; }) == "object: expected a JSON object");
    CHECK(refused([](json& j) { j["object"] = json{{"led", 1}}; }) == "data: not allowed together with object");

    CHECK(refused([](json& j) { j["id"] = "not-a-uuid"; }) == "id: expected a UUID");
    CHECK(refused([](json& j) { j["id"] = "8e3a1c44x6a0b-4c38-9d2a-4b7a6f0f2c11"; }) == "id: expected a UUID");
    CHECK(refused([](json& j) { j["id"] = "8e3a1c44-6a0b-4c38-9d2a-4b7a6f0f2c1g"; }) == "id: expected a UUID");
    CHECK(refused([](json& j) { j["id"] = 5; }) == "id: expected a UUID");

    CHECK(refused([](json& j) { j["expiresAt"] = "tomorrow"; }) == "expiresAt: expected an RFC 3339 time");
    CHECK(refused([](json& j) { j["expiresAt"] = 1658138400; }) == "expiresAt: expected an RFC 3339 time");
}

TEST_CASE("down command: documents that are not a command", "[unit]") {
    CHECK(refusal("") == "message: not JSON");
    CHECK(refusal("{\"devEui\":") == "message: not JSON");
    CHECK(refusal("{\"devEui\":\"0102030405060708\",\"fPort\":10,}") == "message: not JSON");
    CHECK(refusal("\x01\x02\xff") == "message: not JSON");
    CHECK(refusal("{\"devEui\":\"0102030405060708\",\"fPort\":10,\"data\":\"\xc3\x28\"}") == "message: not JSON");
    CHECK(refusal("{\"a\":1} {\"b\":2}") == "message: not JSON");
    CHECK(refusal("[]") == "message: expected a JSON object");
    CHECK(refusal("[{\"devEui\":\"0102030405060708\",\"fPort\":10}]") == "message: expected a JSON object");
    CHECK(refusal("42") == "message: expected a JSON object");
    CHECK(refusal("\"AQID\"") == "message: expected a JSON object");
    CHECK(refusal("null") == "message: expected a JSON object");
    CHECK(refusal("{}") == "devEui: missing");

    // Larger than the cap, even though it is well formed.
    const std::string padding(mqtt::max_down_command_size, 'x');
    CHECK(refusal(R"({"devEui":"0102030405060708","fPort":10,"pad":")" + padding + "\"}") ==
          "message: larger than 65536 bytes");
    // Deep nesting within the size cap: refused before the recursive JSON library sees it.
    const std::string deep = "{\"devEui\":\"0102030405060708\",\"fPort\":10,\"object\":" + std::string(20'000, '[') +
                             std::string(20'000, ']') + "}";
    CHECK(starts_with(refusal(deep), "message: nested deeper than"));
    const std::string unbalanced(mqtt::max_down_command_size, '{');
    CHECK(starts_with(refusal(unbalanced), "message: nested deeper than"));
    // Brackets inside strings are text, not nesting.
    const auto quoted = mqtt::parse_down_command(
        reference_topic, command_with([](json& j) { j["note"] = std::string(1000, '[') + "\\\"{"; }));
    CHECK(quoted.ok());
}

TEST_CASE("down command: topics that are not a command topic", "[unit]") {
    const std::string payload = R"({"devEui":"0102030405060708","fPort":10,"data":"AQID"})";
    const std::string shape = "topic: expected application/{application_id}/device/{dev_eui}/command/down";
    for (const char* topic : {
             "",
             "application",
             "application/app/device/0102030405060708/command",
             "application/app/device/0102030405060708/command/down/extra",
             "application/app/device/0102030405060708/command/up",
             "application/app/device/0102030405060708/event/down",
             "application/app/devices/0102030405060708/command/down",
             "applications/app/device/0102030405060708/command/down",
             "application//device/0102030405060708/command/down",
             "application/+/device/0102030405060708/command/down",
             "application/#/device/0102030405060708/command/down",
             "/application/app/device/0102030405060708/command/down",
             "application/app/device/0102030405060708/command/down/",
             "eu868/gateway/0102030405060708/command/down",
         }) {
        INFO(topic);
        CHECK(refusal(payload, topic) == shape);
    }
    CHECK(refusal(payload, "application/app/device/01020304050607/command/down") ==
          "topic: {dev_eui}: expected 16 hex digits");
    CHECK(refusal(payload, "application/app/device/+/command/down") == "topic: {dev_eui}: expected 16 hex digits");
    CHECK(refusal(payload, "application/app/device/0102030405060709/command/down") ==
          "devEui: does not match the topic");
    CHECK(mqtt::parse_down_command("application/app/device/0102030405060708/command/down", payload).ok());
}

// ---- the `up` fast path ------------------------------------------------------------------------------------------

TEST_CASE("event json: the up event written directly equals the tree form, for every shape of rx info and text",
          "[unit][event_json]") {
    using schwebe::common::RxInfo;
    schwebe::ns::UplinkEvent up;
    up.deduplication_id = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d";
    up.time = std::chrono::sys_days{std::chrono::year{2022} / 7 / 18} + std::chrono::hours{9} +
              std::chrono::nanoseconds{2'055'775'023'242};
    up.device_info.application_id = "17c82e96-be03-4f38-aef3-f83d48582d97";
    up.device_info.application_name = "Parking \"Altstadt\"\\ \n\t\x01 Grüße";
    up.device_info.device_profile_name = "bad utf-8: \xff\xc3\x28 \xe0\x80\x80 \xed\xa0\x80 end";
    up.device_info.device_name = "P-Neumarkt-017";
    up.device_info.dev_eui = *schwebe::lorawan::Eui64::from_hex("0101010101010101");
    up.device_info.tags = {{"zone", "neumarkt"}, {"spot", "17"}, {"ü", "\"q\""}};
    up.dev_addr = *schwebe::lorawan::DevAddr::from_hex("00189440");
    up.adr = true;
    up.dr = 1;
    up.f_cnt = 4'294'967'295u;
    up.f_port = 1;
    up.data = {0xaa};
    RxInfo plain;
    plain.gateway_id = *schwebe::lorawan::Eui64::from_hex("0016c001f153a14c");
    plain.uplink_id = 4217106255u;
    plain.received_at = up.time;
    plain.rssi = -36;
    plain.snr = 10.5;
    plain.channel = 1;
    plain.tmst = 0x13739639;
    RxInfo rich = plain;
    rich.time = up.time - std::chrono::milliseconds{3};
    rich.gps_time_ms = 1'342'345'678'123ull;
    rich.location = schwebe::common::Location{51.2562, 7.1508, 160.0};
    rich.snr = -7.0;
    rich.crc_status = schwebe::common::CrcStatus::bad;
    rich.rf_chain = 1;
    rich.antenna = 2;
    RxInfo no_snr = plain;
    no_snr.snr.reset();
    no_snr.crc_status = schwebe::common::CrcStatus::none;
    up.rx_info = {plain, rich, no_snr};
    up.tx_info.frequency_hz = 867100000;

    const nlohmann::json object{{"occupied", true}, {"name", "x\xff"}, {"n", 1.25}};
    for (const nlohmann::json* obj : {static_cast<const nlohmann::json*>(nullptr), &object}) {
        for (const bool fsk : {false, true}) {
            if (fsk) up.tx_info.modulation = schwebe::common::FskModulation{};
            const auto fast = schwebe::mqtt::event_json(schwebe::ns::Event(up), obj);
            const auto tree = schwebe::mqtt::event_json_tree_dump(schwebe::ns::Event(up), obj);
            INFO(fast);
            CHECK(nlohmann::ordered_json::parse(fast) == nlohmann::ordered_json::parse(tree));
            CHECK(fast == tree);  // the same text, field order and number forms included
        }
    }
    up.f_port.reset();
    up.rx_info.clear();
    CHECK(schwebe::mqtt::event_json(schwebe::ns::Event(up)) ==
          schwebe::mqtt::event_json_tree_dump(schwebe::ns::Event(up)));
}
