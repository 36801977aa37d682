#pragma once
// What the loopback benchmarks share: PUSH_DATA datagrams as a packet forwarder sends them, and what the calling
// thread has used (the server's CPU time, when the server runs on it).

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base64.hpp"
#include "lorawan/bytes.hpp"
#include "lorawan/types.hpp"

namespace schwebe::bench {

/// A GWMP v2 PUSH_DATA from `gateway_id` with one rxpk carrying `phy` (868.3 MHz, SF7BW125):
///   | version 2 | token (2) | 0x00 PUSH_DATA | gateway EUI (8) | {"rxpk":[{…}]} |
inline std::vector<std::uint8_t> push_data_datagram(const lorawan::Eui64& gateway_id, lorawan::ByteView phy) {
    const std::string json = R"({"rxpk":[{"time":"2026-11-21T08:00:00.000000Z","tmst":3512348611,"chan":2,"rfch":0,)"
                             R"("freq":868.300000,"stat":1,"modu":"LORA","datr":"SF7BW125","codr":"4/5","rssi":-61,)"
                             R"("lsnr":7.8,"size":)" +
                             std::to_string(phy.size()) + R"(,"data":")" + common::base64_encode(phy) + R"("}]})";
    constexpr std::size_t eui_offset = 4;
    constexpr std::size_t json_offset = 12;
    std::vector<std::uint8_t> d(json_offset + json.size());
    d[0] = 2;  // protocol version
    d[1] = 0x12;
    d[2] = 0x34;
    d[3] = 0x00;  // PUSH_DATA
    const auto& eui = gateway_id.bytes();
    std::copy(eui.begin(), eui.end(), d.begin() + eui_offset);
    std::copy(json.begin(), json.end(), d.begin() + json_offset);
    return d;
}

/// What the calling thread has used: user + system CPU time, and involuntary context switches (preemptions, when
/// another process wanted the core: a sign that the figures were taken on a busy machine).
struct ThreadUsage {
    double cpu_seconds = 0;
    long preempted = 0;
    ThreadUsage operator-(const ThreadUsage& o) const { return {cpu_seconds - o.cpu_seconds, preempted - o.preempted}; }
    ThreadUsage operator+(const ThreadUsage& o) const { return {cpu_seconds + o.cpu_seconds, preempted + o.preempted}; }
};

inline ThreadUsage thread_usage() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return {static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
            u.ru_nivcsw};
}

}  // namespace schwebe::bench
