#include "network-server/events.hpp"

namespace schwebe::ns {

std::string_view event_type(const Event& event) noexcept {
    struct Name {
        std::string_view operator()(const UplinkEvent&) const { return "up"; }
        std::string_view operator()(const JoinEvent&) const { return "join"; }
        std::string_view operator()(const AckEvent&) const { return "ack"; }
        std::string_view operator()(const TxAckEvent&) const { return "txack"; }
        std::string_view operator()(const StatusEvent&) const { return "status"; }
        std::string_view operator()(const LogEvent&) const { return "log"; }
    };
    return std::visit(Name{}, event);
}

const DeviceInfo& device_info_of(const Event& event) noexcept {
    return std::visit([](const auto& e) -> const DeviceInfo& { return e.device_info; }, event);
}

}  // namespace schwebe::ns
