// Base64 (RFC 4648 §4): the test vectors of RFC 4648 §10, padding optional on input, and every way a text can fail
// to be base64.

#include <optional>
#include <string>
#include <string_view>

#include "common/base64.hpp"
#include "test_support.hpp"

using schwebe::common::base64_decode;
using schwebe::common::base64_encode;
using schwebe::lorawan::Bytes;
using schwebe::test::hex;

namespace {
Bytes bytes_of(std::string_view s) {
    return Bytes(s.begin(), s.end());
}
}  // namespace

TEST_CASE("base64 encodes the RFC 4648 section 10 vectors", "[unit][base64]") {
    CHECK(base64_encode(bytes_of("")) == "");
    CHECK(base64_encode(bytes_of("f")) == "Zg==");
    CHECK(base64_encode(bytes_of("fo")) == "Zm8=");
    CHECK(base64_encode(bytes_of("foo")) == "Zm9v");
    CHECK(base64_encode(bytes_of("foob")) == "Zm9vYg==");
    CHECK(base64_encode(bytes_of("fooba")) == "Zm9vYmE=");
    CHECK(base64_encode(bytes_of("foobar")) == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 section 10 vectors", "[unit][base64]") {
    CHECK(base64_decode("") == std::optional<Bytes>{Bytes{}});
    CHECK(base64_decode("Zg==") == std::optional<Bytes>{bytes_of("f")});
    CHECK(base64_decode("Zm8=") == std::optional<Bytes>{bytes_of("fo")});
    CHECK(base64_decode("Zm9v") == std::optional<Bytes>{bytes_of("foo")});
    CHECK(base64_decode("Zm9vYg==") == std::optional<Bytes>{bytes_of("foob")});
    CHECK(base64_decode("Zm9vYmE=") == std::optional<Bytes>{bytes_of("fooba")});
    CHECK(base64_decode("Zm9vYmFy") == std::optional<Bytes>{bytes_of("foobar")});
}

TEST_CASE("base64 decodes without padding", "[unit][base64]") {
    CHECK(base64_decode("Zg") == std::optional<Bytes>{bytes_of("f")});
    CHECK(base64_decode("Zm8") == std::optional<Bytes>{bytes_of("fo")});
    CHECK(base64_decode("Zm9vYg") == std::optional<Bytes>{bytes_of("foob")});
    CHECK(base64_decode("Zm9vYmE") == std::optional<Bytes>{bytes_of("fooba")});
}

TEST_CASE("base64 uses the standard alphabet, '+' and '/' included", "[unit][base64]") {
    // 0xfb 0xff 0xbf: the 6-bit groups 62, 63, 62, 63.
    CHECK(base64_encode(hex("fbffbf")) == "+/+/");
    CHECK(base64_decode("+/+/") == std::optional<Bytes>{hex("fbffbf")});
    CHECK(base64_encode(hex("000000")) == "AAAA");
    CHECK(base64_encode(hex("ffffff")) == "////");
    // A LoRaWAN join request (23 bytes): 7 full groups and 2 left over, hence one '='.
    const Bytes join =
        hex("00"
            "0102030405060708"
            "0807060504030201"
            "0001"
            "a1b2c3d4");
    CHECK(base64_decode(base64_encode(join)) == std::optional<Bytes>{join});
}

TEST_CASE("base64 refuses characters outside the alphabet", "[unit][base64]") {
    // The URL-safe alphabet (RFC 4648 §5) is a different encoding.
    CHECK_FALSE(base64_decode("-DS4").has_value());
    CHECK_FALSE(base64_decode("ab_d").has_value());
    CHECK_FALSE(base64_decode("Zm9v Zg==").has_value());
    CHECK_FALSE(base64_decode("Zm9v\n").has_value());
    CHECK_FALSE(base64_decode(std::string_view{"Zm\0v", 4}).has_value());
    CHECK_FALSE(base64_decode("Zm9\xc3\xa9").has_value());
}

TEST_CASE("base64 refuses misplaced or partial padding", "[unit][base64]") {
    CHECK_FALSE(base64_decode("=").has_value());
    CHECK_FALSE(base64_decode("==").has_value());
    CHECK_FALSE(base64_decode("====").has_value());
    CHECK_FALSE(base64_decode("Z===").has_value());
    CHECK_FALSE(base64_decode("Zg=").has_value());   // padding that does not complete the quantum
    CHECK_FALSE(base64_decode("Zg=g").has_value());  // '=' inside
    CHECK_FALSE(base64_decode("Zg==Zg==").has_value());
    CHECK_FALSE(base64_decode("=Zm9").has_value());
    CHECK_FALSE(base64_decode("Zm9vYg===").has_value());
}

TEST_CASE("base64 refuses lengths no encoder produces (4n+1)", "[unit][base64]") {
    CHECK_FALSE(base64_decode("Z").has_value());
    CHECK_FALSE(base64_decode("Zm9vY").has_value());
    CHECK_FALSE(base64_decode("Zm9vYmFyZ").has_value());
}

TEST_CASE("base64 accepts non-zero trailing bits", "[unit][base64]") {
    // RFC 4648 §3.5 lets a decoder ignore them: "Zh" and "Zg" both carry the byte 'f'.
    CHECK(base64_decode("Zh==") == std::optional<Bytes>{bytes_of("f")});
    CHECK(base64_decode("Zm9=") == std::optional<Bytes>{bytes_of("fo")});
}

TEST_CASE("base64 round-trips every length up to 64 bytes", "[unit][base64]") {
    Bytes data;
    for (int n = 0; n <= 64; ++n) {
        const std::string text = base64_encode(data);
        CHECK(text.size() == (data.size() + 2) / 3 * 4);
        CHECK(base64_decode(text) == std::optional<Bytes>{data});
        data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
    }
}
