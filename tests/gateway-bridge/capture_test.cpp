// Capture files (gateway-bridge/capture.hpp): the line of a record, reading it back, and each way a line can be
// malformed. Base64 literals come from Python's base64 module, times from Python's datetime.

#include <chrono>
#include <string>

#include "gateway-bridge/capture.hpp"
#include "test_support.hpp"

using namespace schwebe;
using bridge::CaptureRecord;

namespace {

// 2026-11-21T14:00:00.123456Z
const auto capture_time = std::chrono::system_clock::time_point{std::chrono::microseconds{1795269600123456LL}};
const auto gateway = *common::Eui64::from_hex("0016c001f153a14c");

}  // namespace

TEST_CASE("capture: a record's line has the time in microseconds, the gateway, the sender and the bytes",
          "[unit][capture]") {
    const CaptureRecord pull{.time = capture_time,
                             .gateway_id = gateway,
                             .from = "127.0.0.1:44534",
                             .data = test::hex("021234020016c001f153a14c")};
    CHECK(bridge::capture_line(pull) ==
          R"({"time":"2026-11-21T14:00:00.123456Z","gateway_id":"0016c001f153a14c","from":"127.0.0.1:44534",)"
          R"("data":"AhI0AgAWwAHxU6FM"})");
    const CaptureRecord runt{.time = capture_time - std::chrono::microseconds{123456},
                             .gateway_id = std::nullopt,
                             .from = "[::1]:1700",
                             .data = test::hex("0299")};
    CHECK(bridge::capture_line(runt) ==
          R"({"time":"2026-11-21T14:00:00.000000Z","gateway_id":null,"from":"[::1]:1700","data":"Apk="})");

    for (const auto& record : {pull, runt}) {
        const auto back = bridge::parse_capture_line(bridge::capture_line(record));
        REQUIRE(back.ok());
        REQUIRE(back->has_value());
        CHECK(**back == record);
    }
}

TEST_CASE("capture: the header line and blank lines are no records", "[unit][capture]") {
    for (const char* line : {R"({"schwebe_capture":1,"started":"2026-11-21T14:00:00.000000Z"})", "", "  \r"}) {
        const auto parsed = bridge::parse_capture_line(line);
        REQUIRE(parsed.ok());
        CHECK_FALSE(parsed->has_value());
    }
}

TEST_CASE("capture: a malformed line is refused with the field at fault", "[unit][capture]") {
    const auto reason = [](std::string_view line) {
        const auto parsed = bridge::parse_capture_line(line);
        REQUIRE_FALSE(parsed.ok());
        return parsed.error();
    };
    const std::string good_rest = R"("gateway_id":null,"from":"127.0.0.1:1","data":"Apk="})";
    CHECK(reason(R"({"time":"2026-11-21T14:00:00.000000Z","gateway_id":null,"from":"127.0.0.1:1","data":"Apk")") ==
          "not a JSON object");  // a line cut short by a crash
    CHECK(reason("[1,2]") == "not a JSON object");
    CHECK(reason(R"({"schwebe_capture":2})") == "schwebe_capture: this is format 1");
    CHECK(reason(R"({"time":"yesterday",)" + good_rest) == "time: expected RFC 3339");
    CHECK(reason(R"({"time":5,)" + good_rest) == "time: expected RFC 3339");
    CHECK(reason(R"({"gateway_id":null,"from":"127.0.0.1:1","data":"Apk="})") == "time: expected RFC 3339");
    CHECK(reason(R"({"time":"2026-11-21T14:00:00Z","gateway_id":"0016c0","from":"x:1","data":"Apk="})") ==
          "gateway_id: expected 16 hex digits or null");
    CHECK(reason(R"({"time":"2026-11-21T14:00:00Z","gateway_id":null,"data":"Apk="})") == "from: expected host:port");
    CHECK(reason(R"({"time":"2026-11-21T14:00:00Z","gateway_id":null,"from":"x:1","data":"not base64!"})") ==
          "data: expected base64");
    CHECK(reason(R"({"time":"2026-11-21T14:00:00Z","gateway_id":null,"from":"x:1"})") == "data: expected base64");
}

TEST_CASE("capture: the gateway EUI is read from the header of the types that carry one", "[unit][capture]") {
    // PUSH_DATA (0x00), PULL_DATA (0x02), TX_ACK (0x05) carry it in bytes 4..11 (PROTOCOL.TXT §3-§5).
    for (const char* type : {"00", "02", "05"}) {
        const auto id = bridge::datagram_gateway_id(test::hex(std::string("021234") + type + "0016c001f153a14c"));
        REQUIRE(id.has_value());
        CHECK(*id == gateway);
    }
    CHECK_FALSE(bridge::datagram_gateway_id(test::hex("0212340200")).has_value());  // too short
    // PULL_RESP (0x03) and the acknowledgements come from a server: their bytes 4.. are no EUI.
    CHECK_FALSE(bridge::datagram_gateway_id(test::hex("021234030016c001f153a14c")).has_value());
    CHECK_FALSE(bridge::datagram_gateway_id(test::hex("021234010016c001f153a14c")).has_value());
}
