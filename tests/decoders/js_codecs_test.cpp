// JavaScript codecs (decoders/js): the codec forms the worker runs (TS013, TTN v2, ChirpStack v3, ES2015+ syntax),
// how codec answers become decode and encode results, and the isolation of the pool: time limit, heap limit, output
// limit, crashes and a missing node, each failing only its own call, with the answers in the order of the calls.
// The codecs are the small files in tests/decoders/js/ (SCHWEBE_JS_CODECS_DIR); every expected value below is
// worked out from those files.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoders/decoder_test_support.hpp"
#include "decoders/js/js_codecs.hpp"

namespace {

using namespace std::chrono_literals;
using schwebe::decoders::DecodeResult;
using schwebe::decoders::EncodeResult;
using schwebe::decoders::Reading;
using schwebe::decoders::ScriptCodecs;
using schwebe::decoders::SystemTime;
using schwebe::decoders::js::JsCodecs;
using schwebe::decoders::js::PoolOptions;
using json = nlohmann::json;
using Catch::Matchers::Contains;
using Bytes = std::vector<std::uint8_t>;

std::string codec(std::string_view file) { return std::string(SCHWEBE_JS_CODECS_DIR) + "/" + std::string(file); }

/// The time limit is generous unless a test is about it: a busy machine must not make ordinary calls overrun it.
PoolOptions options(unsigned workers = 2, std::chrono::milliseconds timeout = 2000ms) {
    PoolOptions o;
    o.workers = workers;
    o.timeout = timeout;
    return o;
}

void load(JsCodecs& codecs, const std::string& path) {
    const auto failure = codecs.load_file(path);
    INFO(path << ": " << failure.value_or("loaded"));
    REQUIRE_FALSE(failure.has_value());
}

/// Uplinks for decode_uplinks, owning what their spans point into.
struct Batch {
    std::deque<std::string> codecs;
    std::deque<Bytes> payloads;
    std::vector<ScriptCodecs::Uplink> uplinks;

    Batch& add(const std::string& path, std::uint8_t f_port, Bytes bytes, SystemTime recv_time = {}) {
        codecs.push_back(path);
        payloads.push_back(std::move(bytes));
        uplinks.push_back(ScriptCodecs::Uplink{codecs.back(), {f_port, payloads.back(), recv_time}});
        return *this;
    }
    std::vector<DecodeResult> run(JsCodecs& js) const { return js.decode_uplinks(uplinks); }
};

DecodeResult decode_one(JsCodecs& js, const std::string& path, std::uint8_t f_port, Bytes bytes,
                        SystemTime recv_time = {}) {
    auto results = Batch{}.add(path, f_port, std::move(bytes), recv_time).run(js);
    REQUIRE(results.size() == 1);
    return std::move(results.front());
}

/// The reason of a failed result; a decoded one fails the test.
std::string reason_of(const DecodeResult& r) {
    INFO("decoded: " << (r.decoded ? r.decoded->object.dump() : "-"));
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error.has_value());
    return r.error->reason;
}

/// The object of a decoded result; a failed one fails the test with its reason.
const json& object_of(const DecodeResult& r) {
    INFO("reason: " << (r.error ? r.error->reason : "-"));
    REQUIRE(r.ok());
    return r.decoded->object;
}

std::string error_of(const EncodeResult& r) {
    INFO("bytes: " << r.bytes.size());
    REQUIRE(r.error.has_value());
    return *r.error;
}

Bytes bytes_of_hex(std::string_view hex) {
    REQUIRE(hex.size() % 2 == 0);
    Bytes out;
    for (std::size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

SystemTime utc(std::chrono::year_month_day day, std::chrono::milliseconds time_of_day) {
    return SystemTime{std::chrono::sys_days{day}} + time_of_day;
}

Reading reading(std::string quantity, double value, std::string unit, std::optional<SystemTime> time = std::nullopt) {
    Reading r;
    r.quantity = std::move(quantity);
    r.value = value;
    r.unit = std::move(unit);
    r.time = time;
    return r;
}

/// A fresh directory under the system's temporary directory, removed with everything in it at the end.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device random;
        path = std::filesystem::temp_directory_path() /
               ("schwebe-js-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string write(const std::string& name, const std::string& text) const {
        const auto file = path / name;
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        REQUIRE(out.good());
        return file.string();
    }
};

}  // namespace

TEST_CASE("an ES2015+ codec: classes and arrow functions and spread and destructuring and a top-level const", "[js]") {
    JsCodecs js(options());
    load(js, codec("modern.js"));
    // 2024-03-15 10:30:45.123 UTC
    const auto recv_time = utc(std::chrono::year{2024} / 3 / 15, 10h + 30min + 45s + 123ms);

    // 0x00d7 = 215 → 21.5; three bytes: one trailing; the largest byte is 215.
    const auto r = decode_one(js, codec("modern.js"), 2, {0x00, 0xd7, 0x05}, recv_time);
    CHECK(object_of(r) == json{{"temperature", 21.5},
                               {"label", "t=21.5"},
                               {"length", 3},
                               {"isArray", true},
                               {"isDate", true},
                               {"received", "2024-03-15T10:30:45.123Z"},
                               {"extra", 215}});
    CHECK(r.decoded->warnings == std::vector<std::string>{"trailing bytes"});
    CHECK(r.decoded->readings.empty());

    // Two bytes: no warning; the template literal of the error on another FPort.
    const auto two = decode_one(js, codec("modern.js"), 2, {0x01, 0x00}, recv_time);
    CHECK(object_of(two).at("temperature") == 25.6);  // 0x0100 = 256
    CHECK(two.decoded->warnings.empty());
    CHECK(reason_of(decode_one(js, codec("modern.js"), 3, {0x01, 0x00}, recv_time)) == "unknown FPort 3");
}

TEST_CASE("legacy codecs: TTN v2 Decoder/Encoder and ChirpStack v3 Decode/Encode", "[js]") {
    JsCodecs js(options());
    load(js, codec("ttn_v2.js"));
    load(js, codec("chirpstack_v3.js"));

    SECTION("TTN v2 Decoder(bytes, port)") {
        // 0x0929 = 2345 → 23.45; 0x24 = 36 → 3.6
        const auto r = decode_one(js, codec("ttn_v2.js"), 1, {0x09, 0x29, 0x24});
        CHECK(object_of(r) == json{{"port", 1}, {"temperature", 23.45}, {"battery", 3.6}});
        CHECK(r.decoded->warnings.empty());
        CHECK(object_of(decode_one(js, codec("ttn_v2.js"), 4, {0x09})) == json{{"port", 4}});
    }
    SECTION("TTN v2 Encoder(object, port)") {
        // led → 1, the port, 300 & 0xff = 44; the Encoder gives no FPort of its own.
        const auto e = js.encode_downlink(codec("ttn_v2.js"), 10, json{{"led", true}, {"interval", 300}});
        INFO(e.error.value_or(""));
        REQUIRE(e.ok());
        CHECK(e.bytes == Bytes{1, 10, 44});
        CHECK_FALSE(e.f_port.has_value());
    }
    SECTION("ChirpStack v3 Decode(fPort, bytes, variables)") {
        const auto r = decode_one(js, codec("chirpstack_v3.js"), 5, {0x01, 0x02});
        CHECK(object_of(r) == json{{"fPort", 5}, {"counter", 258}, {"hasVariables", true}});
    }
    SECTION("ChirpStack v3 Encode(fPort, obj, variables)") {
        const auto e = js.encode_downlink(codec("chirpstack_v3.js"), 3, json{{"setpoint", 21}, {"mode", "eco"}});
        INFO(e.error.value_or(""));
        REQUIRE(e.ok());
        CHECK(e.bytes == Bytes{3, 42, 1});
        CHECK_FALSE(e.f_port.has_value());
    }
}

TEST_CASE("codec errors and warnings and answers without a data object", "[js]") {
    JsCodecs js(options());
    load(js, codec("errors.js"));
    const auto results = Batch{}
                             .add(codec("errors.js"), 1, {0x7f, 0x01})
                             .add(codec("errors.js"), 2, {55})
                             .add(codec("errors.js"), 3, {1})
                             .add(codec("errors.js"), 4, {1})
                             .add(codec("errors.js"), 5, {1})
                             .add(codec("errors.js"), 6, {9})
                             .run(js);
    REQUIRE(results.size() == 6);
    CHECK(reason_of(results[0]) == "unknown sensor type 0x7f; length 2 is not 4");

    CHECK(object_of(results[1]) == json{{"level", 55}});
    CHECK(results[1].decoded->warnings == std::vector<std::string>{"battery low", "clock not set"});

    CHECK(reason_of(results[2]) == "decodeUplink returned no data object");  // warnings only
    CHECK(reason_of(results[3]) == "decodeUplink returned no data object");  // data: 42
    CHECK(reason_of(results[4]) == "decodeUplink returned string, not an object");

    // An empty errors array is no error.
    CHECK(object_of(results[5]) == json{{"level", 9}});
}

TEST_CASE("a codec that loops forever is stopped by the time limit and the next calls decode", "[js]") {
    JsCodecs js(options(2, 100ms));
    load(js, codec("loop.js"));
    load(js, codec("echo.js"));
    const auto timeouts = js.pool().stats().timeouts;

    const auto results = Batch{}
                             .add(codec("loop.js"), 1, {1})
                             .add(codec("loop.js"), 2, {2})
                             .add(codec("echo.js"), 9, {3})
                             .add(codec("loop.js"), 2, {4})
                             .run(js);
    REQUIRE(results.size() == 4);
    const auto reason = reason_of(results[0]);
    CHECK_THAT(reason, Contains("time limit") && Contains("100 ms"));
    CHECK(object_of(results[1]) == json{{"counter", 2}});
    CHECK(object_of(results[2]) == json{{"counter", 3}, {"fPort", 9}});
    CHECK(object_of(results[3]) == json{{"counter", 4}});
    CHECK(js.pool().stats().timeouts == timeouts + 1);

    const auto later = Batch{}.add(codec("loop.js"), 2, {5}).add(codec("echo.js"), 8, {6}).run(js);
    REQUIRE(later.size() == 2);
    CHECK(object_of(later[0]) == json{{"counter", 5}});
    CHECK(object_of(later[1]) == json{{"counter", 6}, {"fPort", 8}});
    CHECK(js.pool().stats().timeouts == timeouts + 1);
}

TEST_CASE("a codec that throws fails with the message and the next call decodes", "[js]") {
    JsCodecs js(options());
    load(js, codec("throws.js"));
    const auto results = Batch{}
                             .add(codec("throws.js"), 1, {1})
                             .add(codec("throws.js"), 2, {2})
                             .add(codec("throws.js"), 5, {3})
                             .add(codec("throws.js"), 3, {4})
                             .add(codec("throws.js"), 4, {5})
                             .add(codec("throws.js"), 6, {6})
                             .run(js);
    REQUIRE(results.size() == 6);
    // throw new Error('bad payload') is on line 4 of throws.js.
    CHECK(reason_of(results[0]) == "Error: bad payload (line 4)");
    CHECK(reason_of(results[1]) == "thrown: a string");
    CHECK(object_of(results[2]) == json{{"counter", 3}});
    // What cannot be read is still a failure of its own call, not the end of the worker.
    CHECK(reason_of(results[3]) == "thrown: an object that cannot be printed");
    CHECK(reason_of(results[4]) == "thrown: an object that cannot be printed");
    CHECK(object_of(results[5]) == json{{"counter", 6}});
    CHECK(js.pool().stats().workers_replaced == 0);

    CHECK(object_of(decode_one(js, codec("throws.js"), 7, {10})) == json{{"counter", 10}});
    CHECK(reason_of(decode_one(js, codec("throws.js"), 2, {11})) == "thrown: a string");
}

TEST_CASE("a codec that exhausts the heap kills its worker and the other calls are answered in order", "[js]") {
    // The heap limit, not the time limit, must end it.
    PoolOptions o = options(2, 5000ms);
    o.memory_mb = 32;
    JsCodecs js(o);
    load(js, codec("heap.js"));
    load(js, codec("echo.js"));

    const auto results = Batch{}
                             .add(codec("echo.js"), 1, {1})
                             .add(codec("heap.js"), 1, {2})
                             .add(codec("echo.js"), 3, {3})
                             .add(codec("echo.js"), 4, {4})
                             .add(codec("heap.js"), 2, {5})
                             .add(codec("echo.js"), 6, {6})
                             .run(js);
    REQUIRE(results.size() == 6);
    CHECK(object_of(results[0]) == json{{"counter", 1}, {"fPort", 1}});
    CHECK_THAT(reason_of(results[1]), Contains("worker") && Contains("memory limit of 32 MB"));
    CHECK(object_of(results[2]) == json{{"counter", 3}, {"fPort", 3}});
    CHECK(object_of(results[3]) == json{{"counter", 4}, {"fPort", 4}});
    CHECK(object_of(results[4]) == json{{"counter", 5}});
    CHECK(object_of(results[5]) == json{{"counter", 6}, {"fPort", 6}});
    CHECK(js.pool().stats().workers_replaced >= 1);
    CHECK(js.pool().stats().timeouts == 0);

    // The replacement worker has both codecs.
    const auto later = Batch{}
                           .add(codec("heap.js"), 2, {7})
                           .add(codec("echo.js"), 8, {8})
                           .add(codec("heap.js"), 2, {9})
                           .add(codec("echo.js"), 10, {10})
                           .run(js);
    REQUIRE(later.size() == 4);
    CHECK(object_of(later[0]) == json{{"counter", 7}});
    CHECK(object_of(later[1]) == json{{"counter", 8}, {"fPort", 8}});
    CHECK(object_of(later[2]) == json{{"counter", 9}});
    CHECK(object_of(later[3]) == json{{"counter", 10}, {"fPort", 10}});
}

TEST_CASE("a codec answering more than the output limit fails and the next call decodes", "[js]") {
    JsCodecs js(options());  // max_output_bytes: 1 MiB; the time limit is long enough to make 10 MB
    load(js, codec("big.js"));
    const auto results = Batch{}.add(codec("big.js"), 1, {1}).add(codec("big.js"), 2, {2}).run(js);
    REQUIRE(results.size() == 2);
    // {"data":{"text":"…"}}: 17 + 10 MiB + 3 characters.
    CHECK_THAT(reason_of(results[0]), Contains("output too large") && Contains("10485780 characters") &&
                                          Contains("limit 1048576"));
    CHECK(object_of(results[1]) == json{{"counter", 2}});
    CHECK(object_of(decode_one(js, codec("big.js"), 2, {3})) == json{{"counter", 3}});
}

TEST_CASE("garbage answers are clear failures", "[js]") {
    JsCodecs js(options());
    load(js, codec("garbage.js"));

    SECTION("decodeUplink: undefined, a number, a circular object") {
        const auto results = Batch{}
                                 .add(codec("garbage.js"), 1, {1})
                                 .add(codec("garbage.js"), 2, {2})
                                 .add(codec("garbage.js"), 3, {3})
                                 .add(codec("garbage.js"), 4, {4})
                                 .run(js);
        REQUIRE(results.size() == 4);
        CHECK(reason_of(results[0]) == "decodeUplink returned null, not an object");
        CHECK(reason_of(results[1]) == "decodeUplink returned number, not an object");
        CHECK_THAT(reason_of(results[2]), Contains("TypeError") && Contains("circular"));
        CHECK(object_of(results[3]) == json{{"counter", 4}});
    }
    SECTION("encodeDownlink: bytes out of range, no bytes, nothing, FPort 0") {
        const auto encode = [&](const char* kind) {
            return js.encode_downlink(codec("garbage.js"), 1, json{{"kind", kind}});
        };
        CHECK(error_of(encode("too big")) == "bytes[1]: expected an integer 0..255, got 300");
        CHECK(error_of(encode("negative")) == "bytes[0]: expected an integer 0..255, got -1");
        CHECK(error_of(encode("fraction")) == "bytes[2]: expected an integer 0..255, got 1.5");
        CHECK(error_of(encode("text")) == "bytes[0]: expected an integer 0..255, got \"a\"");
        CHECK(error_of(encode("no bytes")) == "encodeDownlink returned no bytes array");
        CHECK(error_of(encode("nothing")) == "encodeDownlink returned null, not an object");
        CHECK(error_of(encode("port 0")) == "fPort: expected 1..223, got 0");
        for (const char* kind : {"too big", "negative", "fraction", "text", "no bytes", "nothing", "port 0"}) {
            INFO(kind);
            CHECK(encode(kind).bytes.empty());
        }
        const auto fine = encode("fine");
        INFO(fine.error.value_or(""));
        REQUIRE(fine.ok());
        CHECK(fine.bytes == Bytes{1, 2, 255});
    }
    CHECK(js.pool().stats().workers_replaced == 0);
}

TEST_CASE("a codec file that does not compile or cannot be read decodes after fixing it and reload()", "[js]") {
    TempDir dir;
    const auto broken = dir.write("broken.js",
                                  "// a } missing\n"
                                  "function decodeUplink(input) {\n"
                                  "  return {data: {counter: input.bytes[0]};\n"
                                  "}\n");
    const auto missing = (dir.path / "missing.js").string();
    const std::string fixed = "function decodeUplink(input) {\n"
                              "  return {data: {counter: input.bytes[0] + 1}};\n"
                              "}\n";
    JsCodecs js(options());

    const auto compile_failure = js.load_file(broken);
    REQUIRE(compile_failure.has_value());
    CHECK_THAT(*compile_failure, Contains("SyntaxError") && Contains(broken));
    CHECK(reason_of(decode_one(js, broken, 1, {1})) == *compile_failure);

    const auto read_failure = js.load_file(missing);
    REQUIRE(read_failure.has_value());
    CHECK_THAT(*read_failure, Contains("cannot read") && Contains(missing));
    CHECK_THAT(reason_of(decode_one(js, missing, 1, {1})), Contains("cannot read"));

    // Both still fail on reload until fixed.
    CHECK(js.reload().size() == 2);

    dir.write("broken.js", fixed);
    dir.write("missing.js", fixed);
    const auto failures = js.reload();
    std::string listed;
    for (const auto& [path, reason] : failures) listed += path + ": " + reason + "\n";
    INFO(listed);
    CHECK(failures.empty());
    const auto results = Batch{}.add(broken, 1, {1}).add(missing, 1, {41}).run(js);
    REQUIRE(results.size() == 2);
    CHECK(object_of(results[0]) == json{{"counter", 2}});
    CHECK(object_of(results[1]) == json{{"counter", 42}});

    // A file first met in a batch (a profile added while running) is loaded then.
    const auto later = dir.write("later.js", fixed);
    CHECK(object_of(decode_one(js, later, 1, {9})) == json{{"counter", 10}});
}

TEST_CASE("answers come back in the order of the uplinks with three workers", "[js]") {
    JsCodecs js(options(3));
    load(js, codec("busy.js"));
    load(js, codec("echo.js"));
    constexpr std::uint8_t count = 50;
    Batch batch;
    for (std::uint8_t i = 0; i < count; ++i) {
        // Every other uplink the slow codec: the fast ones overtake it in other workers.
        batch.add(codec(i % 2 == 0 ? "busy.js" : "echo.js"), static_cast<std::uint8_t>(1 + i % 3), {i});
    }
    const auto results = batch.run(js);
    REQUIRE(results.size() == count);
    for (std::uint8_t i = 0; i < count; ++i) {
        INFO("uplink " << int(i));
        const auto expected = i % 2 == 0 ? json{{"counter", i}, {"slow", true}}
                                         : json{{"counter", i}, {"fPort", 1 + i % 3}};
        CHECK(object_of(results[i]) == expected);
    }
    CHECK(js.pool().stats().workers_started == 3);
    CHECK(js.pool().stats().calls == count);
}

TEST_CASE("readings from normalizeUplink and from the readings extension", "[js]") {
    JsCodecs js(options());
    load(js, codec("normalize.js"));

    SECTION("one measurement") {
        // 0x00d7 = 215 → 21.5 °C; 40 %; 0x0320 = 800 ppm
        const auto r = decode_one(js, codec("normalize.js"), 1, {0x00, 0xd7, 40, 0x03, 0x20});
        CHECK(object_of(r) == json{{"t", 21.5}, {"rh", 40}, {"co2", 800}});
        CHECK(r.decoded->readings == std::vector<Reading>{reading("temperature", 21.5, "Cel"),
                                                          reading("relative_humidity", 40, "%"),
                                                          reading("co2", 800, "ppm")});
        CHECK(r.decoded->warnings.empty());
    }
    SECTION("measurements with their time") {
        const auto recv_time = utc(std::chrono::year{2024} / 5 / 1, 12h + 30min);
        const auto r = decode_one(js, codec("normalize.js"), 2, {20, 21}, recv_time);
        REQUIRE(r.ok());
        CHECK(r.decoded->readings ==
              std::vector<Reading>{reading("temperature", 20, "Cel", utc(std::chrono::year{2024} / 5 / 1, 12h + 15min)),
                                   reading("temperature", 21, "Cel", recv_time)});
        CHECK(r.decoded->warnings.empty());
    }
    SECTION("the readings extension") {
        // 25 half µg/m³ → 12.5
        const auto r = decode_one(js, codec("normalize.js"), 3, {25});
        CHECK(object_of(r) == json{{"pm25", 12.5}});
        CHECK(r.decoded->readings == std::vector<Reading>{reading("pm2_5", 12.5, "ug/m3")});
        CHECK(r.decoded->warnings.empty());
    }
    SECTION("invalid extension entries: a warning each, no reading") {
        const auto r = decode_one(js, codec("normalize.js"), 4, {20});
        CHECK(object_of(r) == json{{"pm10", 20}});
        CHECK(r.decoded->readings == std::vector<Reading>{reading("pm10", 20, "ug/m3")});
        REQUIRE(r.decoded->warnings.size() == 2);
        CHECK_THAT(r.decoded->warnings[0], Contains("readings[0]") && Contains("quantity"));
        CHECK_THAT(r.decoded->warnings[1], Contains("readings[1]") && Contains("value"));
    }
}

TEST_CASE("TS013 encodeDownlink and decodeDownlink", "[js]") {
    JsCodecs js(options());

    SECTION("the codec's FPort, its errors, decodeDownlink") {
        load(js, codec("downlink.js"));
        // 600 = 0x0258; the FPort asked for in the third byte; the codec picks FPort 7.
        const auto e = js.encode_downlink(codec("downlink.js"), 3, json{{"interval", 600}});
        INFO(e.error.value_or(""));
        REQUIRE(e.ok());
        CHECK(e.bytes == Bytes{0x02, 0x58, 3});
        CHECK(e.f_port == std::optional<std::uint8_t>{7});

        CHECK(error_of(js.encode_downlink(codec("downlink.js"), 3, json{{"mode", "x"}})) ==
              "interval: missing; mode: x");

        const auto d = js.decode_downlink(codec("downlink.js"), 7, Bytes{0x02, 0x58});
        CHECK(object_of(d) == json{{"interval", 600}, {"fPort", 7}});
        // An uplink-only codec has no decodeDownlink.
        load(js, codec("echo.js"));
        CHECK_THAT(reason_of(js.decode_downlink(codec("echo.js"), 7, Bytes{1})), Contains("no decodeDownlink"));
    }
    SECTION("Netvox R719A configuration commands, against the examples") {
        load(js, codec("netvox_r719a.js"));
        std::ifstream in(std::string(SCHWEBE_JS_CODECS_DIR) + "/../../vectors/codec-examples/netvox-r719a.json");
        REQUIRE(in.good());
        const auto vectors = json::parse(in);
        REQUIRE(vectors.at("downlink_encode_examples").size() == 2);
        REQUIRE(vectors.at("downlink_decode_examples").size() == 2);
        for (const auto& example : vectors.at("downlink_encode_examples")) {
            INFO(example.at("description").get<std::string>());
            const auto e = js.encode_downlink(codec("netvox_r719a.js"), std::nullopt, example.at("input").at("data"));
            INFO(e.error.value_or(""));
            REQUIRE(e.ok());
            CHECK(e.bytes == bytes_of_hex(example.at("expected_bytes_hex").get<std::string>()));
            CHECK(e.f_port == std::optional<std::uint8_t>{example.at("expected_fPort").get<std::uint8_t>()});
        }
        for (const auto& example : vectors.at("downlink_decode_examples")) {
            INFO(example.at("description").get<std::string>());
            const auto d = js.decode_downlink(codec("netvox_r719a.js"), example.at("fPort").get<std::uint8_t>(),
                                              bytes_of_hex(example.at("bytes_hex").get<std::string>()));
            CHECK(object_of(d) == example.at("expected"));
        }
        CHECK(error_of(js.encode_downlink(codec("netvox_r719a.js"), std::nullopt,
                                          json{{"Cmd", "Reboot"}, {"Device", "R719A"}})) == "unknown Cmd Reboot");
        CHECK(reason_of(js.decode_downlink(codec("netvox_r719a.js"), 7, bytes_of_hex("0359000000000000000000"))) ==
              "unknown Cmd 0x3");
    }
}

TEST_CASE("without node: load_file and decoding fail at once with the reason", "[js]") {
    PoolOptions o = options();
    o.node = "/nonexistent/node";
    JsCodecs js(o);
    const auto failure = js.load_file(codec("echo.js"));
    REQUIRE(failure.has_value());
    CHECK_THAT(*failure, Contains("node") && Contains("/nonexistent/node"));

    const auto results = Batch{}.add(codec("echo.js"), 1, {1}).add(codec("modern.js"), 2, {0, 1}).run(js);
    REQUIRE(results.size() == 2);
    CHECK(reason_of(results[0]) == *failure);
    CHECK_THAT(reason_of(results[1]), Contains("node"));

    CHECK_THAT(error_of(js.encode_downlink(codec("ttn_v2.js"), 1, json{{"led", true}})), Contains("node"));

    // The pool itself answers every call with the reason.
    const json request{{"op", "decodeUplink"}, {"codec", codec("echo.js")}, {"fPort", 1}, {"bytes", json::array({1})}};
    const auto reply = js.pool().run_one(request);
    CHECK_FALSE(reply.ok());
    CHECK_THAT(reply.error, Contains("node"));
    CHECK(js.pool().stats().workers_started == 0);
}

TEST_CASE("a codec stays in its sandbox: promise callbacks have the time limit and node's process is out of reach",
          "[js]") {
    JsCodecs js(options(2, 100ms));
    load(js, codec("escape.js"));
    load(js, codec("echo.js"));
    const auto results = Batch{}
                             .add(codec("escape.js"), 1, {1})
                             .add(codec("escape.js"), 2, {2})
                             .add(codec("echo.js"), 3, {3})
                             .add(codec("escape.js"), 4, {4})
                             .add(codec("echo.js"), 5, {5})
                             .run(js);
    REQUIRE(results.size() == 5);
    CHECK_THAT(reason_of(results[0]), Contains("time limit"));
    CHECK(object_of(results[1]) == json{{"process", "unreachable"}});
    CHECK(object_of(results[2]) == json{{"counter", 3}, {"fPort", 3}});
    CHECK(object_of(results[3]) == json{{"counter", 4}});
    CHECK(object_of(results[4]) == json{{"counter", 5}, {"fPort", 5}});
    CHECK(js.pool().stats().timeouts == 1);
}

TEST_CASE("a worker that hangs outside the codec is replaced after the time limit", "[js]") {
    JsCodecs js(options(2, 100ms));
    load(js, codec("hang.js"));
    load(js, codec("echo.js"));
    const auto start = std::chrono::steady_clock::now();
    const auto results = Batch{}
                             .add(codec("echo.js"), 1, {1})
                             .add(codec("hang.js"), 1, {2})
                             .add(codec("echo.js"), 3, {3})
                             .add(codec("hang.js"), 2, {4})
                             .add(codec("echo.js"), 5, {5})
                             .run(js);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(results.size() == 5);
    CHECK(object_of(results[0]) == json{{"counter", 1}, {"fPort", 1}});
    CHECK_THAT(reason_of(results[1]), Contains("time limit") && Contains("100 ms") && Contains("worker replaced"));
    CHECK(object_of(results[2]) == json{{"counter", 3}, {"fPort", 3}});
    CHECK(object_of(results[3]) == json{{"counter", 4}});
    CHECK(object_of(results[4]) == json{{"counter", 5}, {"fPort", 5}});
    CHECK(js.pool().stats().workers_replaced == 1);
    CHECK(js.pool().stats().timeouts == 1);
    // The watchdog counts from the call, not from the worker's start (whose start timeout is 10 s).
    CHECK(elapsed < 5s);
}

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a codec whose top level exhausts the heap is dropped at load and does not restart workers in a loop",
          "[js]") {
    TempDir dir;
    const auto heap = dir.write("heap_top.js", read_text(codec("heap_top.js")));
    PoolOptions o = options(2, 5000ms);  // the heap limit, not the time limit, must end it
    o.memory_mb = 32;
    JsCodecs js(o);
    load(js, codec("echo.js"));
    CHECK(js.pool().stats().workers_started == 2);

    const auto failure = js.load_file(heap);
    REQUIRE(failure.has_value());
    CHECK_THAT(*failure, Contains(heap) && Contains("compiling it ended the worker") &&
                             Contains("memory limit of 32 MB"));
    const auto dropped = js.pool().dropped(heap);
    REQUIRE(dropped.has_value());
    CHECK_THAT(*dropped, Contains("compiling it ended the worker"));
    CHECK_FALSE(js.pool().loaded(heap));

    // Its uplinks fail at once with the reason: nothing goes to a worker.
    const auto calls = js.pool().stats().calls;
    const auto started = js.pool().stats().workers_started;
    CHECK(reason_of(decode_one(js, heap, 1, {1})) == *failure);
    CHECK(js.pool().stats().calls == calls);
    CHECK(js.pool().stats().workers_started == started);

    // The other codec decodes in the workers started after (they do not get the dropped one).
    for (std::uint8_t round = 0; round < 4; ++round) {
        INFO("round " << int(round));
        const auto results = Batch{}
                                 .add(heap, 1, {round})
                                 .add(codec("echo.js"), 2, {round})
                                 .add(heap, 3, {round})
                                 .add(codec("echo.js"), 4, {round})
                                 .run(js);
        REQUIRE(results.size() == 4);
        CHECK_THAT(reason_of(results[0]), Contains("compiling it ended the worker"));
        CHECK(object_of(results[1]) == json{{"counter", round}, {"fPort", 2}});
        CHECK_THAT(reason_of(results[2]), Contains("compiling it ended the worker"));
        CHECK(object_of(results[3]) == json{{"counter", round}, {"fPort", 4}});
    }
    CHECK(js.pool().stats().workers_started <= o.workers + 3);
    CHECK(js.pool().stats().workers_replaced == 0);  // no call was running in the workers it ended
    CHECK(js.pool().stats().calls == calls + 4 * 2);

    // Fixed and reloaded, it decodes.
    dir.write("heap_top.js", "function decodeUplink(input) { return {data: {fixed: input.bytes[0]}}; }\n");
    const auto failures = js.reload();
    CHECK(failures.empty());
    CHECK_FALSE(js.pool().dropped(heap).has_value());
    const auto results = Batch{}.add(heap, 1, {42}).add(codec("echo.js"), 5, {43}).run(js);
    REQUIRE(results.size() == 2);
    CHECK(object_of(results[0]) == json{{"fixed", 42}});
    CHECK(object_of(results[1]) == json{{"counter", 43}, {"fPort", 5}});
}

TEST_CASE("an answer nested deeper than 64 levels or not JSON fails its own call and the worker stays", "[js]") {
    JsCodecs js(options(1));  // one worker: the calls after each failure run in the same one
    load(js, codec("deep.js"));
    const auto results = Batch{}
                             .add(codec("deep.js"), 1, {100})
                             .add(codec("deep.js"), 5, {2})
                             .add(codec("deep.js"), 2, {3})
                             .add(codec("deep.js"), 5, {4})
                             .add(codec("deep.js"), 3, {5})
                             .add(codec("deep.js"), 5, {6})
                             .add(codec("deep.js"), 1, {60})
                             .run(js);
    REQUIRE(results.size() == 7);
    // data 100 deep; 1000 nested arrays from the replaced JSON.stringify; then text that is not JSON.
    CHECK_THAT(reason_of(results[0]), Contains("nests deeper than 64"));
    CHECK(object_of(results[1]) == json{{"counter", 2}});
    CHECK_THAT(reason_of(results[2]), Contains("nests deeper than 64"));
    CHECK(object_of(results[3]) == json{{"counter", 4}});  // JSON.stringify is its own again
    CHECK_THAT(reason_of(results[4]), Contains("not valid JSON"));
    CHECK(object_of(results[5]) == json{{"counter", 6}});
    // 60 levels are within the limit.
    json expected = json::object();
    for (int i = 1; i < 60; ++i) expected = json{{"n", expected}};
    CHECK(object_of(results[6]) == expected);
    CHECK(js.pool().stats().workers_replaced == 0);
    CHECK(js.pool().stats().workers_started == 1);
}

TEST_CASE("a lone UTF-16 surrogate in an answer fails its own call and the worker stays", "[js]") {
    JsCodecs js(options(1));
    load(js, codec("deep.js"));
    const auto results = Batch{}
                             .add(codec("deep.js"), 4, {1})
                             .add(codec("deep.js"), 5, {2})
                             .add(codec("deep.js"), 4, {3})
                             .add(codec("deep.js"), 5, {4})
                             .run(js);
    REQUIRE(results.size() == 4);
    // JSON.stringify writes '\ud800' as an escape; the server's parser refuses a surrogate without its pair.
    CHECK_THAT(reason_of(results[0]), Contains("not valid JSON"));
    CHECK(object_of(results[1]) == json{{"counter", 2}});
    CHECK_THAT(reason_of(results[2]), Contains("not valid JSON"));
    CHECK(object_of(results[3]) == json{{"counter", 4}});
    CHECK(js.pool().stats().workers_replaced == 0);
    CHECK(js.pool().stats().workers_started == 1);
}

TEST_CASE("large answers one after the other wait for the socket to drain within the time limit", "[js]") {
    // 8 calls go to the worker at once. A worker that went on to the next call while its answer still waited for
    // the socket would deliver the first answer only after 8 x 40 ms, past the 200 ms limit; one that waits for
    // the socket to drain delivers each within about 40 ms of the one before.
    PoolOptions o = options(1, 200ms);
    o.max_output_bytes = 1 << 20;
    JsCodecs js(o);
    load(js, codec("large_answers.js"));
    constexpr std::uint8_t count = 16;
    Batch batch;
    for (std::uint8_t i = 0; i < count; ++i) batch.add(codec("large_answers.js"), 1, {i});
    const auto results = batch.run(js);
    REQUIRE(results.size() == count);
    for (std::uint8_t i = 0; i < count; ++i) {
        INFO("uplink " << int(i));
        const auto& object = object_of(results[i]);
        CHECK(object.at("counter") == i);
        CHECK(object.at("text").get<std::string>() == std::string(600000, 'x'));
    }
    CHECK(js.pool().stats().timeouts == 0);
    CHECK(js.pool().stats().workers_replaced == 0);
}

TEST_CASE("Error.prepareStackTrace does not lead a codec out of its sandbox", "[js]") {
    JsCodecs js(options(1));  // one worker: the second call sees what the first one's stack trace did

    SECTION("a throw in decodeUplink") {
        load(js, codec("stack_trace.js"));
        const auto results = Batch{}.add(codec("stack_trace.js"), 1, {1}).add(codec("stack_trace.js"), 2, {2}).run(js);
        REQUIRE(results.size() == 2);
        // prepareStackTrace makes the stack 'x': no line number.
        CHECK(reason_of(results[0]) == "Error: to format");
        const auto p = object_of(results[1]).at("p").get<std::string>();
        INFO("P: " << p);
        CHECK(p != "ESCAPED");
        CHECK_THAT(p, Contains("blocked: "));  // prepareStackTrace ran, and failed to find process
        CHECK(js.pool().stats().workers_replaced == 0);
    }
    SECTION("a throw at the top level") {
        const auto failure = js.load_file(codec("stack_trace_top.js"));
        REQUIRE(failure.has_value());
        CHECK_THAT(*failure, Contains("does not compile") && Contains("Error: at the top level"));
        CHECK(reason_of(decode_one(js, codec("stack_trace_top.js"), 1, {1})) == *failure);
        load(js, codec("echo.js"));
        CHECK(object_of(decode_one(js, codec("echo.js"), 3, {7})) == json{{"counter", 7}, {"fPort", 3}});
        CHECK(js.pool().stats().workers_replaced == 0);
        CHECK(js.pool().stats().workers_started == 1);
    }
}

TEST_CASE("a codec sees no FinalizationRegistry or WeakRef or process or require and its this leads to its own realm",
          "[js]") {
    JsCodecs js(options(1));
    load(js, codec("globals.js"));
    // The top level's this.constructor is the context's own global constructor (the sandbox object has no
    // prototype, so it is not node's Object): its Function compiles in the codec's realm, where process is not.
    CHECK(object_of(decode_one(js, codec("globals.js"), 1, {1})) ==
          json{{"FinalizationRegistry", "undefined"},
               {"WeakRef", "undefined"},
               {"process", "undefined"},
               {"require", "undefined"},
               {"constructorLeadsTo", "own realm, process undefined"}});
}

TEST_CASE("a reload with a syntax error keeps the version before in use also in new workers", "[js]") {
    TempDir dir;
    const auto version = [](int n) {
        return "// loops on FPort 9 (to replace the worker)\n"
               "function decodeUplink({fPort, bytes}) {\n"
               "  if (fPort === 9) while (true) {}\n"
               "  return {data: {version: " +
               std::to_string(n) + ", counter: bytes[0]}};\n}\n";
    };
    const auto path = dir.write("versioned.js", version(1));
    JsCodecs js(options(1, 300ms));
    load(js, path);
    CHECK(object_of(decode_one(js, path, 1, {5})) == json{{"version", 1}, {"counter", 5}});

    dir.write("versioned.js", "function decodeUplink({bytes}) {\n  return {data: {version: 2}\n}\n");
    const auto failures = js.reload();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].first == path);
    CHECK_THAT(failures[0].second, Contains("SyntaxError") && Contains("stays in use"));
    CHECK(object_of(decode_one(js, path, 1, {6})) == json{{"version", 1}, {"counter", 6}});

    // The worker started after the first one overran has the version before too.
    const auto results = Batch{}.add(path, 9, {7}).add(path, 1, {8}).add(path, 2, {9}).run(js);
    REQUIRE(results.size() == 3);
    CHECK_THAT(reason_of(results[0]), Contains("time limit") && Contains("worker replaced"));
    CHECK(object_of(results[1]) == json{{"version", 1}, {"counter", 8}});
    CHECK(object_of(results[2]) == json{{"version", 1}, {"counter", 9}});
    CHECK(js.pool().stats().workers_replaced == 1);

    dir.write("versioned.js", version(3));
    CHECK(js.reload().empty());
    CHECK(object_of(decode_one(js, path, 1, {10})) == json{{"version", 3}, {"counter", 10}});
}

TEST_CASE("a codec rests after three calls in a row that overran the time limit", "[js]") {
    JsCodecs js(options(1, 100ms));
    load(js, codec("loop.js"));
    load(js, codec("echo.js"));
    for (int i = 0; i < 3; ++i) {
        INFO("call " << i);
        CHECK_THAT(reason_of(decode_one(js, codec("loop.js"), 1, {1})), Contains("time limit"));
    }
    CHECK(js.pool().stats().timeouts == 3);

    // It fails at once, on any FPort; the other codec is not held up. Only the echo call reaches the pool.
    const auto calls = js.pool().stats().calls;
    const auto results = Batch{}
                             .add(codec("loop.js"), 1, {1})
                             .add(codec("echo.js"), 2, {2})
                             .add(codec("loop.js"), 3, {3})
                             .run(js);
    REQUIRE(results.size() == 3);
    CHECK_THAT(reason_of(results[0]), Contains("not run for 60 s") && Contains("time limit"));
    CHECK(object_of(results[1]) == json{{"counter", 2}, {"fPort", 2}});
    CHECK_THAT(reason_of(results[2]), Contains("not run for 60 s"));
    CHECK(js.pool().stats().calls == calls + 1);
    CHECK(js.pool().stats().timeouts == 3);
}

TEST_CASE("a codec file in Latin-1 loads and its bytes that are not UTF-8 become U+FFFD", "[js]") {
    JsCodecs js(options(1));
    load(js, codec("latin1.js"));
    const std::string fffd = "\xEF\xBF\xBD";
    // 'M' 0xE4 'rz ' 0xFC 'ber': each byte that is not UTF-8 becomes one U+FFFD.
    CHECK(object_of(decode_one(js, codec("latin1.js"), 1, {3})) ==
          json{{"text", "M" + fffd + "rz " + fffd + "ber"}, {"counter", 3}});
}

TEST_CASE("a codec value that reaches the worker as an exception fails only its own call and is never formatted there",
          "[js]") {
    JsCodecs js(options(1));  // one worker: one that died would fail the calls queued behind or be started again
    load(js, codec("rejects.js"));
    load(js, codec("echo.js"));

    // The unhandled rejection is seen by node after the batch's answers are written: the next batch shows whether
    // the worker survived it.
    const auto first = Batch{}.add(codec("rejects.js"), 1, {1}).add(codec("echo.js"), 2, {2}).run(js);
    REQUIRE(first.size() == 2);
    CHECK(object_of(first[0]) == json{{"rejected", true}});
    CHECK(object_of(first[1]) == json{{"counter", 2}, {"fPort", 2}});
    CHECK(object_of(decode_one(js, codec("echo.js"), 3, {3})) == json{{"counter", 3}, {"fPort", 3}});
    CHECK(js.pool().stats().workers_started == 1);

    const auto results = Batch{}
                             .add(codec("rejects.js"), 2, {4})
                             .add(codec("echo.js"), 5, {5})
                             .add(codec("rejects.js"), 4, {6})
                             .add(codec("echo.js"), 7, {7})
                             .add(codec("rejects.js"), 8, {8})
                             .add(codec("rejects.js"), 3, {9})
                             .run(js);
    REQUIRE(results.size() == 6);
    CHECK(reason_of(results[0]) == "the codec failed");  // its setter threw when the worker cleared the input
    CHECK(object_of(results[1]) == json{{"counter", 5}, {"fPort", 5}});
    CHECK(reason_of(results[2]) == "the codec failed");  // the getter of what it threw threw
    CHECK(object_of(results[3]) == json{{"counter", 7}, {"fPort", 7}});
    CHECK(object_of(results[4]) == json{{"counter", 8}});
    // Had node formatted one of them in the worker's realm (as it does an uncaught exception), the codec's
    // Error.prepareStackTrace would have had the worker's own call sites, and the worker would have died.
    CHECK(object_of(results[5]) == json{{"framesSeen", "none"}});
    CHECK(js.pool().stats().workers_replaced == 0);
    CHECK(js.pool().stats().workers_started == 1);
}
