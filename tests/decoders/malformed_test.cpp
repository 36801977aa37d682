// Malformed payloads for every codec: empty, every truncation of every example, unknown type bytes, wrong ports,
// oversized and random input. A codec never crashes and never reads past the end (run under ASan); what it cannot
// decode gives an error with a reason, and what it decodes is a JSON object that serializes.

#include <random>
#include <set>
#include <string>
#include <vector>

#include "decoder_test_support.hpp"

using schwebe::decoders::DecodeResult;
using schwebe::lorawan::Bytes;
using schwebe::test::decode;
using schwebe::test::decode_bytes;
using schwebe::test::error_of;
using schwebe::test::error_of_bytes;
using schwebe::test::hex;

namespace {

/// A decode is well-formed: either an error with a reason, or an object (never null, never anything else) that
/// serializes to JSON.
void check_well_formed(const DecodeResult& result) {
    if (result.ok()) {
        CHECK_FALSE(result.error.has_value());
        CHECK(result.decoded->object.is_object());
        CHECK_NOTHROW(result.decoded->object.dump());
    } else {
        REQUIRE(result.error.has_value());
        CHECK_FALSE(result.error->reason.empty());
    }
}

struct Example {
    const char* codec;
    std::uint8_t f_port;
    const char* hex;
    /// Prefix lengths that are a complete message of their own: a shorter record sequence, a heartbeat without its
    /// optional byte, an EMU status update.
    std::set<std::size_t> complete_prefixes;
};

const std::vector<Example>& examples() {
    static const std::vector<Example> all{
        {"cayenne-lpp", 1, "03670110056700FF", {4}},
        {"cayenne-lpp", 1, "0167FFD7", {}},
        {"cayenne-lpp", 1, "067104D2FB2E0000", {}},
        {"cayenne-lpp", 1, "018806765FF2960A0003E8", {}},
        {"nwave-nps405", 1, "95", {}},
        {"nwave-nps405", 10, "d11f345678", {}},
        {"nwave-nps405", 2, "00d3d800590b", {3, 4, 5}},
        {"nwave-nps405", 3, "0204090200", {}},
        {"bosch-tps110", 1, "01", {}},
        {"bosch-tps110", 2, "01ff", {1}},
        {"bosch-tps110", 3, "240300007503000000000000001d020301", {}},
        {"bosch-tps110", 6, "785634122403aaaa0100", {}},
        {"elsys-ers-co2", 5, "0100e202290400270506060308", {3, 5, 8, 10}},
        {"dragino-lht65", 2, "cbf60b0d0376010add7fff", {}},
        {"emu-prof-ii", 1, "b4d77b6101b4d77b61031207000039", {1, 2}},
        {"emu-prof-ii",
         1,
         "b4d77b6101b4d77b6103120700000480000000057d0400000682450000074807000008280a000009520100000abd250000e4",
         {1, 2}},
        {"emu-prof-ii", 100, "30d10562f126010622f701f30500f40500f56400f66400f802000202c4", {1, 2}},
        {"elvaco-cmi4140",
         2,
         "150405fc437f0e041340919822022e9015023c482b0259d825025de8140c782794817904fd1700000100",
         {}},
        {"elvaco-cmi4140",
         2,
         "150405b827bd3a04142cddb10d02290000023a000002598f26025d61160c784405817904fd1700000000",
         {}},
    };
    return all;
}

const std::vector<std::string> codec_names{"cayenne-lpp",   "nwave-nps405", "bosch-tps110",  "elsys-ers-co2",
                                           "dragino-lht65", "emu-prof-ii",  "elvaco-cmi4140"};

}  // namespace

TEST_CASE("every codec refuses an empty payload", "[unit][decoders]") {
    for (const Example& e : examples()) {
        INFO(e.codec << " FPort " << int{e.f_port});
        const DecodeResult result = decode_bytes(e.codec, e.f_port, Bytes{});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error->reason == "empty payload");
    }
}

TEST_CASE("every truncation of every example is an error, unless the prefix is a message of its own",
          "[unit][decoders]") {
    for (const Example& e : examples()) {
        const Bytes full = hex(e.hex);
        REQUIRE(decode_bytes(e.codec, e.f_port, full).ok());
        for (std::size_t n = 1; n < full.size(); ++n) {
            const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            INFO(e.codec << " FPort " << int{e.f_port} << ": first " << n << " of " << full.size() << " bytes");
            const DecodeResult result = decode_bytes(e.codec, e.f_port, prefix);
            check_well_formed(result);
            if (e.complete_prefixes.count(n) != 0) {
                CHECK(result.ok());
            } else {
                CHECK_FALSE(result.ok());
            }
        }
    }
}

TEST_CASE("unknown type bytes are errors", "[unit][decoders]") {
    CHECK(error_of("cayenne-lpp", 1, "0105ff") == "unknown type 0x05 at offset 1");
    CHECK(error_of("cayenne-lpp", 1, "03670110ffff") == "unknown type 0xff at offset 5");
    CHECK(error_of("elsys-ers-co2", 5, "0100e2200000") == "unknown type 0x20 at offset 3");
    CHECK(error_of("elsys-ers-co2", 5, "3d00000000") == "unknown type 0x3d at offset 0");
    // EMU: register 0x2c after the timestamp, under a valid CRC.
    CHECK(error_of("emu-prof-ii", 1, schwebe::test::with_emu_crc("b4d77b612c00000000")) ==
          "unknown register 0x2c at offset 4");
    CHECK(error_of("elvaco-cmi4140", 2,
                   "150408fc437f0e041340919822022e9015023c482b0259d825025de8140c782794817904fd1700000100") ==
          "Unknown dif 04 and vif 08 at offset 1");
    CHECK(error_of("elvaco-cmi4140", 2,
                   "15030500437f0e041340919822022e9015023c482b0259d825025de8140c782794817904fd1700000100") ==
          "Unknown dif 03 and vif 05 at offset 1");
}

TEST_CASE("a port the device does not send on is \"unknown FPort\"", "[unit][decoders]") {
    const std::vector<std::pair<const char*, std::uint8_t>> wrong{
        {"cayenne-lpp", 0},  {"cayenne-lpp", 224}, {"nwave-nps405", 4},    {"nwave-nps405", 0},   {"bosch-tps110", 7},
        {"bosch-tps110", 0}, {"elsys-ers-co2", 0}, {"elsys-ers-co2", 255}, {"dragino-lht65", 1},  {"dragino-lht65", 42},
        {"emu-prof-ii", 0},  {"emu-prof-ii", 224}, {"elvaco-cmi4140", 1},  {"elvaco-cmi4140", 3},
    };
    for (const auto& [codec, f_port] : wrong) {
        INFO(codec << " FPort " << int{f_port});
        const DecodeResult result = decode(codec, f_port, "0102030405060708090a0b");
        REQUIRE_FALSE(result.ok());
        CHECK(result.error->reason == "unknown FPort");
    }
}

TEST_CASE("255 bytes of 0xff are refused by every codec on every port", "[unit][decoders]") {
    const Bytes ff(255, 0xff);
    for (const std::string& codec : codec_names) {
        for (int f_port = 0; f_port <= 255; ++f_port) {
            INFO(codec << " FPort " << f_port);
            const DecodeResult result = decode_bytes(codec, static_cast<std::uint8_t>(f_port), ff);
            REQUIRE_FALSE(result.ok());
            CHECK_FALSE(result.error->reason.empty());
        }
    }
    // 255 bytes cannot be an uplink at all.
    CHECK(error_of_bytes("nwave-nps405", 1, ff) == "length 255, longer than any uplink (242 bytes)");
}

TEST_CASE("the longest possible uplink of 0xff bytes on the devices' own ports", "[unit][decoders]") {
    const Bytes ff(242, 0xff);
    // Record formats: an unknown type or a record cut short.
    CHECK(error_of_bytes("cayenne-lpp", 1, ff) == "unknown type 0xff at offset 1");
    CHECK(error_of_bytes("elsys-ers-co2", 5, ff) == "unknown type 0xff at offset 0");
    CHECK(error_of_bytes("emu-prof-ii", 1, ff).rfind("crc-8 wrong", 0) == 0);
    CHECK_FALSE(decode_bytes("elvaco-cmi4140", 2, ff).ok());
    CHECK_FALSE(decode_bytes("dragino-lht65", 2, ff).ok());
    // Fixed layouts decode their bytes, as the reference codecs do, and say that the rest was not decoded.
    for (const auto& [codec, f_port] : std::vector<std::pair<const char*, std::uint8_t>>{{"nwave-nps405", 1},
                                                                                         {"nwave-nps405", 2},
                                                                                         {"nwave-nps405", 3},
                                                                                         {"nwave-nps405", 10},
                                                                                         {"bosch-tps110", 1},
                                                                                         {"bosch-tps110", 2},
                                                                                         {"bosch-tps110", 3},
                                                                                         {"bosch-tps110", 6}}) {
        INFO(codec << " FPort " << int{f_port});
        const DecodeResult result = decode_bytes(codec, f_port, ff);
        REQUIRE(result.ok());
        REQUIRE(result.decoded->warnings.size() == 1);
        CHECK(result.decoded->warnings[0].find("not decoded") != std::string::npos);
    }
}

TEST_CASE("random payloads on every port never break a codec", "[unit][decoders]") {
    std::mt19937 rng(20240611);  // fixed seed: the same payloads on every run
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 80);
    for (const std::string& codec : codec_names) {
        for (int i = 0; i < 3000; ++i) {
            Bytes payload(static_cast<std::size_t>(length(rng)));
            for (auto& b : payload) b = static_cast<std::uint8_t>(byte(rng));
            const auto f_port = static_cast<std::uint8_t>(i % 12 == 11 ? byte(rng) : i % 12);
            INFO(codec << " FPort " << int{f_port} << " " << schwebe::lorawan::to_hex(payload));
            check_well_formed(decode_bytes(codec, f_port, payload));
        }
    }
}
