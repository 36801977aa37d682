#include "lorawan/join.hpp"

#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

namespace {
// Device otaa-am307-01 of the shared vectors.
const AppKey app_key = *AppKey::from_hex("91bd6f4b9ada201a552cee1676ff94b2");

JoinAccept sample_accept() {
    JoinAccept a;
    a.join_nonce = 0xabcdef;
    a.net_id = NetId{0x000013};
    a.dev_addr = DevAddr{0x26000101};
    a.dl_settings = {2, 3};
    a.rx_delay = 5;
    return a;
}
}  // namespace

TEST_CASE("join-request MIC verifies with the AppKey and fails without it", "[unit][join]") {
    JoinCrypto crypto{app_key};
    auto parsed = parse_phy_payload(hex("0001ffff9c49d5b3700100009c49d5b3700100c2e7f97b"));  // F32
    REQUIRE(parsed.ok());
    const auto& request = std::get<JoinRequest>(parsed->body);
    CHECK(crypto.verify_join_request(request).ok());
    CHECK(to_hex(crypto.join_request_mic(request)) == "c2e7f97b");

    JoinCrypto wrong{*AppKey::from_hex("91bd6f4b9ada201a552cee1676ff94b3")};
    CHECK(wrong.verify_join_request(request).error().reason == Reject::mic_mismatch);

    JoinRequest tampered = request;
    tampered.dev_nonce = 2;
    CHECK(crypto.verify_join_request(tampered).error().reason == Reject::mic_mismatch);
}

TEST_CASE("join-accept without CFList: 17 bytes, opened by the device", "[unit][join]") {
    JoinCrypto crypto{app_key};
    const auto phy = crypto.build_join_accept(sample_accept());
    REQUIRE(phy.ok());
    REQUIRE(phy->size() == 17U);
    CHECK((*phy)[0] == 0x20);
    const auto parsed = parse_phy_payload(*phy);
    REQUIRE(parsed.ok());
    const auto opened = crypto.open_join_accept(std::get<EncryptedJoinAccept>(parsed->body));
    REQUIRE(opened.ok());
    CHECK(opened->join_nonce == 0xabcdefU);
    CHECK(opened->net_id == NetId{0x13});
    CHECK(opened->dev_addr == DevAddr{0x26000101});
    CHECK(opened->dl_settings == DlSettings{2, 3});
    CHECK(opened->rx_delay == 5);
    CHECK_FALSE(opened->cf_list.has_value());

    // Plain layout: | MHDR | JoinNonce LE | NetID LE | DevAddr LE | DLSettings | RxDelay | MIC |
    auto plain_accept = *opened;
    const auto plain = serialize_plain(plain_accept);
    REQUIRE(plain.ok());
    CHECK(to_hex(ByteView{*plain}.first(13)) == "20efcdab130000010100262305");
}

TEST_CASE("a join-accept under another AppKey or with a flipped bit is refused", "[unit][join]") {
    JoinCrypto crypto{app_key};
    auto phy = crypto.build_join_accept(sample_accept());
    REQUIRE(phy.ok());
    JoinCrypto other{*AppKey::from_hex("00000000000000000000000000000000")};
    const EncryptedJoinAccept enc{Bytes(phy->begin() + 1, phy->end())};
    CHECK(other.open_join_accept(enc).error().reason == Reject::mic_mismatch);
    EncryptedJoinAccept flipped = enc;
    flipped.ciphertext[3] ^= 0x40;
    CHECK(crypto.open_join_accept(flipped).error().reason == Reject::mic_mismatch);
    CHECK(crypto.open_join_accept(EncryptedJoinAccept{Bytes(15)}).error().reason == Reject::malformed);
}

TEST_CASE("join-accept fields out of range are refused when building", "[unit][join]") {
    JoinCrypto crypto{app_key};
    JoinAccept a = sample_accept();
    a.join_nonce = 0x1000000;
    CHECK(crypto.build_join_accept(a).error().reason == Reject::field_out_of_range);
    a = sample_accept();
    a.rx_delay = 16;
    CHECK(crypto.build_join_accept(a).error().reason == Reject::field_out_of_range);
    a = sample_accept();
    a.dl_settings.rx1_dr_offset = 8;
    CHECK(crypto.build_join_accept(a).error().reason == Reject::field_out_of_range);
    a = sample_accept();
    a.cf_list = CfList{{867'100'050, 0, 0, 0, 0}};
    CHECK(crypto.build_join_accept(a).error().reason == Reject::field_out_of_range);
}

TEST_CASE("plain join-accept parsing refuses wrong lengths, MTypes and CFList types", "[unit][join]") {
    JoinAccept a = sample_accept();
    a.cf_list = CfList{{867'100'000, 867'300'000, 0, 0, 0}};
    auto plain = serialize_plain(a);
    REQUIRE(plain.ok());
    REQUIRE(plain->size() == 33U);
    const auto back = parse_join_accept_plain(*plain);
    REQUIRE(back.ok());
    CHECK(*back == a);

    for (std::size_t n = 0; n < plain->size(); ++n) {
        if (n == 17) continue;
        CHECK(parse_join_accept_plain(ByteView{*plain}.first(n)).error().reason == Reject::malformed);
    }
    Bytes wrong_type = *plain;
    wrong_type[28] = 0x01;  // CFListType: channel-mask list (not EU868)
    CHECK(parse_join_accept_plain(wrong_type).error().reason == Reject::malformed);
    Bytes wrong_mtype = *plain;
    wrong_mtype[0] = 0x40;
    CHECK(parse_join_accept_plain(wrong_mtype).error().reason == Reject::malformed);
    Bytes wrong_major = *plain;
    wrong_major[0] = 0x21;
    CHECK(parse_join_accept_plain(wrong_major).error().reason == Reject::unsupported_major_version);
}

TEST_CASE("RxDelay 0 on the air reads as 0 (meaning 1 s) and RFU bits are ignored", "[unit][join]") {
    JoinAccept a = sample_accept();
    a.rx_delay = 0;
    auto plain = serialize_plain(a);
    REQUIRE(plain.ok());
    (*plain)[12] |= 0xf0;  // RFU bits of RxDelay
    const auto back = parse_join_accept_plain(*plain);
    REQUIRE(back.ok());
    CHECK(back->rx_delay == 0);
}
