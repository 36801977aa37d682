// DevAddr allocation under a NetID against LoRaWAN Backend Interfaces 1.0 §13. The expected addresses are worked
// out by hand from the table of lorawan/net_id.hpp (prefix | NwkID | NwkAddr), not taken from the implementation.

#include "lorawan/net_id.hpp"

#include <cstdint>
#include <string>

#include "test_support.hpp"

using namespace schwebe::lorawan;

TEST_CASE("NetID type and NwkAddr width follow the table of §13", "[unit][net_id]") {
    // The type is the NetID's top 3 bits; the NwkAddr gets what prefix (type + 1 bits) and NwkID leave of 32 bits.
    struct Row {
        std::uint32_t net_id;
        std::uint8_t type;
        std::uint8_t nwk_addr_bits;
    };
    const Row rows[] = {
        {0x000013, 0, 25},  // 32 − 1 − 6
        {0x200005, 1, 24},  // 32 − 2 − 6
        {0x400000, 2, 20},  // 32 − 3 − 9
        {0x6002ab, 3, 18},  // 32 − 4 − 10
        {0x800000, 4, 16},  // 32 − 5 − 11
        {0xa00000, 5, 13},  // 32 − 6 − 13
        {0xc05a5a, 6, 10},  // 32 − 7 − 15
        {0xe00000, 7, 7},   // 32 − 8 − 17
    };
    for (const Row& r : rows) {
        INFO("NetID " << NetId{r.net_id}.to_string());
        CHECK(net_id_type(NetId{r.net_id}) == r.type);
        CHECK(nwk_addr_bits(NetId{r.net_id}) == r.nwk_addr_bits);
    }
}

TEST_CASE("type 0: NetID 000013 gives the DevAddr of the shared join-accept vector", "[unit][net_id]") {
    // prefix 0 (1 bit) | NwkID 0x13 = 010011 (6 bits) | NwkAddr 0x000101 (25 bits)
    // 0 010011 0000000000000000100000001 = 0010 0110 0000 0000 0000 0001 0000 0001 = 0x26000101
    const NetId net_id{0x000013};
    CHECK(dev_addr_for(net_id, 0x000101) == DevAddr{0x26000101});

    // The same, read from the vector file: the join-accept J-ACCEPT assigns DevAddr 26000101 under NetID 000013.
    const auto vectors = schwebe::test::load_vectors("lorawan-frames.json");
    bool found = false;
    for (const auto& frame : vectors["frames"]) {
        if (frame["id"] != "J-ACCEPT") continue;
        found = true;
        const auto vector_net_id = NetId::from_hex(frame["fields"]["NetID"].get<std::string>());
        const auto vector_dev_addr = DevAddr::from_hex(frame["fields"]["DevAddr"].get<std::string>());
        REQUIRE(vector_net_id.has_value());
        REQUIRE(vector_dev_addr.has_value());
        CHECK(dev_addr_for(*vector_net_id, 0x000101) == *vector_dev_addr);
        CHECK(dev_addr_belongs_to(*vector_dev_addr, *vector_net_id));
    }
    CHECK(found);
}

TEST_CASE("type 0: NetID 000000 owns 00000000..01ffffff", "[unit][net_id]") {
    // prefix 0 | NwkID 000000 | 25 bits of NwkAddr: 0x00000000 .. 0x01ffffff (2^25 − 1).
    const NetId net_id{0x000000};
    CHECK(dev_addr_for(net_id, 0) == DevAddr{0x00000000});
    CHECK(dev_addr_for(net_id, 0x01ffffff) == DevAddr{0x01ffffff});
    CHECK(dev_addr_belongs_to(DevAddr{0x00000000}, net_id));
    CHECK(dev_addr_belongs_to(DevAddr{0x01ffffff}, net_id));
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0x02000000}, net_id));  // NwkID 000001
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0x80000000}, net_id));  // prefix 1: not type 0
}

TEST_CASE("type 1: prefix 10, 6-bit NwkID, 24-bit NwkAddr", "[unit][net_id]") {
    // NetID 0x200005 = 001 0 0000 0000 0000 0000 0101: type 1, NwkID = low 6 bits = 000101.
    // prefix 10 (2 bits) | NwkID 000101 (6 bits) | NwkAddr 0x123456 (24 bits)
    // 10 000101 = 1000 0101 = 0x85 in the top byte, then 0x123456: 0x85123456
    const NetId net_id{0x200005};
    CHECK(dev_addr_for(net_id, 0x123456) == DevAddr{0x85123456});
    CHECK(dev_addr_belongs_to(DevAddr{0x85000000}, net_id));
    CHECK(dev_addr_belongs_to(DevAddr{0x85ffffff}, net_id));
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0x86000000}, net_id));  // NwkID 000110
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0x05123456}, net_id));  // prefix 0: a type-0 address
}

TEST_CASE("type 3: prefix 1110, 10-bit NwkID, 18-bit NwkAddr", "[unit][net_id]") {
    // NetID 0x6002ab = 011 0 0000 0000 0010 1010 1011: type 3, NwkID = low 10 bits = 10 1010 1011 (0x2ab).
    // prefix 1110 (4 bits) | NwkID 1010101011 (10 bits) | NwkAddr 0x2beef = 10 1011 1110 1110 1111 (18 bits)
    // 1110 1010 1010 1110 1011 1110 1110 1111 = 0xeaaebeef
    const NetId net_id{0x6002ab};
    CHECK(dev_addr_for(net_id, 0x2beef) == DevAddr{0xeaaebeef});
    CHECK(dev_addr_belongs_to(DevAddr{0xeaaebeef}, net_id));
    // The first and last address of the block: NwkAddr 0 and 2^18 − 1.
    CHECK(dev_addr_for(net_id, 0) == DevAddr{0xeaac0000});
    CHECK(dev_addr_for(net_id, 0x3ffff) == DevAddr{0xeaafffff});
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0xeab00000}, net_id));  // NwkID 0x2ac
}

TEST_CASE("type 6: prefix 1111110, 15-bit NwkID, 10-bit NwkAddr", "[unit][net_id]") {
    // NetID 0xc05a5a = 110 0 0000 0101 1010 0101 1010: type 6, NwkID = low 15 bits = 101 1010 0101 1010 (0x5a5a).
    // prefix 1111110 (7 bits) | NwkID 101101001011010 (15 bits) | NwkAddr 0x155 = 01 0101 0101 (10 bits)
    // 1111 1101 0110 1001 0110 1001 0101 0101 = 0xfd696955
    const NetId net_id{0xc05a5a};
    CHECK(dev_addr_for(net_id, 0x155) == DevAddr{0xfd696955});
    CHECK(dev_addr_belongs_to(DevAddr{0xfd696955}, net_id));
    CHECK(dev_addr_belongs_to(DevAddr{0xfd696800}, net_id));        // NwkAddr 0
    CHECK(dev_addr_belongs_to(DevAddr{0xfd696bff}, net_id));        // NwkAddr 0x3ff
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0xfd696c00}, net_id));  // NwkID 0x5a5b
    CHECK_FALSE(dev_addr_belongs_to(DevAddr{0xfe000000}, net_id));  // prefix 1111111: type 7
}

TEST_CASE("a NwkAddr wider than the block is cut to its low bits", "[unit][net_id]") {
    // Type 0: 25 bits, so 0xffffffff keeps 0x01ffffff under NwkID 0x13: 0x26000000 | 0x01ffffff.
    CHECK(dev_addr_for(NetId{0x000013}, 0xffffffff) == DevAddr{0x27ffffff});
    // Type 6: 10 bits, so 0x12345 (1 0010 0011 0100 0101) keeps 0x345.
    CHECK(dev_addr_for(NetId{0xc05a5a}, 0x12345) == DevAddr{0xfd696b45});
    // Whatever the NwkAddr, the result stays in the NetID's block.
    for (const std::uint32_t nwk_addr : {0U, 1U, 0x00ffffffU, 0x7fffffffU, 0xffffffffU}) {
        for (const std::uint32_t net_id : {0x000013U, 0x200005U, 0x6002abU, 0xc05a5aU, 0xe1ffffU}) {
            INFO("NetID " << std::hex << net_id << " NwkAddr " << nwk_addr);
            CHECK(dev_addr_belongs_to(dev_addr_for(NetId{net_id}, nwk_addr), NetId{net_id}));
        }
    }
}

TEST_CASE("a DevAddr of one NetID does not belong to another", "[unit][net_id]") {
    const DevAddr vector_addr{0x26000101};  // NetID 000013
    CHECK(dev_addr_belongs_to(vector_addr, NetId{0x000013}));
    CHECK_FALSE(dev_addr_belongs_to(vector_addr, NetId{0x000012}));  // NwkID 010010: 0x24……
    CHECK_FALSE(dev_addr_belongs_to(vector_addr, NetId{0x200013}));  // type 1 needs prefix 10
    // Only the NwkID bits of the NetID count: 0x000053 has the same low 6 bits (010011) as 0x000013.
    CHECK(dev_addr_belongs_to(vector_addr, NetId{0x000053}));
}
