#pragma once
// A network server wired as `schwebe serve` wires it: the UDP bridge on 127.0.0.1 (ephemeral port), the network
// server, the SQLite store in a file of its own, and a recorder for the events. Simulated gateways talk to it over
// real UDP; tests wait for outcomes with sim::run_until, never by sleeping.

#include <boost/asio/io_context.hpp>

#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/udp_bridge.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "lorawan/join.hpp"
#include "lorawan/session.hpp"
#include "network-server/network_server.hpp"
#include "sim/simulated_gateway.hpp"
#include "support/recording_events.hpp"
#include "support/sqlite_files.hpp"
#include "test_support.hpp"

namespace schwebe::test {

struct DownlinkRelay final : common::DownlinkSender {
    common::DownlinkSender* target = nullptr;
    void send_downlink(common::DownlinkFrame frame) override { target->send_downlink(std::move(frame)); }
};

inline ns::NetworkServerOptions quick_options() {
    ns::NetworkServerOptions o;
    o.dedup.window = std::chrono::milliseconds{0};
    o.dedup.cooldown = std::chrono::milliseconds{0};
    o.net_id = lorawan::NetId{0x000013};
    return o;
}

struct NsFixture {
    explicit NsFixture(ns::NetworkServerOptions options = quick_options())
        : db(sqlite::Database::open(dir.db_path())),
          registry(db),
          store(db),
          gateway_registry(bridge::RegistryOptions{}, {}),
          network_server(io, options, store, downlinks, events, metrics),
          bridge(io, bridge_options(), gateway_registry, nullptr, network_server, metrics) {
        downlinks.target = &bridge;
        bridge.start();
        application_id = registry.create_application("city")->id;
    }

    static bridge::UdpBridgeOptions bridge_options() {
        bridge::UdpBridgeOptions o;
        o.bind_host = "127.0.0.1";
        o.bind_port = 0;
        return o;
    }

    sim::SimulatedGateway gateway(const lorawan::Eui64& id) {
        sim::SimulatedGateway gw{io, id, bridge.local_endpoint()};
        gw.pull();  // opens the downlink path
        REQUIRE(sim::run_until(io, [&] { return !gw.pull_acks.empty(); }));
        return gw;
    }

    /// Uplink sets the network server has finished with: accepted, joined or dropped.
    [[nodiscard]] std::uint64_t processed() const {
        const auto& s = network_server.stats();
        return s.uplinks + s.joins + s.dropped;
    }

    /// Pushes one frame from `gw` and waits until the network server has decided about it.
    void send(sim::SimulatedGateway& gw, const sim::Rxpk& packet) {
        const auto before = processed();
        gw.push({packet});
        REQUIRE(sim::run_until(io, [&] { return processed() > before; }));
    }

    std::uint64_t drops(const std::string& reason) const {
        return metrics.value("schwebe_ns_uplink_drops_total", {{"reason", reason}});
    }

    ns::DeviceProfile profile(const std::string& name, ns::Activation activation,
                              lorawan::FCntMode mode = lorawan::FCntMode::strict) {
        ns::DeviceProfile p;
        p.name = name;
        p.activation = activation;
        p.f_cnt_mode = mode;
        p.dev_status_interval = std::chrono::seconds{0};  // no DevStatusReq unless a test asks for it
        return p;
    }

    std::string add_profile(ns::DeviceProfile p) {
        auto created = registry.create_device_profile(std::move(p));
        REQUIRE(created.ok());
        return created->id;
    }

    void add_abp(const lorawan::Eui64& dev_eui, const std::string& profile_id, lorawan::DevAddr dev_addr,
                 const lorawan::NwkSKey& nwk, const lorawan::AppSKey& app) {
        ns::Device d;
        d.dev_eui = dev_eui;
        d.name = "abp-" + dev_eui.to_string();
        d.application_id = application_id;
        d.device_profile_id = profile_id;
        d.dev_addr = dev_addr;
        d.nwk_s_key = nwk;
        d.app_s_key = app;
        REQUIRE(registry.add_device(d).ok());
    }

    void add_otaa(const lorawan::Eui64& dev_eui, const std::string& profile_id, const lorawan::Eui64& join_eui,
                  const lorawan::AppKey& app_key) {
        ns::Device d;
        d.dev_eui = dev_eui;
        d.name = "otaa-" + dev_eui.to_string();
        d.application_id = application_id;
        d.device_profile_id = profile_id;
        d.join_eui = join_eui;
        d.app_key = app_key;
        REQUIRE(registry.add_device(d).ok());
    }

    std::optional<std::uint32_t> f_cnt_up(const lorawan::Eui64& dev_eui) {
        const auto record = store.find_device(dev_eui);
        REQUIRE(record);
        REQUIRE(record->session);
        return record->session->f_cnt_up;
    }

    TempDir dir;
    boost::asio::io_context io;
    common::Metrics metrics;
    sqlite::Database db;
    sqlite::SqliteDeviceRegistry registry;
    sqlite::SqliteNsStore store;
    RecordingEvents events;
    DownlinkRelay downlinks;
    bridge::GatewayRegistry gateway_registry;
    ns::NetworkServer network_server;
    bridge::UdpBridge bridge;
    std::string application_id;
};

/// An rxpk as a gateway reports a frame: EU868 868.1 MHz, SF7 unless told otherwise.
inline sim::Rxpk packet(lorawan::Bytes phy, std::uint32_t tmst = 5'000'000, int rssi = -80, double snr = 5.0,
                        std::uint8_t sf = 7, double freq_mhz = 868.1) {
    sim::Rxpk p;
    p.phy_payload = std::move(phy);
    p.tmst = tmst;
    p.freq_mhz = freq_mhz;
    p.spreading_factor = sf;
    p.rssi = rssi;
    p.lsnr = snr;
    return p;
}

/// A data uplink as a device builds it.
inline lorawan::Bytes data_uplink(lorawan::SessionCrypto& crypto, lorawan::DevAddr dev_addr, std::uint32_t f_cnt,
                                  std::optional<std::uint8_t> f_port, const lorawan::Bytes& payload,
                                  bool confirmed = false, lorawan::FCtrl f_ctrl = {}, lorawan::ByteView f_opts = {}) {
    lorawan::DataFrame f;
    f.m_type = confirmed ? lorawan::MType::confirmed_data_up : lorawan::MType::unconfirmed_data_up;
    f.dev_addr = dev_addr;
    f.f_ctrl = f_ctrl;
    f.f_opts = *lorawan::FOpts::from(f_opts);
    f.f_port = f_port;
    f.frm_payload = payload;
    auto phy = lorawan::build_data_frame(crypto, f, f_cnt);
    REQUIRE(phy.ok());
    return *phy;
}

/// A downlink as the device reads it: parsed, its MIC checked under `f_cnt_down`, its FRMPayload decrypted.
struct ReadDownlink {
    lorawan::DataFrame frame;
    bool mic_ok = false;
    lorawan::Bytes payload;
    std::vector<lorawan::MacCommand> mac_commands;  // from FOpts, or from an FPort 0 payload
};

inline ReadDownlink read_downlink(lorawan::SessionCrypto& crypto, const lorawan::Bytes& phy,
                                  std::uint32_t f_cnt_down) {
    auto parsed = lorawan::parse_phy_payload(phy);
    REQUIRE(parsed.ok());
    REQUIRE(std::holds_alternative<lorawan::DataFrame>(parsed->body));
    ReadDownlink out;
    out.frame = std::get<lorawan::DataFrame>(parsed->body);
    REQUIRE(out.frame.direction() == lorawan::Direction::downlink);
    const lorawan::ByteView msg{phy.data(), phy.size() - 4};
    out.mic_ok = crypto.verify_data_mic(lorawan::Direction::downlink, out.frame.dev_addr, f_cnt_down, msg,
                                        out.frame.mic);
    if (out.frame.f_port && !out.frame.frm_payload.empty()) {
        out.payload = crypto.crypt_frm_payload(*out.frame.f_port, lorawan::Direction::downlink, out.frame.dev_addr,
                                               f_cnt_down, out.frame.frm_payload);
    }
    const lorawan::ByteView mac_bytes =
        out.frame.f_port == 0 ? lorawan::ByteView{out.payload} : out.frame.f_opts.view();
    auto parsed_mac = lorawan::parse_mac_commands(mac_bytes, lorawan::Direction::downlink);
    REQUIRE_FALSE(parsed_mac.error);
    out.mac_commands = parsed_mac.commands;
    return out;
}

}  // namespace schwebe::test
