#pragma once
// `schwebe sim`: the simulated city (sim/city.hpp) on the air. Each device sends its payloads as LoRaWAN 1.0.3
// frames (ABP, or OTAA after a join it performs), each gateway in range forwards what it demodulates over Semtech
// UDP like the reference packet forwarder (two sockets, PULL_DATA keepalives, stat reports), and every PULL_RESP
// the server sends is checked as the device would see it: the frame must be for a device that just spoke through
// that gateway, verify under its keys, and be timed for its RX1 or RX2 window (txpk.tmst = the uplink's tmst + the
// receive delay, on that window's frequency and data rate) and arrive before that time. The device then applies
// the MAC commands (ADR, status, channels, RX settings) and answers them in its next uplink.
//
// Simulated time runs `speed` times faster than the wall clock; the gateways' counters (tmst) run on the wall
// clock, as the server's RX windows do, so timing checks hold at any speed.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/city.hpp"

namespace schwebe::sim {

struct SimOptions {
    boost::asio::ip::udp::endpoint server;
    double speed = 60;  ///< simulated seconds per wall-clock second
    /// Send, after the traffic, a replayed frame, a frame with a forged MIC and a malformed datagram; the ground
    /// truth lists them (the server must refuse exactly these).
    bool plant = false;
    std::chrono::milliseconds keepalive{5000};         ///< PULL_DATA interval of each gateway (wall clock)
    std::chrono::milliseconds stats_interval{30000};   ///< stat reports (wall clock)
    std::chrono::milliseconds linger{3000};            ///< after the last frame, for downlinks and acknowledgements
    std::chrono::milliseconds progress_interval{250};  ///< how often `progress` is called
};

struct SimSummary {
    std::uint64_t frames = 0;           ///< uplink frames the devices sent (data and join)
    std::uint64_t frames_heard = 0;     ///< heard by at least one gateway
    std::uint64_t frames_unheard = 0;   ///< heard by none (out of range, or the random loss)
    std::uint64_t join_requests = 0;
    std::uint64_t joins_accepted = 0;
    std::uint64_t devices_joined = 0;   ///< OTAA devices with a session at the end
    std::uint64_t otaa_devices = 0;
    std::uint64_t push_data = 0;        ///< PUSH_DATA datagrams sent (one per frame and gateway, and duplicates)
    std::uint64_t push_acks = 0;
    std::uint64_t lost = 0;             ///< PUSH_DATA without PUSH_ACK at the end
    std::uint64_t duplicates = 0;       ///< copies a gateway forwarded twice
    std::uint64_t pull_data = 0;
    std::uint64_t pull_acks = 0;
    std::uint64_t stats = 0;
    std::uint64_t downlinks = 0;        ///< PULL_RESP received
    std::uint64_t rx1 = 0;              ///< downlinks that landed in RX1
    std::uint64_t rx2 = 0;
    std::uint64_t rx1_too_late = 0;     ///< RX1 offers answered TOO_LATE (the server then offers RX2: not a miss)
    std::uint64_t rx_window_misses = 0; ///< downlinks no device could receive (the reasons below)
    std::map<std::string, std::uint64_t> miss_reasons;
    std::uint64_t tx_acks = 0;
    std::uint64_t mac_commands = 0;     ///< MAC commands the devices received and applied
    std::uint64_t planted = 0;
    double sim_seconds = 0;
    double wall_seconds = 0;

    [[nodiscard]] nlohmann::json to_json() const;
};

struct Progress {
    double fraction = 0;  ///< of the simulated duration
    SimTime now;
    const SimSummary* summary = nullptr;
};

class CitySim {
public:
    CitySim(boost::asio::io_context& io, const City& city, const CityOptions& city_options, SimOptions options);
    ~CitySim();
    CitySim(const CitySim&) = delete;
    CitySim& operator=(const CitySim&) = delete;

    /// Runs the simulated duration, then `linger`; returns the summary. `progress` may be empty.
    SimSummary run(const std::function<void(const Progress&)>& progress = {});
    [[nodiscard]] const GroundTruth& truth() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace schwebe::sim
