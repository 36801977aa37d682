// Network server over loopback: simulated gateways send PUSH_DATA through the real UDP bridge into the network
// server, which reads and writes its devices in a real SQLite file (in a temporary directory, removed at the end).
// The server (bridge and network server on one io_context) runs on this thread; a sender thread on the other core
// plays three gateways, one UDP socket each, and sends the three copies of every frame back to back. A counting
// EventSink stamps each UplinkEvent with the time it left the network server.
//
//   1. Throughput: N ABP devices (ADR off, no DevStatusReq: no downlinks), passes of one unconfirmed uplink per
//      device, dedup window 0 (cooldown 1 s). Pass 1 loads every session from SQLite into the cache (cold); later
//      passes find it there (warm). The sender keeps at most `window` frames ahead of the events, so that the
//      bridge's socket buffer cannot overflow: the figures are for zero loss, and the loss is printed beside them.
//   2. Latency: the default 200 ms window at 500 frames/s; first copy sent → UplinkEvent.
//   3. Memory: VmRSS and heap in use before pass 1 and once every session is cached.
//
//   build/bench/bench_ns [devices, default 10000] [frames in flight, default 512]

#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/loopback.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/udp_bridge.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "lorawan/join.hpp"
#include "lorawan/session.hpp"
#include "network-server/network_server.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace schwebe;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t gateway_count = 3;
constexpr std::uint32_t throughput_passes = 3;
constexpr double latency_rate = 500;  // frames per second
constexpr double latency_seconds = 4;
constexpr std::uint32_t first_dev_addr = 0x26010000;
constexpr std::uint32_t f_cnts_per_device = throughput_passes + 2;  // the passes, a latency warm-up, the latency run
constexpr auto stall_timeout = std::chrono::milliseconds{500};      // no event for this long: frames were lost

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// ---- the devices and their frames ----

/// DevEUI, DevAddr and keys follow from a device's index; an event's (DevAddr, FCnt) names its slot.
struct Fleet {
    std::size_t devices = 0;

    static lorawan::Eui64 dev_eui(std::size_t i) { return lorawan::Eui64::from_u64(0x70b3d57ed0000000ULL + i); }
    static lorawan::DevAddr dev_addr(std::size_t i) {
        return lorawan::DevAddr{first_dev_addr + static_cast<std::uint32_t>(i)};
    }
    template <class Key>
    static Key key(std::size_t i, std::uint8_t role) {
        typename Key::Array bytes{};
        for (std::size_t b = 0; b < bytes.size(); ++b)
            bytes[b] = static_cast<std::uint8_t>(std::size_t{role} * 31 + b * 7);
        for (std::size_t b = 0; b < 4; ++b) bytes[b] = static_cast<std::uint8_t>(i >> (8 * b));
        return Key{bytes};
    }
    static lorawan::NwkSKey nwk_s_key(std::size_t i) { return key<lorawan::NwkSKey>(i, 1); }
    static lorawan::AppSKey app_s_key(std::size_t i) { return key<lorawan::AppSKey>(i, 2); }
    static lorawan::Eui64 gateway_id(std::size_t g) { return lorawan::Eui64::from_u64(0x0016c001ff000000ULL + g); }

    [[nodiscard]] std::size_t slots() const { return devices * f_cnts_per_device; }
    [[nodiscard]] std::size_t slot(std::size_t device, std::uint32_t f_cnt) const {
        return device * f_cnts_per_device + f_cnt;
    }
    /// Slot of an event, or slots() when it is not one of ours.
    [[nodiscard]] std::size_t slot_of(lorawan::DevAddr dev_addr, std::uint32_t f_cnt) const {
        const std::size_t device = dev_addr.value() - first_dev_addr;
        if (dev_addr.value() < first_dev_addr || device >= devices || f_cnt >= f_cnts_per_device) return slots();
        return slot(device, f_cnt);
    }
};

/// One uplink as the three gateways report it: a PUSH_DATA datagram each.
struct Frame {
    std::size_t slot = 0;
    std::array<std::vector<std::uint8_t>, gateway_count> copies;
};

/// Unconfirmed uplinks (FPort 10, 10–20 bytes) of devices [0, devices), FCnt first_f_cnt.. for `rounds` rounds, in
/// sending order: round by round, device by device.
std::vector<Frame> build_frames(const Fleet& fleet, std::size_t devices, std::uint32_t first_f_cnt,
                                std::uint32_t rounds) {
    std::vector<Frame> frames(devices * rounds);
    for (std::size_t d = 0; d < devices; ++d) {
        lorawan::SessionCrypto crypto{Fleet::nwk_s_key(d), Fleet::app_s_key(d)};
        for (std::uint32_t r = 0; r < rounds; ++r) {
            const std::uint32_t f_cnt = first_f_cnt + r;
            lorawan::DataFrame f;
            f.m_type = lorawan::MType::unconfirmed_data_up;
            f.dev_addr = Fleet::dev_addr(d);
            f.f_port = 10;
            f.frm_payload.resize(10 + (d + f_cnt) % 11);
            for (std::size_t b = 0; b < f.frm_payload.size(); ++b) f.frm_payload[b] = static_cast<std::uint8_t>(d + b);
            const auto phy = lorawan::build_data_frame(crypto, f, f_cnt);
            if (!phy) throw std::runtime_error("frame not built: " + std::string(phy.error().detail));
            Frame& out = frames[r * devices + d];
            out.slot = fleet.slot(d, f_cnt);
            for (std::size_t g = 0; g < gateway_count; ++g) {
                out.copies[g] = bench::push_data_datagram(Fleet::gateway_id(g), *phy);
            }
        }
    }
    return frames;
}

/// The application, an ABP profile without ADR or DevStatusReq (so no uplink needs a reply) and the devices, in
/// one transaction.
void provision(sqlite::Database& db, const Fleet& fleet) {
    sqlite::SqliteDeviceRegistry registry{db};
    sqlite::Transaction transaction{db};
    const auto application = registry.create_application("bench");
    ns::DeviceProfile profile;
    profile.name = "bench-abp";
    profile.activation = ns::Activation::abp;
    profile.adr_enabled = false;
    profile.dev_status_interval = std::chrono::seconds{0};
    const auto created = registry.create_device_profile(profile);
    if (!application || !created) throw std::runtime_error("application or profile refused");
    for (std::size_t i = 0; i < fleet.devices; ++i) {
        ns::Device d;
        d.dev_eui = Fleet::dev_eui(i);
        d.name = "abp-" + d.dev_eui.to_string();
        d.application_id = application->id;
        d.device_profile_id = created->id;
        d.dev_addr = Fleet::dev_addr(i);
        d.nwk_s_key = Fleet::nwk_s_key(i);
        d.app_s_key = Fleet::app_s_key(i);
        if (const auto added = registry.add_device(d); !added)
            throw std::runtime_error("device refused: " + added.error());
    }
    transaction.commit();
}

// ---- the server ----

/// Stamps every UplinkEvent with the time it arrived, by slot. Runs on the server's thread; `uplinks` is read by
/// the sender to pace itself.
class StampingSink final : public ns::EventSink {
public:
    explicit StampingSink(const Fleet& fleet) : fleet_(fleet), at_(fleet.slots()) {}

    void on_event(ns::Event event) override {
        const auto* up = std::get_if<ns::UplinkEvent>(&event);
        if (!up) return;
        const std::size_t slot = fleet_.slot_of(up->dev_addr, up->f_cnt);
        if (slot < at_.size()) at_[slot] = SteadyClock::now();
        uplinks.fetch_add(1, std::memory_order_release);
    }

    [[nodiscard]] SteadyClock::time_point at(std::size_t slot) const { return at_[slot]; }

    std::atomic<std::uint64_t> uplinks{0};

private:
    const Fleet& fleet_;
    std::vector<SteadyClock::time_point> at_;  // epoch: no event
};

/// The profile asks for no downlink; any that the server schedules anyway is counted here.
struct CountingDownlinks final : common::DownlinkSender {
    std::uint64_t frames = 0;
    void send_downlink(common::DownlinkFrame) override { ++frames; }
};

/// The server as `schwebe serve` wires it: the UDP bridge on 127.0.0.1 hands gateway copies to the network server,
/// which reads and writes the SQLite store; one io_context, run by this thread.
struct Server {
    Server(sqlite::SqliteNsStore& store, ns::EventSink& events, const ns::NetworkServerOptions& options)
        : gateway_registry(registry_options(), {}),
          network_server(io, options, store, downlinks, events, metrics),
          bridge(io, bridge_options(), gateway_registry, nullptr, network_server, metrics) {
        bridge.start();
    }
    ~Server() {
        network_server.stop();
        bridge.stop();
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    static bridge::RegistryOptions registry_options() {
        bridge::RegistryOptions o;
        o.rate_per_s = 1e12;  // the bench measures the server, not the per-gateway rate limit
        o.rate_burst = 1e12;
        return o;
    }
    static bridge::UdpBridgeOptions bridge_options() {
        bridge::UdpBridgeOptions o;
        o.bind_host = "127.0.0.1";
        o.bind_port = 0;
        return o;
    }

    [[nodiscard]] std::uint64_t push_data_received() const {
        return metrics.value("schwebe_bridge_datagrams_total", {{"type", "push_data"}});
    }

    /// "reason=count …" of one counter family, every label value that is not zero; "none" when all are.
    [[nodiscard]] std::string family(const std::string& name) const {
        std::istringstream lines(metrics.render());
        std::string line;
        std::string out;
        while (std::getline(lines, line)) {
            if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
            if (line[name.size()] != '{' && line[name.size()] != ' ') continue;
            const std::string value = line.substr(line.rfind(' ') + 1);
            if (value == "0") continue;
            std::string label = "total";
            if (const auto open = line.find("=\""); open != std::string::npos) {
                label = line.substr(open + 2, line.find('"', open + 2) - open - 2);
            }
            if (!out.empty()) out += ' ';
            out += label;
            out += '=';
            out += value;
        }
        return out.empty() ? "none" : out;
    }

    asio::io_context io;
    common::Metrics metrics;
    CountingDownlinks downlinks;
    bridge::GatewayRegistry gateway_registry;
    ns::NetworkServer network_server;
    bridge::UdpBridge bridge;
};

// ---- the gateways ----

/// The up sockets of the three gateways. The bridge's PUSH_ACKs are read back (and counted) so that they do not
/// pile up in the sockets' buffers.
class Gateways {
public:
    explicit Gateways(const udp::endpoint& server) : server_(server) {
        for (std::size_t g = 0; g < gateway_count; ++g) {
            sockets_.emplace_back(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
            // Room for the PUSH_ACKs of every frame in flight while the sender waits between passes.
            sockets_.back().set_option(asio::socket_base::receive_buffer_size(1 << 20));
        }
    }

    /// The copies of one frame, back to back, each from its gateway's socket.
    void send(const Frame& frame) {
        for (std::size_t g = 0; g < gateway_count; ++g) {
            const auto& d = frame.copies[g];
            if (::sendto(sockets_[g].native_handle(), d.data(), d.size(), 0, server_.data(), server_.size()) < 0) {
                ++send_errors;
            } else {
                ++sent;
            }
        }
        if (++frames_since_read_ == 64) read_acks();
    }

    void read_acks() {
        frames_since_read_ = 0;
        constexpr unsigned batch = 64;
        std::array<std::array<std::uint8_t, 16>, batch> buffers{};
        std::array<iovec, batch> iov{};
        std::array<mmsghdr, batch> msgs{};
        for (auto& s : sockets_) {
            for (;;) {
                for (unsigned i = 0; i < batch; ++i) {
                    iov[i] = {buffers[i].data(), buffers[i].size()};
                    msgs[i] = {};
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                }
                const int n = ::recvmmsg(s.native_handle(), msgs.data(), batch, MSG_DONTWAIT, nullptr);
                if (n <= 0) break;
                acks += static_cast<std::uint64_t>(n);
                if (static_cast<unsigned>(n) < batch) break;
            }
        }
    }

    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
    std::uint64_t acks = 0;

private:
    asio::io_context io_;
    udp::endpoint server_;
    std::vector<udp::socket> sockets_;
    unsigned frames_since_read_ = 0;
};

/// Sends `frames` as fast as the server takes them: at most `window` frames ahead of the sink's events (counted
/// from `events_before`). A stall (no event for stall_timeout) means frames were lost; the sender then goes on.
void send_paced(Gateways& gateways, std::span<const Frame> frames, const StampingSink& sink,
                std::uint64_t events_before, std::size_t window, std::uint64_t& stalls) {
    std::uint64_t frames_sent = 0;
    std::uint64_t last_seen = sink.uplinks.load(std::memory_order_acquire);
    auto last_progress = SteadyClock::now();
    for (const Frame& frame : frames) {
        for (;;) {
            const std::uint64_t seen = sink.uplinks.load(std::memory_order_acquire);
            if (seen != last_seen) {
                last_seen = seen;
                last_progress = SteadyClock::now();
            }
            if (events_before + frames_sent < seen + window) break;
            if (SteadyClock::now() - last_progress > stall_timeout) {
                ++stalls;
                last_progress = SteadyClock::now();
                break;
            }
            gateways.read_acks();
            std::this_thread::sleep_for(std::chrono::microseconds{50});
        }
        gateways.send(frame);
        ++frames_sent;
    }
    gateways.read_acks();
}

/// Runs the server until the sink has seen `target` uplinks, or until `sender_done` and no event came for
/// stall_timeout (frames lost).
void serve_until(Server& server, const StampingSink& sink, std::uint64_t target, const std::atomic<bool>& sender_done) {
    std::uint64_t last_seen = sink.uplinks.load();
    auto last_progress = SteadyClock::now();
    while (sink.uplinks.load() < target) {
        server.io.run_for(std::chrono::milliseconds{10});
        const auto now = SteadyClock::now();
        if (sink.uplinks.load() != last_seen) {
            last_seen = sink.uplinks.load();
            last_progress = now;
        } else if (sender_done.load() && now - last_progress > stall_timeout) {
            break;
        }
    }
}

// ---- measurements ----

struct Memory {
    std::size_t rss_bytes = 0;
    std::size_t heap_bytes = 0;  // malloc'd and in use, mmapped chunks included
};

Memory memory_now() {
    Memory m;
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_bytes = std::stoull(line.substr(6)) * 1024;
    }
    const struct mallinfo2 info = mallinfo2();
    m.heap_bytes = info.uordblks + info.hblkhd;
    return m;
}

double per_session(std::size_t after, std::size_t before, std::size_t sessions) {
    return (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(sessions);
}

struct PassResult {
    std::uint64_t events = 0;
    double per_second = 0;
    double cpu_us_per_uplink = 0;
    double busy = 0;  // server CPU / wall time from the pass's release to its last event
    long preempted = 0;
};

/// Rate between the first and the last event of `frames`, and the server CPU spent on the pass since `released`.
PassResult pass_result(std::span<const Frame> frames, const StampingSink& sink, SteadyClock::time_point released,
                       const bench::ThreadUsage& used) {
    const double cpu_seconds = used.cpu_seconds;
    PassResult r;
    SteadyClock::time_point first = SteadyClock::time_point::max();
    SteadyClock::time_point last = SteadyClock::time_point::min();
    for (const Frame& f : frames) {
        const auto t = sink.at(f.slot);
        if (t == SteadyClock::time_point{}) continue;
        ++r.events;
        first = std::min(first, t);
        last = std::max(last, t);
    }
    if (r.events < 2) return r;
    const double wall = seconds_between(first, last);
    r.per_second = static_cast<double>(r.events - 1) / wall;
    r.cpu_us_per_uplink = cpu_seconds * 1e6 / static_cast<double>(r.events);
    r.busy = cpu_seconds / seconds_between(released, last);
    r.preempted = used.preempted;
    return r;
}

PassResult combine(const PassResult& a, const PassResult& b) {
    PassResult r;
    r.events = a.events + b.events;
    if (r.events == 0) return r;
    const auto share = [&](double x, double y) {
        return (x * static_cast<double>(a.events) + y * static_cast<double>(b.events)) / static_cast<double>(r.events);
    };
    r.per_second = static_cast<double>(r.events) /
                   (static_cast<double>(a.events) / a.per_second + static_cast<double>(b.events) / b.per_second);
    r.cpu_us_per_uplink = share(a.cpu_us_per_uplink, b.cpu_us_per_uplink);
    r.busy = share(a.busy, b.busy);
    r.preempted = a.preempted + b.preempted;
    return r;
}

void print_pass(const char* name, const PassResult& r, const bench::ThreadUsage& sender) {
    std::printf(
        "  %-36s %7.0f uplinks/s %6.1f us CPU/uplink, busy %3.0f %%, preempted %4ld | sender %5.1f us CPU/frame\n",
        name, r.per_second, r.cpu_us_per_uplink, 100.0 * r.busy, r.preempted,
        r.events ? sender.cpu_seconds * 1e6 / static_cast<double>(r.events) : 0.0);
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
    return sorted[std::min(i, sorted.size() - 1)];
}

class TempDir {
public:
    TempDir() {
        std::string path = (std::filesystem::temp_directory_path() / "schwebe-bench-ns-XXXXXX").string();
        if (::mkdtemp(path.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
        path_ = path;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// Throughput passes over every device, with the memory readings of the cold pass.
struct Throughput {
    std::array<PassResult, throughput_passes> passes{};
    std::array<bench::ThreadUsage, throughput_passes> sender{};
    std::uint64_t stalls = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t send_errors = 0;
    std::uint64_t acks = 0;
    std::uint64_t push_data_received = 0;
    std::uint64_t downlinks = 0;
    std::string ns_drops;
    std::string dedup_copies;
    std::string bridge_drops;
    std::string socket_errors;
    Memory before_pass_1;
    Memory all_cached;      // at the end of pass 1
    Memory after_cooldown;  // after the passes, once the dedup cooldown has let go of their frames
    std::size_t cached_after_pass_1 = 0;
};

Throughput measure_throughput(sqlite::SqliteNsStore& store, StampingSink& sink, const std::vector<Frame>& frames,
                              std::size_t devices, std::size_t window) {
    Throughput t;
    ns::NetworkServerOptions options;
    options.dedup.window = std::chrono::milliseconds{0};  // the cooldown stays 1 s
    Server server{store, sink, options};
    Gateways gateways{server.bridge.local_endpoint()};
    const auto pass_frames = [&](std::uint32_t p) { return std::span{frames}.subspan(p * devices, devices); };

    std::atomic<std::uint32_t> released{0};
    std::atomic<bool> pass_sent{false};
    std::thread sender([&] {
        for (std::uint32_t p = 0; p < throughput_passes; ++p) {
            released.wait(p);
            const bench::ThreadUsage u0 = bench::thread_usage();
            send_paced(gateways, pass_frames(p), sink, static_cast<std::uint64_t>(p) * devices, window, t.stalls);
            t.sender[p] = bench::thread_usage() - u0;
            pass_sent = true;
        }
    });
    for (std::uint32_t p = 0; p < throughput_passes; ++p) {
        if (p == 0) t.before_pass_1 = memory_now();
        pass_sent = false;
        const bench::ThreadUsage u0 = bench::thread_usage();
        const auto released_at = SteadyClock::now();
        released = p + 1;
        released.notify_one();
        serve_until(server, sink, static_cast<std::uint64_t>(p + 1) * devices, pass_sent);
        const bench::ThreadUsage used = bench::thread_usage() - u0;
        if (p == 0) {
            t.all_cached = memory_now();
            t.cached_after_pass_1 = server.network_server.cached_devices();
        }
        t.passes[p] = pass_result(pass_frames(p), sink, released_at, used);
    }
    sender.join();
    server.io.run_for(std::chrono::milliseconds{50});  // the last copies
    gateways.read_acks();
    t.datagrams_sent = gateways.sent;
    t.send_errors = gateways.send_errors;
    t.acks = gateways.acks;
    t.push_data_received = server.push_data_received();
    t.downlinks = server.downlinks.frames;
    t.ns_drops = server.family("schwebe_ns_uplink_drops_total");
    t.dedup_copies = server.family("schwebe_ns_dedup_copies_total");
    t.bridge_drops = server.family("schwebe_bridge_dropped_total");
    t.socket_errors = server.family("schwebe_bridge_socket_errors_total");

    // The deduplicator keeps the key of every frame for the cooldown (1 s) and forgets expired ones when the next
    // copy arrives: after the cooldown, one more frame (a replay, dropped as a duplicate after the figures above
    // were taken) leaves only the sessions in memory.
    server.io.run_for(std::chrono::milliseconds{1100});
    const std::uint64_t received = server.push_data_received();
    gateways.send(frames.back());
    const auto deadline = SteadyClock::now() + std::chrono::seconds{1};
    while (server.push_data_received() < received + gateway_count && SteadyClock::now() < deadline) {
        server.io.run_for(std::chrono::milliseconds{5});
    }
    server.io.run_for(std::chrono::milliseconds{5});
    t.after_cooldown = memory_now();
    return t;
}

struct Latency {
    std::vector<double> ms;  // sorted
    std::uint64_t stalls = 0;
    std::string ns_drops;
    std::string dedup_copies;
};

/// A paced warm-up (sessions into the cache), then `run` at latency_rate: each frame from its first copy's sending
/// to its UplinkEvent.
Latency measure_latency(sqlite::SqliteNsStore& store, StampingSink& sink, const ns::NetworkServerOptions& options,
                        std::span<const Frame> warm_up, std::span<const Frame> run, std::size_t window) {
    Latency l;
    std::vector<SteadyClock::time_point> sent_at(run.size());
    Server server{store, sink, options};
    Gateways gateways{server.bridge.local_endpoint()};
    const std::uint64_t events_before = sink.uplinks.load();
    std::atomic<bool> warm_up_sent{false};
    std::atomic<bool> go{false};
    std::atomic<bool> run_sent{false};
    std::thread sender([&] {
        send_paced(gateways, warm_up, sink, events_before, window, l.stalls);
        warm_up_sent = true;
        go.wait(false);
        const auto period = std::chrono::duration<double>(1.0 / latency_rate);
        const auto start = SteadyClock::now() + std::chrono::milliseconds{10};
        for (std::size_t k = 0; k < run.size(); ++k) {
            std::this_thread::sleep_until(
                start + std::chrono::duration_cast<SteadyClock::duration>(period * static_cast<double>(k)));
            sent_at[k] = SteadyClock::now();
            gateways.send(run[k]);
        }
        gateways.read_acks();
        run_sent = true;
    });
    serve_until(server, sink, events_before + warm_up.size(), warm_up_sent);
    go = true;
    go.notify_one();
    serve_until(server, sink, events_before + warm_up.size() + run.size(), run_sent);
    sender.join();
    l.ns_drops = server.family("schwebe_ns_uplink_drops_total");
    l.dedup_copies = server.family("schwebe_ns_dedup_copies_total");
    for (std::size_t k = 0; k < run.size(); ++k) {
        const auto at = sink.at(run[k].slot);
        if (at != SteadyClock::time_point{}) l.ms.push_back(1e3 * seconds_between(sent_at[k], at));
    }
    std::sort(l.ms.begin(), l.ms.end());
    return l;
}

/// What one cached session is made of, in heap bytes: the record as the store reads it, and its crypto state.
struct SessionParts {
    double record_bytes = 0;
    double crypto_bytes = 0;
};

SessionParts measure_session_parts(sqlite::SqliteNsStore& store, std::size_t devices) {
    const Memory m0 = memory_now();
    std::vector<ns::DeviceRecord> records;
    records.reserve(devices);
    for (std::size_t i = 0; i < devices; ++i) records.push_back(*store.find_device(Fleet::dev_eui(i)));
    const Memory m1 = memory_now();
    std::vector<lorawan::SessionCrypto> crypto;
    crypto.reserve(devices);
    for (const auto& r : records) crypto.emplace_back(r.session->nwk_s_key, r.session->app_s_key);
    const Memory m2 = memory_now();
    return {per_session(m1.heap_bytes, m0.heap_bytes, devices), per_session(m2.heap_bytes, m1.heap_bytes, devices)};
}

void print_throughput(const Throughput& t, std::size_t devices, std::size_t window) {
    const std::uint64_t frames_sent = static_cast<std::uint64_t>(throughput_passes) * devices;
    std::uint64_t events = 0;
    for (const auto& p : t.passes) events += p.events;
    std::printf(
        "1. throughput: %u passes x %zu frames x %zu gateway copies, dedup window 0 (cooldown 1 s), no "
        "downlinks\n",
        throughput_passes, devices, gateway_count);
    std::printf("   paced: at most %zu frames (%zu datagrams) ahead of the events; pacing stalls (loss): %llu\n",
                window, window * gateway_count, static_cast<unsigned long long>(t.stalls));
    print_pass("pass 1 (cold: sessions from SQLite)", t.passes[0], t.sender[0]);
    for (std::uint32_t p = 1; p < throughput_passes; ++p) {
        const std::string name = "pass " + std::to_string(p + 1) + " (warm: sessions cached)";
        print_pass(name.c_str(), t.passes[p], t.sender[p]);
    }
    print_pass("passes 2-3 (warm)", combine(t.passes[1], t.passes[2]), t.sender[1] + t.sender[2]);
    std::printf(
        "   frames: %llu sent, %llu uplink events, %llu lost | datagrams: %llu sent (%llu send errors), %llu "
        "received by the bridge, %llu PUSH_ACKs back\n",
        static_cast<unsigned long long>(frames_sent), static_cast<unsigned long long>(events),
        static_cast<unsigned long long>(frames_sent - events), static_cast<unsigned long long>(t.datagrams_sent),
        static_cast<unsigned long long>(t.send_errors), static_cast<unsigned long long>(t.push_data_received),
        static_cast<unsigned long long>(t.acks));
    std::printf("   ns drops: %s | dedup copies: %s | bridge drops: %s | socket errors: %s | downlinks: %llu\n",
                t.ns_drops.c_str(), t.dedup_copies.c_str(), t.bridge_drops.c_str(), t.socket_errors.c_str(),
                static_cast<unsigned long long>(t.downlinks));
    std::printf("   (copies read in the same socket drain as their first copy join its set; later ones are late)\n\n");
}

void print_latency(const Latency& l, double window_ms, std::size_t frames) {
    const double max = l.ms.empty() ? 0.0 : l.ms.back();
    std::printf(
        "2. latency: dedup window %.0f ms, %.0f frames/s x %zu frames x %zu copies (warm sessions), first copy "
        "sent -> UplinkEvent\n",
        window_ms, latency_rate, frames, gateway_count);
    std::printf("   %-22s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms  (%zu of %zu events, stalls %llu)\n", "latency",
                percentile(l.ms, 0.5), percentile(l.ms, 0.9), percentile(l.ms, 0.99), max, l.ms.size(), frames,
                static_cast<unsigned long long>(l.stalls));
    std::printf("   %-22s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms\n", "processing (- window)",
                percentile(l.ms, 0.5) - window_ms, percentile(l.ms, 0.9) - window_ms,
                percentile(l.ms, 0.99) - window_ms, max - window_ms);
    std::printf("   ns drops: %s | dedup copies: %s\n\n", l.ns_drops.c_str(), l.dedup_copies.c_str());
}

void print_memory(const Throughput& t, const SessionParts& parts, std::size_t devices) {
    const auto mb = [](std::size_t bytes) { return static_cast<double>(bytes) / 1e6; };
    std::printf("3. memory per cached session (%zu cached after pass 1)\n", t.cached_after_pass_1);
    std::printf("   VmRSS        %7.1f -> %7.1f MB: %6.0f bytes/session\n", mb(t.before_pass_1.rss_bytes),
                mb(t.all_cached.rss_bytes), per_session(t.all_cached.rss_bytes, t.before_pass_1.rss_bytes, devices));
    std::printf(
        "   heap in use  %7.1f -> %7.1f MB: %6.0f bytes/session (pass 1's frames still in the dedup cooldown)\n",
        mb(t.before_pass_1.heap_bytes), mb(t.all_cached.heap_bytes),
        per_session(t.all_cached.heap_bytes, t.before_pass_1.heap_bytes, devices));
    std::printf(
        "   heap in use  %7.1f -> %7.1f MB: %6.0f bytes/session (after the cooldown, %u uplinks in each "
        "history)\n",
        mb(t.before_pass_1.heap_bytes), mb(t.after_cooldown.heap_bytes),
        per_session(t.after_cooldown.heap_bytes, t.before_pass_1.heap_bytes, devices), throughput_passes);
    std::printf(
        "   of which: DeviceRecord as read from SQLite %.0f bytes (3-5 uplinks in its history), SessionCrypto %.0f "
        "bytes (OpenSSL contexts included)\n",
        parts.record_bytes, parts.crypto_bytes);
    std::printf(
        "   sizeof: DeviceRecord %zu (Device %zu, DeviceProfile %zu, DeviceSession %zu, MacState %zu), "
        "DeviceInfo %zu, SessionCrypto %zu, JoinCrypto %zu, UplinkRecord %zu\n",
        sizeof(ns::DeviceRecord), sizeof(ns::Device), sizeof(ns::DeviceProfile), sizeof(ns::DeviceSession),
        sizeof(ns::MacState), sizeof(ns::DeviceInfo), sizeof(lorawan::SessionCrypto), sizeof(lorawan::JoinCrypto),
        sizeof(ns::UplinkRecord));
}

int run(std::size_t devices, std::size_t window) {
    log::set_level(log::Level::error);
    std::string load_average;  // other processes on these two cores show up as preemptions and lower rates
    std::ifstream("/proc/loadavg") >> load_average;
    const Fleet fleet{devices};
    TempDir dir;
    auto db = sqlite::Database::open(dir.path() / "schwebe.db");

    const auto t_provision = SteadyClock::now();
    provision(db, fleet);
    const double provision_s = seconds_between(t_provision, SteadyClock::now());

    const std::size_t latency_devices = std::min(devices, static_cast<std::size_t>(latency_rate * latency_seconds));
    const auto throughput_frames = build_frames(fleet, devices, 0, throughput_passes);
    const auto latency_frames = build_frames(fleet, latency_devices, throughput_passes, 2);

    sqlite::SqliteNsStore store{db};
    StampingSink sink{fleet};
    const Throughput throughput = measure_throughput(store, sink, throughput_frames, devices, window);
    const ns::NetworkServerOptions default_options;
    const Latency latency =
        measure_latency(store, sink, default_options, std::span{latency_frames}.first(latency_devices),
                        std::span{latency_frames}.subspan(latency_devices), window);
    const SessionParts parts = measure_session_parts(store, devices);

    std::printf(
        "Network server over loopback: bridge + network server + SQLite (WAL) on this thread, 3 gateways on "
        "a sender thread\n");
    std::printf("%zu ABP devices provisioned in %.2f s (one transaction); load average at start %s\n\n", devices,
                provision_s, load_average.c_str());
    print_throughput(throughput, devices, window);
    print_latency(latency, static_cast<double>(default_options.dedup.window.count()), latency_devices);
    print_memory(throughput, parts, devices);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t devices = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000;
    const std::size_t window = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 512;
    if (devices < 2 || window < 1) {
        std::fprintf(stderr, "usage: bench_ns [devices >= 2, default 10000] [frames in flight >= 1, default 512]\n");
        return 2;
    }
    try {
        return run(devices, window);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_ns: %s\n", e.what());
        return 1;
    }
}
