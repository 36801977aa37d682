#include "lorawan/phy_payload.hpp"

#include <random>

#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

namespace {
// Valid frames of each kind from the shared vectors.
const char* const data_up_with_fopts = "4001100b26020300020d03330c6657bed8ac6e1f";                     // F04
const char* const data_up_fopts_only = "4001100b2602050003077f5c0619";                                 // F11
const char* const confirmed_down = "a001100b260002000a7c19eb69fe1e4b";                                 // DL3
const char* const join_request = "0001ffff9c49d5b3700100009c49d5b3700100c2e7f97b";                     // F32
const char* const join_accept = "20ae5b1bca5b9ef3934bf726c0a6e1c02aefe6a7740127473a15d63ff9d8ef5223";  // J-ACCEPT
}  // namespace

TEST_CASE("MHDR carries MType in bits 7..5 and Major in bits 1..0", "[unit][phy]") {
    CHECK(Mhdr::decode(0x40) == Mhdr{MType::unconfirmed_data_up, 0});
    CHECK(Mhdr::decode(0x80) == Mhdr{MType::confirmed_data_up, 0});
    CHECK(Mhdr::decode(0xa0) == Mhdr{MType::confirmed_data_down, 0});
    CHECK(Mhdr::decode(0x41) == Mhdr{MType::unconfirmed_data_up, 1});
    CHECK(Mhdr::decode(0xe3) == Mhdr{MType::proprietary, 3});
    CHECK(Mhdr{MType::join_accept, 0}.encode() == 0x20);
    CHECK(Mhdr{MType::unconfirmed_data_down, 0}.encode() == 0x60);
}

TEST_CASE("FCtrl bits mean different things up and down", "[unit][phy]") {
    const FCtrl up = FCtrl::decode(0xf5, Direction::uplink);
    CHECK(up.adr);
    CHECK(up.adr_ack_req);
    CHECK(up.ack);
    CHECK(up.class_b);
    CHECK_FALSE(up.f_pending);
    const FCtrl down = FCtrl::decode(0xf5, Direction::downlink);
    CHECK(down.adr);
    CHECK_FALSE(down.adr_ack_req);  // RFU downlink
    CHECK(down.ack);
    CHECK(down.f_pending);
    CHECK_FALSE(down.class_b);
    CHECK(up.encode(Direction::uplink, 5) == 0xf5);
    CHECK(down.encode(Direction::downlink, 5) == 0xb5);
    // A bit that does not exist in a direction is not written.
    CHECK(FCtrl{false, true, false, true, false}.encode(Direction::uplink, 0) == 0x40);
    CHECK(FCtrl{false, true, false, true, false}.encode(Direction::downlink, 0) == 0x10);
}

TEST_CASE("a data uplink parses into its header fields", "[unit][phy]") {
    const auto parsed = parse_phy_payload(hex(data_up_with_fopts));
    REQUIRE(parsed.ok());
    CHECK(parsed->mhdr == Mhdr{MType::unconfirmed_data_up, 0});
    const auto& f = std::get<DataFrame>(parsed->body);
    CHECK(f.dev_addr == DevAddr{0x260b1001});
    CHECK(f.f_cnt_16 == 3);
    CHECK(to_hex(f.f_opts.view()) == "020d");
    CHECK(f.f_port == std::uint8_t{3});
    CHECK(to_hex(f.frm_payload) == "330c6657be");
    CHECK(to_hex(f.mic) == "d8ac6e1f");
    CHECK(f.direction() == Direction::uplink);
    CHECK_FALSE(f.confirmed());
}

TEST_CASE("a frame with FOpts and no FPort has no payload", "[unit][phy]") {
    const auto parsed = parse_phy_payload(hex(data_up_fopts_only));
    REQUIRE(parsed.ok());
    const auto& f = std::get<DataFrame>(parsed->body);
    CHECK_FALSE(f.f_port.has_value());
    CHECK(f.frm_payload.empty());
    CHECK(to_hex(f.f_opts.view()) == "0307");
}

TEST_CASE("an FPort with an empty FRMPayload is kept", "[unit][phy]") {
    // MHDR 40 | DevAddr 01020304 | FCtrl 00 | FCnt 0100 | FPort 07 | MIC
    const auto parsed =
        parse_phy_payload(hex("4004030201000100"
                              "07"
                              "aabbccdd"));
    REQUIRE(parsed.ok());
    const auto& f = std::get<DataFrame>(parsed->body);
    CHECK(f.f_port == std::uint8_t{7});
    CHECK(f.frm_payload.empty());
    CHECK(f.f_cnt_16 == 1);
}

TEST_CASE("join-request and join-accept parse", "[unit][phy]") {
    const auto jr = parse_phy_payload(hex(join_request));
    REQUIRE(jr.ok());
    const auto& j = std::get<JoinRequest>(jr->body);
    CHECK(j.join_eui.to_string() == "70b3d5499cffff01");
    CHECK(j.dev_eui.to_string() == "70b3d5499c000001");
    CHECK(j.dev_nonce == 1);
    CHECK(to_hex(j.mic) == "c2e7f97b");

    const auto ja = parse_phy_payload(hex(join_accept));
    REQUIRE(ja.ok());
    CHECK(std::get<EncryptedJoinAccept>(ja->body).ciphertext.size() == 32U);
}

TEST_CASE("proprietary frames are recognised and kept whole", "[unit][phy]") {
    const auto p = parse_phy_payload(hex("e0010203"));
    REQUIRE(p.ok());
    CHECK(to_hex(std::get<Proprietary>(p->body).payload) == "010203");
    CHECK(to_hex(serialize(std::get<Proprietary>(p->body))) == "e0010203");
    CHECK(parse_phy_payload(hex("e0")).ok());
}

TEST_CASE("refusals name their reason", "[unit][phy]") {
    CHECK(parse_phy_payload(Bytes{}).error().reason == Reject::malformed);
    CHECK(parse_phy_payload(hex("4102100b26000b0001e9ba4b1a91d8aa")).error().reason ==
          Reject::unsupported_major_version);
    CHECK(parse_phy_payload(hex("c002100b26000b0001e9ba4b1a91d8aa")).error().reason == Reject::malformed);  // MType 6
    CHECK(parse_phy_payload(hex("4001100b260105000200fecc3e58a7")).error().reason == Reject::fport0_with_fopts);
    CHECK(parse_phy_payload(hex("4002100b260f0b0001e9ba4b4d5928ac")).error().reason == Reject::malformed);
    // 22 and 24 bytes of join-request, 16/18/32/34 bytes of join-accept
    CHECK(parse_phy_payload(hex("0001ffff9c49d5b3700100009c49d5b37002004100f0")).error().reason == Reject::malformed);
    CHECK(parse_phy_payload(hex(std::string(join_request) + "00")).error().reason == Reject::malformed);
    const Bytes ja = hex(join_accept);
    for (const std::size_t n : {16U, 18U, 32U}) {
        CHECK(parse_phy_payload(ByteView{ja}.first(n)).error().reason == Reject::malformed);
    }
    Bytes ja_long = ja;
    ja_long.push_back(0);
    CHECK(parse_phy_payload(ja_long).error().reason == Reject::malformed);
}

TEST_CASE("every truncation of a valid frame is refused as malformed, never read past", "[unit][phy]") {
    for (const char* frame : {data_up_with_fopts, data_up_fopts_only, confirmed_down, join_request, join_accept}) {
        const Bytes full = hex(frame);
        INFO(frame);
        for (std::size_t n = 0; n < full.size(); ++n) {
            // Copy into an exact-size buffer so that a read past the end is caught by the sanitizer build.
            const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            const auto r = parse_phy_payload(prefix);
            // A data frame cut inside FRMPayload is still a well-formed (shorter) frame; anything shorter than the
            // header and MIC, or cut inside FOpts, is not.
            const bool data = (full[0] >> 5) >= 2;
            const std::size_t f_opts_len = data ? (full[5] & 0x0fU) : 0;
            const bool join_accept_without_cf_list = (full[0] >> 5) == 1 && n == 17;
            const bool may_parse = (data && n >= 12 + f_opts_len) || join_accept_without_cf_list;
            if (!may_parse) {
                REQUIRE_FALSE(r.ok());
                CHECK(r.error().reason == Reject::malformed);
            }
        }
    }
}

TEST_CASE("garbage never crashes the parser", "[unit][phy]") {
    std::mt19937 rng{20261121};
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(0, 64);
    int ok = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes b(length(rng));
        for (auto& x : b) x = static_cast<std::uint8_t>(byte(rng));
        const auto r = parse_phy_payload(b);
        if (r.ok()) {
            ++ok;
        } else {
            CHECK_FALSE(to_string(r.error().reason).empty());
        }
    }
    CHECK(ok > 0);
}

TEST_CASE("serialize then parse gives the same frame", "[unit][phy]") {
    DataFrame f;
    f.m_type = MType::confirmed_data_down;
    f.dev_addr = DevAddr{0xfedcba98};
    f.f_ctrl = FCtrl{true, false, true, true, false};
    f.f_cnt_16 = 0xbeef;
    f.f_opts = *FOpts::from(hex("0102030405060708090a0b0c0d0e0f"));
    f.f_port = 224;
    f.frm_payload = hex("00112233");
    f.mic = {1, 2, 3, 4};
    const auto bytes = serialize(f);
    REQUIRE(bytes.ok());
    CHECK(bytes->size() == 1 + 7 + 15 + 1 + 4 + 4U);
    const auto back = parse_phy_payload(*bytes);
    REQUIRE(back.ok());
    CHECK(std::get<DataFrame>(back->body) == f);

    JoinRequest j{Eui64::from_u64(0x0102030405060708), Eui64::from_u64(0x1112131415161718), 0xabcd, {9, 8, 7, 6}};
    const Bytes jb = serialize(j);
    CHECK(to_hex(jb) ==
          "00"
          "0807060504030201"
          "1817161514131211"
          "cdab"
          "09080706");
    CHECK(std::get<JoinRequest>(parse_phy_payload(jb)->body) == j);

    for (const char* frame : {data_up_with_fopts, data_up_fopts_only, confirmed_down}) {
        const auto p = parse_phy_payload(hex(frame));
        REQUIRE(p.ok());
        CHECK(to_hex(*serialize(std::get<DataFrame>(p->body))) == frame);
    }
    const auto ja = parse_phy_payload(hex(join_accept));
    CHECK(to_hex(serialize(std::get<EncryptedJoinAccept>(ja->body))) == join_accept);
}

TEST_CASE("FOpts holds at most 15 bytes", "[unit][phy]") {
    CHECK(FOpts::from(Bytes(15)).has_value());
    CHECK_FALSE(FOpts::from(Bytes(16)).has_value());
}

TEST_CASE("the uplink gate lets only join-requests and data-up through", "[unit][phy]") {
    CHECK(require_uplink(MType::join_request).ok());
    CHECK(require_uplink(MType::unconfirmed_data_up).ok());
    CHECK(require_uplink(MType::confirmed_data_up).ok());
    CHECK(require_uplink(MType::join_accept).error().reason == Reject::downlink_mtype_received_on_uplink);
    CHECK(require_uplink(MType::unconfirmed_data_down).error().reason == Reject::downlink_mtype_received_on_uplink);
    CHECK(require_uplink(MType::confirmed_data_down).error().reason == Reject::downlink_mtype_received_on_uplink);
    CHECK(require_uplink(MType::proprietary).error().reason == Reject::proprietary_mtype_not_supported);
    CHECK(require_uplink(MType::rfu).error().reason == Reject::malformed);
}

TEST_CASE("MType names round-trip", "[unit][phy]") {
    for (int m = 0; m < 8; ++m) {
        const auto t = static_cast<MType>(m);
        CHECK(m_type_from_string(to_string(t)) == t);
    }
    CHECK_FALSE(m_type_from_string("data_up").has_value());
}
