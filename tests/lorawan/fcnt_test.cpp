#include "lorawan/fcnt.hpp"

#include "test_support.hpp"

using namespace schwebe::lorawan;

// The rule of the shared vectors' reference model: fcnt32 = (last & 0xFFFF0000) | fcnt16, plus 0x10000 if that is
// below last; equal to last = the same frame again.
TEST_CASE("32-bit counter reconstruction from the 16 bits on air", "[unit][fcnt]") {
    CHECK(reconstruct_f_cnt(0, std::nullopt) == 0U);
    CHECK(reconstruct_f_cnt(65534, std::nullopt) == 65534U);
    CHECK(reconstruct_f_cnt(4, 3U) == 4U);
    CHECK(reconstruct_f_cnt(3, 3U) == 3U);                 // duplicate: equal to last
    CHECK(reconstruct_f_cnt(1, 3U) == 65537U);             // an old frame is read as the next epoch (F06)
    CHECK(reconstruct_f_cnt(0, 65535U) == 65536U);         // first rollover (F24)
    CHECK(reconstruct_f_cnt(0xffff, 100000U) == 131071U);  // F27, F29
    CHECK(reconstruct_f_cnt(0x93e0, 100000U) == 103392U);  // a jump of more than 2^16 cannot be seen (F28)
    CHECK(reconstruct_f_cnt(0x86a0, 65537U) == 100000U);   // F26
    CHECK(reconstruct_f_cnt(0, 131071U) == 131072U);       // second rollover (F30)
}

TEST_CASE("the 32-bit counter ends at 2^32 - 1", "[unit][fcnt]") {
    CHECK(reconstruct_f_cnt(0xffff, 0xfffffffeU) == 0xffffffffU);
    CHECK(reconstruct_f_cnt(0xffff, 0xffffffffU) == 0xffffffffU);  // equal: the duplicate is still recognised
    CHECK_FALSE(reconstruct_f_cnt(0, 0xffffffffU).has_value());
    CHECK_FALSE(reconstruct_f_cnt(3, 0xffff0005U).has_value());
    CHECK(reconstruct_f_cnt(6, 0xffff0005U) == 0xffff0006U);
}
