// Fuzz target over the frame and MAC-command parsers. Besides "no crash, no read past the end" (ASan/UBSan), it
// checks what must hold for any input: a data frame that parses serializes back to the same bytes, and the MAC
// commands parsed from a byte string serialize back to the part of it that was consumed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lorawan/join.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/phy_payload.hpp"

namespace lw = schwebe::lorawan;

namespace {
void check(bool condition) {
    if (!condition) std::abort();
}

void mac_commands_round_trip(lw::ByteView bytes, lw::Direction dir) {
    const lw::MacCommands parsed = lw::parse_mac_commands(bytes, dir);
    check(parsed.stopped_at <= bytes.size());
    check(parsed.error.has_value() == (parsed.stopped_at < bytes.size()));
    lw::Bytes again;
    std::vector<lw::MacCommand> written;
    for (const lw::MacCommand& c : parsed.commands) {
        check(lw::direction_of(c) == dir);
        // The parser takes reserved values off the air (e.g. LinkCheckAns margin 255); the serializer refuses to
        // send them, and says so.
        const auto r = lw::serialize(c, again);
        check(r.ok() || r.error().reason == lw::Reject::field_out_of_range);
        if (r.ok()) written.push_back(c);
    }
    // RFU bits are dropped by parsing, so compare the re-parse rather than the bytes.
    const lw::MacCommands reparsed = lw::parse_mac_commands(again, dir);
    check(!reparsed.error && reparsed.commands == written);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const lw::ByteView bytes{data, size};

    auto parsed = lw::parse_phy_payload(bytes);
    if (parsed) {
        if (const auto* frame = std::get_if<lw::DataFrame>(&parsed->body)) {
            // MHDR RFU bits and FCtrl bits that do not exist in the frame's direction are dropped; the rest comes back.
            const auto out = lw::serialize(*frame);
            check(out.ok());
            auto reparsed = lw::parse_phy_payload(*out);
            check(reparsed.ok() && std::get<lw::DataFrame>(reparsed->body) == *frame);
            check(out->size() == size);
        } else if (const auto* join = std::get_if<lw::JoinRequest>(&parsed->body)) {
            // MHDR RFU bits (4..2) are not kept; every other byte comes back.
            const lw::Bytes out = lw::serialize(*join);
            check(out.size() == size && out[0] == (data[0] & 0xe3U) &&
                  std::equal(out.begin() + 1, out.end(), data + 1));
        }
    }

    mac_commands_round_trip(bytes, lw::Direction::uplink);
    mac_commands_round_trip(bytes, lw::Direction::downlink);
    (void)lw::parse_join_accept_plain(bytes);
    return 0;
}
