// Names of the downlink outcomes: ChirpStack's TxAckStatus names (gw.proto), which the MQTT form carries, plus the
// Semtech TX_ACK "NONE" for success (semtech-udp.md §5).

#include "common/messages.hpp"

#include <array>
#include <utility>

namespace schwebe::common {

namespace {

constexpr std::array<std::pair<TxAckStatus, std::string_view>, 12> status_names{{
    {TxAckStatus::ignored, "IGNORED"},
    {TxAckStatus::ok, "OK"},
    {TxAckStatus::too_late, "TOO_LATE"},
    {TxAckStatus::too_early, "TOO_EARLY"},
    {TxAckStatus::collision_packet, "COLLISION_PACKET"},
    {TxAckStatus::collision_beacon, "COLLISION_BEACON"},
    {TxAckStatus::tx_freq, "TX_FREQ"},
    {TxAckStatus::tx_power, "TX_POWER"},
    {TxAckStatus::gps_unlocked, "GPS_UNLOCKED"},
    {TxAckStatus::queue_full, "QUEUE_FULL"},
    {TxAckStatus::internal_error, "INTERNAL_ERROR"},
    {TxAckStatus::duty_cycle_overflow, "DUTY_CYCLE_OVERFLOW"},
}};

}  // namespace

std::string_view to_string(TxAckStatus s) noexcept {
    for (const auto& [status, name] : status_names) {
        if (status == s) return name;
    }
    return "INTERNAL_ERROR";
}

std::optional<TxAckStatus> tx_ack_status_from_string(std::string_view s) noexcept {
    // PROTOCOL.TXT §6 (TX_ACK): "NONE" is the gateway's word for "packet queued".
    if (s == "NONE") return TxAckStatus::ok;
    for (const auto& [status, name] : status_names) {
        if (name == s) return status;
    }
    return std::nullopt;
}

}  // namespace schwebe::common
