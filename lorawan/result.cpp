#include "lorawan/result.hpp"

namespace schwebe::lorawan {

std::string_view to_string(Reject r) noexcept {
    switch (r) {
        case Reject::malformed: return "malformed";
        case Reject::mic_mismatch: return "mic_mismatch";
        case Reject::unsupported_major_version: return "unsupported_major_version";
        case Reject::fport0_with_fopts: return "fport0_with_fopts";
        case Reject::proprietary_mtype_not_supported: return "proprietary_mtype_not_supported";
        case Reject::downlink_mtype_received_on_uplink: return "downlink_mtype_received_on_uplink";
        case Reject::uplink_mtype_received_on_downlink: return "uplink_mtype_received_on_downlink";
        case Reject::fcnt_duplicate: return "fcnt_duplicate";
        case Reject::fcnt_exhausted: return "fcnt_exhausted";
        case Reject::unknown_mac_command: return "unknown_mac_command";
        case Reject::field_out_of_range: return "field_out_of_range";
    }
    return "unknown";
}

}  // namespace schwebe::lorawan
