// The bounds-checked reader and writer, hex conversion, the identifier and key types, and the names of the reject
// reasons. Multi-octet fields are little endian on the air (LoRaWAN 1.0.4 §4); identifiers are held and shown most
// significant byte first.

#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"
#include "test_support.hpp"

using namespace schwebe::lorawan;
using schwebe::test::hex;

// ---- ByteReader ----

TEST_CASE("ByteReader reads little-endian fields in order", "[unit][bytes]") {
    const Bytes data =
        hex("01"
            "0302"
            "060504"
            "0a090807");
    ByteReader r{data};
    CHECK(r.remaining() == 10U);
    CHECK(r.position() == 0U);
    CHECK(r.u8() == std::optional<std::uint8_t>{0x01});
    CHECK(r.u16_le() == std::optional<std::uint16_t>{0x0203});
    CHECK(r.u24_le() == std::optional<std::uint32_t>{0x040506});
    CHECK(r.u32_le() == std::optional<std::uint32_t>{0x0708090a});
    CHECK(r.empty());
    CHECK(r.remaining() == 0U);
    CHECK(r.position() == 10U);
}

TEST_CASE("ByteReader reads a field ending exactly at the end, and not one past it", "[unit][bytes]") {
    SECTION("u8") {
        const Bytes data = hex("ff");
        ByteReader r{data};
        CHECK(r.u8() == std::optional<std::uint8_t>{0xff});
        CHECK(r.empty());
        CHECK_FALSE(r.u8().has_value());
        CHECK(r.position() == 1U);
    }
    SECTION("u16_le") {
        const Bytes data = hex("fffe");
        ByteReader r{data};
        CHECK(r.u16_le() == std::optional<std::uint16_t>{0xfeff});
        CHECK(r.empty());
        CHECK_FALSE(r.u16_le().has_value());

        const Bytes one = hex("aa");
        ByteReader short_reader{one};
        CHECK_FALSE(short_reader.u16_le().has_value());
        CHECK(short_reader.position() == 0U);
        CHECK(short_reader.remaining() == 1U);
        CHECK(short_reader.u8() == std::optional<std::uint8_t>{0xaa});
    }
    SECTION("u24_le") {
        const Bytes data = hex("563412");
        ByteReader r{data};
        CHECK(r.u24_le() == std::optional<std::uint32_t>{0x123456});
        CHECK(r.empty());

        const Bytes two = hex("5634");
        ByteReader short_reader{two};
        CHECK_FALSE(short_reader.u24_le().has_value());
        CHECK(short_reader.remaining() == 2U);
        CHECK(short_reader.u16_le() == std::optional<std::uint16_t>{0x3456});
    }
    SECTION("u32_le") {
        const Bytes data = hex("78563412");
        ByteReader r{data};
        CHECK(r.u32_le() == std::optional<std::uint32_t>{0x12345678});
        CHECK(r.empty());

        const Bytes three = hex("785634");
        ByteReader short_reader{three};
        CHECK_FALSE(short_reader.u32_le().has_value());
        CHECK(short_reader.remaining() == 3U);
        CHECK(short_reader.u24_le() == std::optional<std::uint32_t>{0x345678});
    }
    SECTION("the largest values") {
        const Bytes data = hex("ffffffffffffffffffff");
        ByteReader r{data};
        CHECK(r.u8() == std::optional<std::uint8_t>{0xff});
        CHECK(r.u16_le() == std::optional<std::uint16_t>{0xffff});
        CHECK(r.u24_le() == std::optional<std::uint32_t>{0xffffff});
        CHECK(r.u32_le() == std::optional<std::uint32_t>{0xffffffff});
        CHECK(r.empty());
    }
}

TEST_CASE("ByteReader on empty input returns nullopt for every read", "[unit][bytes]") {
    ByteReader r{ByteView{}};
    CHECK(r.empty());
    CHECK_FALSE(r.u8().has_value());
    CHECK_FALSE(r.u16_le().has_value());
    CHECK_FALSE(r.u24_le().has_value());
    CHECK_FALSE(r.u32_le().has_value());
    CHECK_FALSE(r.take(1).has_value());
    CHECK_FALSE(r.reversed<1>().has_value());
    const auto nothing = r.take(0);
    REQUIRE(nothing.has_value());
    CHECK(nothing->empty());
    CHECK(r.rest().empty());
    CHECK(r.position() == 0U);
}

TEST_CASE("ByteReader take and rest", "[unit][bytes]") {
    const Bytes data = hex("0102030405");
    ByteReader r{data};

    const auto first = r.take(2);
    REQUIRE(first.has_value());
    CHECK(to_hex(*first) == "0102");
    // A view into the input, not a copy.
    CHECK(first->data() == data.data());
    CHECK(r.position() == 2U);

    // One more than remains: nothing is consumed.
    CHECK_FALSE(r.take(4).has_value());
    CHECK(r.position() == 2U);
    CHECK(r.remaining() == 3U);

    const auto exact = r.take(3);
    REQUIRE(exact.has_value());
    CHECK(to_hex(*exact) == "030405");
    CHECK(r.empty());
    CHECK(r.rest().empty());

    ByteReader again{data};
    CHECK(again.u8() == std::optional<std::uint8_t>{0x01});
    const ByteView rest = again.rest();
    CHECK(to_hex(rest) == "02030405");
    CHECK(again.empty());
    CHECK(again.rest().empty());
}

TEST_CASE("ByteReader reversed turns the air's little-endian order around", "[unit][bytes]") {
    // A DevEUI 70b3d57ed0000001 travels as 01 00 00 d0 7e d5 b3 70.
    const Bytes data =
        hex("010000d07ed5b370"
            "ab");
    ByteReader r{data};
    const auto eui = r.reversed<8>();
    REQUIRE(eui.has_value());
    const std::array<std::uint8_t, 8> expected = {0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0x00, 0x00, 0x01};
    CHECK(*eui == expected);
    CHECK(r.position() == 8U);
    // One past the end: nothing consumed.
    CHECK_FALSE(r.reversed<2>().has_value());
    CHECK(r.remaining() == 1U);
    const auto last = r.reversed<1>();
    REQUIRE(last.has_value());
    CHECK((*last)[0] == std::uint8_t{0xab});
    CHECK(r.empty());
}

// ---- ByteWriter ----

TEST_CASE("ByteWriter writes little endian and appends", "[unit][bytes]") {
    Bytes out = hex("ee");
    ByteWriter w{out};
    w.u8(0x01);
    w.u16_le(0x0203);
    w.u24_le(0x040506);
    w.u32_le(0x0708090a);
    w.bytes(hex("beef"));
    w.reversed(std::array<std::uint8_t, 4>{0x26, 0x01, 0x1b, 0xda});
    CHECK(to_hex(out) ==
          "ee"
          "01"
          "0302"
          "060504"
          "0a090807"
          "beef"
          "da1b0126");
}

TEST_CASE("ByteWriter u24_le writes only the low three octets", "[unit][bytes]") {
    Bytes out;
    ByteWriter w{out};
    w.u24_le(0xffffff);
    w.u32_le(0xffffffff);
    w.u16_le(0);
    CHECK(to_hex(out) ==
          "ffffff"
          "ffffffff"
          "0000");
}

TEST_CASE("ByteWriter output reads back through ByteReader", "[unit][bytes]") {
    Bytes out;
    ByteWriter w{out};
    w.u16_le(0xbeef);
    w.u24_le(0x84add2);
    w.u32_le(0xdeadbeef);
    w.reversed(std::array<std::uint8_t, 3>{1, 2, 3});
    ByteReader r{out};
    CHECK(r.u16_le() == std::optional<std::uint16_t>{0xbeef});
    CHECK(r.u24_le() == std::optional<std::uint32_t>{0x84add2});
    CHECK(r.u32_le() == std::optional<std::uint32_t>{0xdeadbeef});
    CHECK(r.reversed<3>() == std::optional<std::array<std::uint8_t, 3>>{std::array<std::uint8_t, 3>{1, 2, 3}});
    CHECK(r.empty());
}

TEST_CASE("put_u16_le, put_u24_le and put_u32_le store little endian", "[unit][bytes]") {
    std::array<std::uint8_t, 9> buf{};
    put_u16_le(buf.data(), 0x1234);
    put_u24_le(buf.data() + 2, 0x56789a);
    put_u32_le(buf.data() + 5, 0xdeadbeef);
    CHECK(to_hex(buf) ==
          "3412"
          "9a7856"
          "efbeadde");
}

// ---- hex ----

TEST_CASE("to_hex writes two lower-case digits per octet", "[unit][bytes]") {
    CHECK(to_hex(ByteView{}).empty());
    const Bytes all = {0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    CHECK(to_hex(all) == "00010f107f80abcdefff");
}

TEST_CASE("from_hex parses either case and refuses anything else", "[unit][bytes]") {
    SECTION("lower and upper case") {
        const auto lower = from_hex("00ff7fab");
        REQUIRE(lower.has_value());
        CHECK(*lower == Bytes{0x00, 0xff, 0x7f, 0xab});
        CHECK(from_hex("00FF7FAB") == lower);
        CHECK(from_hex("00Ff7fAb") == lower);
        CHECK(from_hex("abcdefABCDEF0123456789") ==
              std::optional<Bytes>{Bytes{0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89}});
    }
    SECTION("empty") {
        const auto empty = from_hex("");
        REQUIRE(empty.has_value());
        CHECK(empty->empty());
    }
    SECTION("odd length") {
        CHECK_FALSE(from_hex("0").has_value());
        CHECK_FALSE(from_hex("abc").has_value());
        CHECK_FALSE(from_hex("0102030").has_value());
    }
    SECTION("characters that are not hex digits") {
        CHECK_FALSE(from_hex("0g").has_value());
        CHECK_FALSE(from_hex("g0").has_value());
        CHECK_FALSE(from_hex("zz").has_value());
        CHECK_FALSE(from_hex("0x12").has_value());
        CHECK_FALSE(from_hex("01 02").has_value());
        CHECK_FALSE(from_hex("01:02").has_value());
        CHECK_FALSE(from_hex("01-2").has_value());
        CHECK_FALSE(from_hex(" 0102").has_value());
        CHECK_FALSE(from_hex("0102\n").has_value());
        // The characters either side of the digit and letter ranges in ASCII.
        CHECK_FALSE(from_hex("/0").has_value());
        CHECK_FALSE(from_hex(":0").has_value());
        CHECK_FALSE(from_hex("@0").has_value());
        CHECK_FALSE(from_hex("G0").has_value());
        CHECK_FALSE(from_hex("`0").has_value());
        CHECK_FALSE(from_hex(std::string_view("0\0", 2)).has_value());
    }
    SECTION("round trip over every octet") {
        Bytes all;
        for (unsigned v = 0; v <= 0xff; ++v) all.push_back(static_cast<std::uint8_t>(v));
        CHECK(from_hex(to_hex(all)) == std::optional<Bytes>{all});
    }
}

// ---- Eui64, DevAddr, NetId ----

TEST_CASE("Eui64 from_hex, to_string and the integer form", "[unit][bytes]") {
    const auto eui = Eui64::from_hex("70B3D57ED0000001");
    REQUIRE(eui.has_value());
    const Eui64::Array expected = {0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0x00, 0x00, 0x01};
    CHECK(eui->bytes() == expected);
    CHECK(eui->to_u64() == 0x70b3d57ed0000001ULL);
    CHECK(eui->to_string() == "70b3d57ed0000001");
    CHECK(Eui64::from_hex(eui->to_string()) == eui);
    CHECK(Eui64::from_hex("70b3d57ed0000001") == eui);
    CHECK(*eui == Eui64::from_u64(0x70b3d57ed0000001ULL));

    SECTION("wrong length") {
        CHECK_FALSE(Eui64::from_hex("").has_value());
        CHECK_FALSE(Eui64::from_hex("70b3d57ed00000").has_value());
        CHECK_FALSE(Eui64::from_hex("70b3d57ed000000").has_value());
        CHECK_FALSE(Eui64::from_hex("70b3d57ed00000010").has_value());
        CHECK_FALSE(Eui64::from_hex("70b3d57ed000000100").has_value());
    }
    SECTION("bad characters") {
        CHECK_FALSE(Eui64::from_hex("70b3d57ed000000g").has_value());
        CHECK_FALSE(Eui64::from_hex("70b3d57ed00000 1").has_value());
        CHECK_FALSE(Eui64::from_hex("xyzzy0000000000!").has_value());
    }
}

TEST_CASE("Eui64 from_u64 and to_u64 keep the most significant byte first", "[unit][bytes]") {
    const Eui64 e = Eui64::from_u64(0x0102030405060708ULL);
    const Eui64::Array expected = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(e.bytes() == expected);
    CHECK(e.to_u64() == 0x0102030405060708ULL);
    CHECK(e.to_string() == "0102030405060708");

    for (const std::uint64_t v : {0ULL, 1ULL, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x00ff00ff00ff00ffULL}) {
        INFO(v);
        CHECK(Eui64::from_u64(v).to_u64() == v);
        CHECK(Eui64::from_hex(Eui64::from_u64(v).to_string()) == std::optional<Eui64>{Eui64::from_u64(v)});
    }
    CHECK(Eui64{}.to_u64() == 0U);
    CHECK(Eui64{}.to_string() == "0000000000000000");
    CHECK(Eui64::from_u64(0xffffffffffffffffULL).to_string() == "ffffffffffffffff");
    // Ordered like the integers.
    CHECK(Eui64::from_u64(1) < Eui64::from_u64(0x0100000000000000ULL));
}

TEST_CASE("DevAddr from_hex and to_string", "[unit][bytes]") {
    const auto a = DevAddr::from_hex("26011BDA");
    REQUIRE(a.has_value());
    CHECK(a->value() == 0x26011bdaU);
    CHECK(a->to_string() == "26011bda");
    CHECK(DevAddr::from_hex(a->to_string()) == a);
    CHECK(DevAddr{0}.to_string() == "00000000");
    CHECK(DevAddr{0xffffffff}.to_string() == "ffffffff");
    CHECK(DevAddr{0x00000001}.to_string() == "00000001");
    CHECK(DevAddr::from_hex("00000001") == std::optional<DevAddr>{DevAddr{1}});

    CHECK_FALSE(DevAddr::from_hex("").has_value());
    CHECK_FALSE(DevAddr::from_hex("26011bd").has_value());
    CHECK_FALSE(DevAddr::from_hex("26011bda00").has_value());
    CHECK_FALSE(DevAddr::from_hex("2601").has_value());
    CHECK_FALSE(DevAddr::from_hex("26011bdg").has_value());
    CHECK_FALSE(DevAddr::from_hex("0x011bda").has_value());
}

TEST_CASE("NetId from_hex and to_string: 24 bits", "[unit][bytes]") {
    const auto n = NetId::from_hex("000013");
    REQUIRE(n.has_value());
    CHECK(n->value() == 0x000013U);
    CHECK(n->to_string() == "000013");
    CHECK(NetId::from_hex(n->to_string()) == n);
    CHECK(NetId::from_hex("C0002F") == std::optional<NetId>{NetId{0xc0002f}});
    CHECK(NetId{0xc0002f}.to_string() == "c0002f");
    // The constructor keeps only 24 bits.
    CHECK(NetId{0xff123456}.value() == 0x123456U);

    CHECK_FALSE(NetId::from_hex("").has_value());
    CHECK_FALSE(NetId::from_hex("00001").has_value());
    CHECK_FALSE(NetId::from_hex("0000130").has_value());
    CHECK_FALSE(NetId::from_hex("00000013").has_value());
    CHECK_FALSE(NetId::from_hex("00001x").has_value());
}

// ---- keys ----

TEST_CASE("Key from_hex keeps the 16 octets in order", "[unit][bytes]") {
    const auto k = NwkSKey::from_hex("2B7E151628AED2A6ABF7158809CF4F3C");
    REQUIRE(k.has_value());
    const NwkSKey::Array expected = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                     0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    CHECK(k->bytes() == expected);
    CHECK(NwkSKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c") == k);

    CHECK_FALSE(AppKey::from_hex("").has_value());
    CHECK_FALSE(AppKey::from_hex("2b7e151628aed2a6abf7158809cf4f3").has_value());
    CHECK_FALSE(AppKey::from_hex("2b7e151628aed2a6abf7158809cf4f").has_value());
    CHECK_FALSE(AppKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c00").has_value());
    CHECK_FALSE(AppSKey::from_hex("2b7e151628aed2a6abf7158809cf4f3g").has_value());
    CHECK_FALSE(AppSKey::from_hex("2b7e151628aed2a6 abf7158809cf4f3").has_value());
}

TEST_CASE("Key redacted names the role and never the material", "[unit][bytes]") {
    const std::string key_hex = "2b7e151628aed2a6abf7158809cf4f3c";
    const auto nwk = NwkSKey::from_hex(key_hex);
    const auto app_s = AppSKey::from_hex(key_hex);
    const auto app = AppKey::from_hex(key_hex);
    REQUIRE(nwk.has_value());
    REQUIRE(app_s.has_value());
    REQUIRE(app.has_value());

    const std::string redactions[] = {std::string(nwk->redacted()), std::string(app_s->redacted()),
                                      std::string(app->redacted())};
    for (const std::string& r : redactions) {
        INFO(r);
        CHECK(r.find(key_hex) == std::string::npos);
        CHECK(r.find("2B7E1516") == std::string::npos);
        CHECK(r.find("2b7e") == std::string::npos);
        CHECK(r.find("redacted") != std::string::npos);
    }
    CHECK(redactions[0].find("nwk_s_key") != std::string::npos);
    CHECK(redactions[1].find("app_s_key") != std::string::npos);
    CHECK(redactions[2].find("app_key") != std::string::npos);
}

// ---- Reject ----

TEST_CASE("Reject to_string names every reason as the shared vectors do", "[unit][bytes]") {
    const std::pair<Reject, std::string_view> names[] = {
        {Reject::malformed, "malformed"},
        {Reject::mic_mismatch, "mic_mismatch"},
        {Reject::unsupported_major_version, "unsupported_major_version"},
        {Reject::fport0_with_fopts, "fport0_with_fopts"},
        {Reject::proprietary_mtype_not_supported, "proprietary_mtype_not_supported"},
        {Reject::downlink_mtype_received_on_uplink, "downlink_mtype_received_on_uplink"},
        {Reject::uplink_mtype_received_on_downlink, "uplink_mtype_received_on_downlink"},
        {Reject::fcnt_duplicate, "fcnt_duplicate"},
        {Reject::fcnt_exhausted, "fcnt_exhausted"},
        {Reject::unknown_mac_command, "unknown_mac_command"},
        {Reject::field_out_of_range, "field_out_of_range"},
    };
    std::set<std::string_view> seen;
    for (const auto& [reason, name] : names) {
        INFO(name);
        CHECK(to_string(reason) == name);
        seen.insert(to_string(reason));
    }
    // Distinct names: a log line or vector reason identifies one enumerator.
    CHECK(seen.size() == std::size(names));
}
