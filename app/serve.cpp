#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/mqtt_forwarder.hpp"
#include "gateway-bridge/udp_bridge.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/mqtt/mqtt_gateway_backend.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "lorawan/eu868.hpp"
#include "network-server/network_server.hpp"

namespace schwebe::app {

namespace {

/// Where network server events go until the application integrations (MQTT, SQLite readings) consume them: one
/// log line each, so that `schwebe serve` shows what it accepts. Payloads are application data, never key material.
class EventLog final : public ns::EventSink {
public:
    void on_event(ns::Event event) override {
        const auto& info = ns::device_info_of(event);
        if (const auto* up = std::get_if<ns::UplinkEvent>(&event)) {
            log::info("event up", {{"dev_eui", info.dev_eui.to_string()},
                                   {"dev_addr", up->dev_addr.to_string()},
                                   {"f_cnt", up->f_cnt},
                                   {"f_port", up->f_port ? std::to_string(*up->f_port) : std::string("none")},
                                   {"confirmed", up->confirmed},
                                   {"dr", up->dr},
                                   {"gateways", up->rx_info.size()},
                                   {"data", lorawan::to_hex(up->data)}});
        } else if (const auto* join = std::get_if<ns::JoinEvent>(&event)) {
            log::info("event join", {{"dev_eui", info.dev_eui.to_string()}, {"dev_addr", join->dev_addr.to_string()}});
        } else if (const auto* ack = std::get_if<ns::AckEvent>(&event)) {
            log::info("event ack", {{"dev_eui", info.dev_eui.to_string()},
                                    {"queue_item_id", ack->queue_item_id},
                                    {"acknowledged", ack->acknowledged}});
        } else if (const auto* tx = std::get_if<ns::TxAckEvent>(&event)) {
            log::info("event txack", {{"dev_eui", info.dev_eui.to_string()},
                                      {"downlink_id", tx->downlink_id},
                                      {"f_cnt_down", tx->f_cnt_down},
                                      {"status", common::to_string(tx->status)}});
        } else if (const auto* st = std::get_if<ns::StatusEvent>(&event)) {
            log::info("event status", {{"dev_eui", info.dev_eui.to_string()},
                                       {"margin", st->margin},
                                       {"battery_level", st->battery_level}});
        } else if (const auto* lg = std::get_if<ns::LogEvent>(&event)) {
            log::info("event log", {{"dev_eui", info.dev_eui.to_string()},
                                    {"code", lg->code},
                                    {"description", lg->description}});
        }
    }
};

/// The network server is built before the gateway path it sends downlinks through (the in-process bridge, or MQTT
/// command topics), because the bridge needs the network server as its event sink; this relay closes the loop.
class DownlinkRelay final : public common::DownlinkSender {
public:
    common::DownlinkSender* target = nullptr;
    void send_downlink(common::DownlinkFrame frame) override {
        if (target) target->send_downlink(std::move(frame));
    }
};

/// The bridge and the MQTT forwarder each need the other at construction; this sink is created first and pointed
/// at the forwarder once it exists.
class SinkRelay final : public common::GatewayEventSink {
public:
    common::GatewayEventSink* target = nullptr;
    void on_uplink(common::UplinkFrame f) override {
        if (target) target->on_uplink(std::move(f));
    }
    void on_stats(common::GatewayStats s) override {
        if (target) target->on_stats(std::move(s));
    }
    void on_tx_ack(common::DownlinkTxAck a) override {
        if (target) target->on_tx_ack(std::move(a));
    }
    void on_conn_state(common::GatewayConnState c) override {
        if (target) target->on_conn_state(c);
    }
};

mqtt::Options mqtt_options(const common::Config& c, const std::string& role) {
    mqtt::Options o;
    o.server_uri = c.get("mqtt.server");
    o.client_id = c.get("mqtt.client_id") + "-" + role;
    if (!c.get("mqtt.username").empty()) o.username = c.get("mqtt.username");
    if (!c.get("mqtt.password").empty()) o.password = c.get("mqtt.password");
    o.qos = static_cast<int>(c.get_int("mqtt.qos"));
    o.tls.ca_file = c.get("mqtt.ca_file");
    o.tls.cert_file = c.get("mqtt.cert_file");
    o.tls.key_file = c.get("mqtt.key_file");
    return o;
}

bridge::RegistryOptions registry_options(const common::Config& c) {
    bridge::RegistryOptions o;
    const std::string& policy = c.get("bridge.gateway_policy");
    if (policy == "accept") {
        o.policy = bridge::GatewayPolicy::accept;
    } else if (policy == "allowlist") {
        o.policy = bridge::GatewayPolicy::allowlist;
    } else {
        throw std::invalid_argument("bridge.gateway_policy: expected accept or allowlist, got '" + policy + "'");
    }
    o.offline_after = std::chrono::seconds{c.get_int("bridge.offline_after_s")};
    o.rate_per_s = static_cast<double>(c.get_int("bridge.rate_limit_per_s"));
    o.rate_burst = static_cast<double>(c.get_int("bridge.rate_limit_burst"));
    o.max_gateways = static_cast<std::size_t>(c.get_int("bridge.max_gateways"));
    return o;
}

bridge::UdpBridgeOptions bridge_options(const common::Config& c) {
    const auto hp = common::parse_host_port(c.get("bridge.udp_bind"));
    if (!hp) throw std::invalid_argument("bridge.udp_bind: expected host:port, got '" + c.get("bridge.udp_bind") + "'");
    bridge::UdpBridgeOptions o;
    o.bind_host = hp->host;
    o.bind_port = hp->port;
    o.tx_ack_timeout = std::chrono::milliseconds{c.get_int("bridge.tx_ack_timeout_ms")};
    o.store_flush_interval = std::chrono::seconds{c.get_int("bridge.store_flush_interval_s")};
    return o;
}

ns::NetworkServerOptions network_server_options(const common::Config& c) {
    ns::NetworkServerOptions o;
    o.dedup.window = std::chrono::milliseconds{c.get_int("network_server.dedup_window_ms")};
    o.dedup.cooldown = std::chrono::milliseconds{c.get_int("network_server.dedup_cooldown_ms")};
    if (o.dedup.window.count() < 0 || o.dedup.cooldown.count() < 0) {
        throw std::invalid_argument("network_server.dedup_window_ms and dedup_cooldown_ms must not be negative");
    }
    const auto net_id = lorawan::NetId::from_hex(c.get("network_server.net_id"));
    if (!net_id) {
        throw std::invalid_argument("network_server.net_id: expected 6 hex digits, got '" +
                                    c.get("network_server.net_id") + "'");
    }
    o.net_id = *net_id;
    o.cf_list_hz = {};
    const std::string& channels = c.get("network_server.extra_channels_mhz");
    std::size_t index = 0;
    for (std::size_t pos = 0; pos < channels.size();) {
        const auto comma = std::min(channels.find(',', pos), channels.size());
        const std::string item = channels.substr(pos, comma - pos);
        pos = comma + 1;
        char* end = nullptr;
        const double mhz = std::strtod(item.c_str(), &end);
        const auto hz = static_cast<std::uint32_t>(std::llround(mhz * 1e6));
        if (item.empty() || end != item.c_str() + item.size() || index >= o.cf_list_hz.size() ||
            hz < lorawan::eu868::min_frequency_hz || hz > lorawan::eu868::max_frequency_hz || hz % 100 != 0) {
            throw std::invalid_argument("network_server.extra_channels_mhz: expected up to 5 EU868 frequencies in "
                                        "MHz, comma-separated, got '" + channels + "'");
        }
        o.cf_list_hz[index++] = hz;
    }
    const auto power = c.get_int("network_server.downlink_tx_power_dbm");
    if (power < 0 || power > 30) throw std::invalid_argument("network_server.downlink_tx_power_dbm: expected 0..30");
    o.rx1_tx_power_dbm = o.rx2_tx_power_dbm = static_cast<std::int32_t>(power);
    const auto retries = c.get_int("network_server.confirmed_downlink_retries");
    if (retries < 0 || retries > 15) {
        throw std::invalid_argument("network_server.confirmed_downlink_retries: expected 0..15");
    }
    o.confirmed_downlink_retries = static_cast<std::uint8_t>(retries);
    return o;
}

}  // namespace

int serve(const common::Config& config, const std::vector<std::string>& components) {
    std::set<std::string> wanted(components.begin(), components.end());
    for (const std::string& c : wanted) {
        if (c != "bridge" && c != "ns" && c != "api") {
            std::cerr << "schwebe: --components: unknown component '" << c << "' (bridge, ns, api)\n";
            return 1;
        }
    }
    log::Level level{};
    if (!log::parse_level(config.get("log.level"), level)) {
        std::cerr << "schwebe: log.level: expected debug, info, warn or error\n";
        return 1;
    }
    log::set_level(level);
    const bool run_bridge = wanted.contains("bridge");
    const bool run_ns = wanted.contains("ns");
    const bool mqtt_backend = config.get("network_server.gateway_backend") == "mqtt";
    if (config.get("network_server.gateway_backend") != "udp" && !mqtt_backend) {
        std::cerr << "schwebe: network_server.gateway_backend: expected udp or mqtt\n";
        return 1;
    }

    const bool standalone_bridge = run_bridge && (!run_ns || mqtt_backend);
    const bool mqtt_gateway_events = run_ns && (mqtt_backend || !run_bridge);
    if ((standalone_bridge || mqtt_gateway_events) && !config.get_bool("mqtt.enabled")) {
        std::cerr << "schwebe: gateway events between a separate bridge and network server travel over MQTT, but "
                     "mqtt.enabled is false\n";
        return 1;
    }

    try {
        boost::asio::io_context io;
        common::Metrics metrics;
        EventLog event_log;
        DownlinkRelay downlinks;
        std::unique_ptr<sqlite::SqliteNsStore> ns_store;
        std::unique_ptr<ns::NetworkServer> network_server;
        std::optional<sqlite::Database> db;
        std::unique_ptr<sqlite::SqliteGatewayStore> gateway_store;
        std::unique_ptr<mqtt::Client> bridge_mqtt;
        std::unique_ptr<mqtt::Client> ns_mqtt;
        std::unique_ptr<bridge::GatewayRegistry> registry;
        std::unique_ptr<bridge::UdpBridge> udp;
        std::unique_ptr<bridge::MqttForwarder> forwarder;
        std::unique_ptr<mqtt::MqttGatewayBackend> backend;
        SinkRelay relay;

        db.emplace(sqlite::Database::open(config.get("storage.sqlite_path")));
        log::info("storage open", {{"sqlite_path", config.get("storage.sqlite_path")}});

        if (run_ns) {
            ns_store = std::make_unique<sqlite::SqliteNsStore>(*db);
            network_server = std::make_unique<ns::NetworkServer>(io, network_server_options(config), *ns_store,
                                                                 downlinks, event_log, metrics);
            relay.target = network_server.get();
        }
        if (run_bridge) {
            gateway_store = std::make_unique<sqlite::SqliteGatewayStore>(*db);
            registry = std::make_unique<bridge::GatewayRegistry>(registry_options(config), gateway_store->load_gateways());
            udp = std::make_unique<bridge::UdpBridge>(io, bridge_options(config), *registry, gateway_store.get(), relay,
                                                      metrics);
            if (standalone_bridge) {
                // Standalone bridge: gateway events go to MQTT as ChirpStack Gateway Bridge JSON.
                bridge_mqtt = std::make_unique<mqtt::Client>(io, mqtt_options(config, "bridge"));
                bridge::MqttForwarderOptions fo;
                fo.topic_prefix = config.get("bridge.mqtt_topic_prefix");
                forwarder = std::make_unique<bridge::MqttForwarder>(*bridge_mqtt, *udp, fo);
                relay.target = forwarder.get();
                bridge_mqtt->start();
                log::info("bridge publishes gateway events to MQTT",
                          {{"server", config.get("mqtt.server")}, {"topic_prefix", fo.topic_prefix}});
            }
            if (!standalone_bridge) downlinks.target = udp.get();
            udp->start();
        }
        if (mqtt_gateway_events) {
            // The network server takes gateway events from MQTT (a bridge runs elsewhere).
            ns_mqtt = std::make_unique<mqtt::Client>(io, mqtt_options(config, "ns"));
            mqtt::GatewayBackendOptions bo;
            bo.topic_prefix = config.get("bridge.mqtt_topic_prefix");
            backend = std::make_unique<mqtt::MqttGatewayBackend>(*ns_mqtt, *network_server, bo);
            downlinks.target = backend.get();
            ns_mqtt->start();
            log::info("network server takes gateway events from MQTT", {{"server", config.get("mqtt.server")}});
        }
        if (run_ns) {
            log::info("network server running", {{"net_id", config.get("network_server.net_id")},
                                                 {"dedup_window_ms", config.get("network_server.dedup_window_ms")}});
        }
        if (wanted.contains("api")) log::warn("the HTTP API is not built yet", {{"api_bind", config.get("api.bind")}});

        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info("stopping", {{"signal", signal}});
            if (network_server) network_server->stop();
            if (udp) udp->stop();
            if (bridge_mqtt) bridge_mqtt->stop();
            if (ns_mqtt) ns_mqtt->stop();
            io.stop();
        });
        log::info("schwebe running", {{"components", [&] {
                                           std::string s;
                                           for (const auto& c : wanted) s += (s.empty() ? "" : ",") + c;
                                           return s;
                                       }()}});
        io.run();
        log::info("stopped");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "schwebe: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace schwebe::app
