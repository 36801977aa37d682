#include "lorawan/session.hpp"

#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

namespace {
// Device parking-nwave-01 of the shared vectors.
const NwkSKey nwk = *NwkSKey::from_hex("f46614d5caa4d7dcaa4bcce31210127d");
const AppSKey app = *AppSKey::from_hex("02fcbf1521523bd0a9654e1eaaacd84e");
const DevAddr addr = *DevAddr::from_hex("260b1001");

DataFrame uplink(std::uint8_t f_port, Bytes payload) {
    DataFrame f;
    f.m_type = MType::unconfirmed_data_up;
    f.dev_addr = addr;
    f.f_port = f_port;
    f.frm_payload = std::move(payload);
    return f;
}

/// Builds the uplink with counter `f_cnt` and parses it back, as the network server would receive it.
std::pair<Bytes, DataFrame> sent(SessionCrypto& s, std::uint32_t f_cnt) {
    auto phy = build_data_frame(s, uplink(1, hex("95")), f_cnt);
    REQUIRE(phy.ok());
    auto parsed = parse_phy_payload(*phy);
    REQUIRE(parsed.ok());
    return {*phy, std::get<DataFrame>(parsed->body)};
}
}  // namespace

TEST_CASE("an uplink built with the session verifies and decrypts under the same counter", "[unit][session]") {
    SessionCrypto s{nwk, app};
    const auto phy = build_data_frame(s, uplink(1, hex("95")), 0);
    REQUIRE(phy.ok());
    CHECK(to_hex(*phy) == "4001100b2600000001e3571634ab");  // vector F01
}

TEST_CASE("verify_data_uplink: accept, duplicate, replay, forged MIC", "[unit][session]") {
    SessionCrypto s{nwk, app};
    const auto [phy5, f5] = sent(s, 5);

    const auto first = verify_data_uplink(s, f5, phy5, std::nullopt);
    REQUIRE(first.ok());
    CHECK(first->f_cnt == 5U);
    CHECK_FALSE(first->counter_reset);
    CHECK(verify_data_uplink(s, f5, phy5, 4U).ok());

    const auto again = verify_data_uplink(s, f5, phy5, 5U);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().reason == Reject::fcnt_duplicate);

    const auto replay = verify_data_uplink(s, f5, phy5, 9U);
    REQUIRE_FALSE(replay.ok());
    CHECK(replay.error().reason == Reject::mic_mismatch);

    Bytes forged = phy5;
    forged.back() ^= 0x01;
    DataFrame forged_frame = f5;
    forged_frame.mic[3] ^= 0x01;
    const auto bad = verify_data_uplink(s, forged_frame, forged, 4U);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().reason == Reject::mic_mismatch);

    SessionCrypto other{*NwkSKey::from_hex("00000000000000000000000000000001"), app};
    CHECK(verify_data_uplink(other, f5, phy5, 4U).error().reason == Reject::mic_mismatch);
}

TEST_CASE("relaxed counters accept a device that restarted from 0 - strict ones refuse it", "[unit][session]") {
    SessionCrypto s{nwk, app};
    const auto [phy, f] = sent(s, 2);  // the device restarted: it counts 0, 1, 2 again
    const std::uint32_t last = 70000;

    const auto strict = verify_data_uplink(s, f, phy, last, FCntMode::strict);
    REQUIRE_FALSE(strict.ok());
    CHECK(strict.error().reason == Reject::mic_mismatch);

    const auto relaxed = verify_data_uplink(s, f, phy, last, FCntMode::relaxed);
    REQUIRE(relaxed.ok());
    CHECK(relaxed->f_cnt == 2U);
    CHECK(relaxed->counter_reset);

    // An ordinary next frame in relaxed mode is no reset.
    const auto [phy_next, f_next] = sent(s, 70001);
    const auto next = verify_data_uplink(s, f_next, phy_next, last, FCntMode::relaxed);
    REQUIRE(next.ok());
    CHECK(next->f_cnt == 70001U);
    CHECK_FALSE(next->counter_reset);
}

TEST_CASE("a session whose counter reached 2^32 - 1 refuses further frames", "[unit][session]") {
    SessionCrypto s{nwk, app};
    const auto [phy, f] = sent(s, 3);
    const auto r = verify_data_uplink(s, f, phy, 0xffffffffU);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == Reject::fcnt_exhausted);
}

TEST_CASE("FRMPayload keystream follows the A blocks for any length", "[unit][session]") {
    SessionCrypto s{nwk, app};
    Aes128 reference{app.bytes()};
    for (const std::size_t len : {0U, 1U, 15U, 16U, 17U, 242U, 255U, 256U, 257U, 600U}) {
        INFO("length " << len);
        Bytes plain(len);
        for (std::size_t i = 0; i < len; ++i) plain[i] = static_cast<std::uint8_t>(i * 7 + 1);
        const Bytes cipher = s.crypt_frm_payload(9, Direction::downlink, addr, 0x01020304, plain);
        // LoRaWAN 1.0.4 §4.3.3.1, computed here block by block.
        for (std::size_t i = 0; i < len; ++i) {
            Block a{0x01, 0,    0,    0,    0,    0x01, 0x01, 0x10,
                    0x0b, 0x26, 0x04, 0x03, 0x02, 0x01, 0x00, static_cast<std::uint8_t>(i / 16 + 1)};
            const Block key_stream = reference.encrypt(a);
            REQUIRE(cipher[i] == (plain[i] ^ key_stream[i % 16]));
        }
        CHECK(s.crypt_frm_payload(9, Direction::downlink, addr, 0x01020304, cipher) == plain);
    }
}

TEST_CASE("FPort 0 payloads use the NwkSKey, other ports the AppSKey", "[unit][session]") {
    SessionCrypto s{nwk, app};
    SessionCrypto swapped{*NwkSKey::from_hex(to_hex(app.bytes())), *AppSKey::from_hex(to_hex(nwk.bytes()))};
    const Bytes plain = hex("0352ff000106");
    CHECK(s.crypt_frm_payload(0, Direction::downlink, addr, 3, plain) ==
          swapped.crypt_frm_payload(1, Direction::downlink, addr, 3, plain));
    CHECK(s.crypt_frm_payload(0, Direction::downlink, addr, 3, plain) !=
          s.crypt_frm_payload(1, Direction::downlink, addr, 3, plain));
}

TEST_CASE("build_data_frame refuses what cannot be serialized", "[unit][session]") {
    SessionCrypto s{nwk, app};
    DataFrame f = uplink(1, hex("01"));
    f.f_port.reset();
    CHECK(build_data_frame(s, f, 1).error().reason == Reject::field_out_of_range);
    f = uplink(1, hex("01"));
    f.m_type = MType::join_request;
    CHECK(build_data_frame(s, f, 1).error().reason == Reject::field_out_of_range);
}
