// Gateway bridge throughput over loopback: PUSH_DATA datagrams (one rxpk each) received, acknowledged, parsed and
// handed on per second by the bridge on one core, beside a bare receive loop on the same socket setup measured in
// the same run. A sender thread on the other core blasts datagrams from 100 gateway EUIs with sendmmsg.
//
//   build/bench/bench_bridge [seconds per run, default 3]

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/loopback.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/udp_bridge.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace schwebe;

namespace {

std::vector<std::vector<std::uint8_t>> make_datagrams() {
    const auto phy = *lorawan::from_hex("4003100b26000000028cf07aa069a795c4feed31902bdb524e0354fcd8644bf1");
    std::vector<std::vector<std::uint8_t>> out;
    for (int g = 0; g < 100; ++g) {
        out.push_back(bench::push_data_datagram(
            lorawan::Eui64::from_u64(0x0016c00100000000ULL + static_cast<std::uint64_t>(g)), phy));
    }
    return out;
}

/// Sends the datagrams round-robin to `to` until `stop`, with sendmmsg in batches of 64.
std::uint64_t blast(const udp::endpoint& to, const std::vector<std::vector<std::uint8_t>>& datagrams,
                    const std::atomic<bool>& stop) {
    asio::io_context io;
    udp::socket s(io, udp::endpoint(udp::v4(), 0));
    constexpr int batch = 64;
    std::vector<mmsghdr> msgs(batch);
    std::vector<iovec> iov(batch);
    std::uint64_t sent = 0;
    std::size_t next = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < batch; ++i) {
            auto& d = datagrams[next++ % datagrams.size()];
            iov[i] = {const_cast<std::uint8_t*>(d.data()), d.size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_name = const_cast<sockaddr*>(to.data());
            msgs[i].msg_hdr.msg_namelen = static_cast<socklen_t>(to.size());
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = sendmmsg(s.native_handle(), msgs.data(), batch, 0);
        if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
    return sent;
}

struct CountingSink : common::GatewayEventSink {
    std::atomic<std::uint64_t> uplinks{0};
    std::size_t bytes = 0;
    void on_uplink(common::UplinkFrame f) override {
        bytes += f.phy_payload.size();
        uplinks.fetch_add(1, std::memory_order_relaxed);
    }
    void on_stats(common::GatewayStats) override {}
    void on_tx_ack(common::DownlinkTxAck) override {}
    void on_conn_state(common::GatewayConnState) override {}
};

struct Result {
    double per_second = 0;
    double cpu_us_per_datagram = 0;
    std::uint64_t handled = 0;
    std::uint64_t sent = 0;
};

/// Runs `serve` (which must count into `handled`) on this thread for `seconds` while the sender blasts.
template <class Serve>
Result measure(const udp::endpoint& to, double seconds, std::atomic<std::uint64_t>& handled, Serve serve) {
    const auto datagrams = make_datagrams();
    std::atomic<bool> stop{false};
    std::uint64_t sent = 0;
    std::thread sender([&] { sent = blast(to, datagrams, stop); });
    const std::uint64_t start_count = handled.load();
    const double cpu0 = bench::thread_usage().cpu_seconds;
    const auto t0 = std::chrono::steady_clock::now();
    serve(t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds)));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = bench::thread_usage().cpu_seconds - cpu0;
    stop = true;
    sender.join();
    Result r;
    r.handled = handled.load() - start_count;
    r.sent = sent;
    r.per_second = static_cast<double>(r.handled) / elapsed;
    r.cpu_us_per_datagram = cpu * 1e6 / static_cast<double>(r.handled);
    return r;
}

void print(const char* name, const Result& r) {
    std::printf("%-44s %10.0f datagrams/s  %6.2f us CPU each  (%llu handled of %llu sent)\n", name, r.per_second,
                r.cpu_us_per_datagram, static_cast<unsigned long long>(r.handled),
                static_cast<unsigned long long>(r.sent));
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    log::set_level(log::Level::error);

    // 1. Bare receive loop: the same non-blocking drain the bridge uses, counting only.
    Result bare;
    {
        asio::io_context io;
        udp::socket s(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        s.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024));
        s.non_blocking(true);
        std::atomic<std::uint64_t> count{0};
        std::vector<std::uint8_t> buffer(65536);
        bare = measure(s.local_endpoint(), seconds, count, [&](auto deadline) {
            udp::endpoint from;
            while (std::chrono::steady_clock::now() < deadline) {
                pollfd p{s.native_handle(), POLLIN, 0};
                ::poll(&p, 1, 50);
                for (int i = 0; i < 256; ++i) {
                    boost::system::error_code ec;
                    s.receive_from(asio::buffer(buffer), from, 0, ec);
                    if (ec) break;
                    count.fetch_add(1, std::memory_order_relaxed);
                }
            }
        });
    }

    // 2. The bridge: header, admission, PUSH_ACK, rxpk parse, UplinkFrame to the sink.
    Result full;
    {
        asio::io_context io;
        common::Metrics metrics;
        CountingSink sink;
        bridge::RegistryOptions ro;
        ro.rate_per_s = 1e12;
        ro.rate_burst = 1e12;
        bridge::GatewayRegistry registry{ro, {}};
        bridge::UdpBridgeOptions bo;
        bo.bind_host = "127.0.0.1";
        bo.bind_port = 0;
        bridge::UdpBridge b{io, bo, registry, nullptr, sink, metrics};
        b.start();
        full = measure(b.local_endpoint(), seconds, sink.uplinks, [&](auto deadline) {
            while (std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds{50});
        });
        b.stop();
    }

    std::printf("Gateway bridge over loopback, one core each for server and sender, %.1f s per run\n", seconds);
    print("bare receive loop (recvfrom only)", bare);
    print("bridge (ack + parse + hand on UplinkFrame)", full);
    std::printf("bridge / bare = %.0f %%\n", 100.0 * full.per_second / bare.per_second);
    return 0;
}
