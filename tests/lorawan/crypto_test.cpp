#include "lorawan/crypto.hpp"

#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

namespace {
Block block(std::string_view h) {
    const Bytes b = hex(h);
    REQUIRE(b.size() == 16);
    Block out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}
}  // namespace

TEST_CASE("AES-128 encrypts and decrypts the FIPS-197 example", "[unit][crypto]") {
    // FIPS-197 Appendix C.1.
    Aes128 aes{block("000102030405060708090a0b0c0d0e0f")};
    const Block cipher = aes.encrypt(block("00112233445566778899aabbccddeeff"));
    CHECK(to_hex(cipher) == "69c4e0d86a7b0430d8cdb78070b4c55a");
    Block back{};
    aes.decrypt(cipher.data(), back.data(), 1);
    CHECK(to_hex(back) == "00112233445566778899aabbccddeeff");
}

TEST_CASE("AES-128 keeps its key schedule across calls and after a move", "[unit][crypto]") {
    Aes128 aes{block("000102030405060708090a0b0c0d0e0f")};
    for (int i = 0; i < 3; ++i)
        CHECK(to_hex(aes.encrypt(block("00112233445566778899aabbccddeeff"))) == "69c4e0d86a7b0430d8cdb78070b4c55a");
    Aes128 moved{std::move(aes)};
    CHECK(to_hex(moved.encrypt(block("00112233445566778899aabbccddeeff"))) == "69c4e0d86a7b0430d8cdb78070b4c55a");
}

TEST_CASE("AES-CMAC matches the RFC 4493 examples", "[unit][crypto]") {
    AesCmac cmac{block("2b7e151628aed2a6abf7158809cf4f3c")};
    const Bytes m = hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b"
        "17ad2b417be66c3710");
    const ByteView all{m};
    CHECK(to_hex(cmac.compute({})) == "bb1d6929e95937287fa37d129b756746");               // Example 1: len 0
    CHECK(to_hex(cmac.compute({all.first(16)})) == "070a16b46b4d4144f79bdd9dd04a287c");  // Example 2: len 16
    CHECK(to_hex(cmac.compute({all.first(40)})) == "dfa66747de9ae63030ca32611497c827");  // Example 3: len 40
    CHECK(to_hex(cmac.compute({all.first(64)})) == "51f0bebf7e3b9d92fc49741779363cfe");  // Example 4: len 64
}

TEST_CASE("AES-CMAC over parts equals AES-CMAC over their concatenation", "[unit][crypto]") {
    AesCmac cmac{block("2b7e151628aed2a6abf7158809cf4f3c")};
    const Bytes m = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411");
    const ByteView all{m};
    for (std::size_t split = 0; split <= all.size(); ++split) {
        INFO("split at " << split);
        CHECK(to_hex(cmac.compute({all.first(split), all.subspan(split)})) == "dfa66747de9ae63030ca32611497c827");
    }
    CHECK(to_hex(cmac.mic({all})) == "dfa66747");
}

TEST_CASE("constant-time comparison compares", "[unit][crypto]") {
    const Bytes a = hex("01020304");
    CHECK(constant_time_equal(a, hex("01020304")));
    CHECK_FALSE(constant_time_equal(a, hex("01020305")));
    CHECK_FALSE(constant_time_equal(a, hex("81020304")));
    CHECK_FALSE(constant_time_equal(a, hex("010203")));
    CHECK(constant_time_equal(Bytes{}, Bytes{}));
}
