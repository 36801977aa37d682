#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
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

namespace schwebe::app {

namespace {

/// Stands in for the network server until it exists (issue: network server): counts and logs what the gateways
/// deliver, so that `schwebe serve` already shows traffic arriving.
class UplinkLog final : public common::GatewayEventSink {
public:
    void on_uplink(common::UplinkFrame f) override {
        log::debug("uplink", {{"gateway_id", f.rx_info.gateway_id.to_string()},
                              {"bytes", f.phy_payload.size()},
                              {"frequency", f.tx_info.frequency_hz},
                              {"rssi", f.rx_info.rssi}});
    }
    void on_stats(common::GatewayStats s) override {
        log::debug("gateway stats", {{"gateway_id", s.gateway_id.to_string()}, {"rx_ok", s.rx_ok}});
    }
    void on_tx_ack(common::DownlinkTxAck a) override {
        log::info("downlink result", {{"gateway_id", a.gateway_id.to_string()}, {"downlink_id", a.downlink_id}});
    }
    void on_conn_state(common::GatewayConnState) override {}
};

/// The bridge and the MQTT forwarder each need the other at construction; this sink is created first and pointed
/// at the forwarder once it exists.
class SinkRelay final : public common::GatewayEventSink {
public:
    common::GatewayEventSink* target = nullptr;
    void on_uplink(common::UplinkFrame f) override { target->on_uplink(std::move(f)); }
    void on_stats(common::GatewayStats s) override { target->on_stats(std::move(s)); }
    void on_tx_ack(common::DownlinkTxAck a) override { target->on_tx_ack(std::move(a)); }
    void on_conn_state(common::GatewayConnState c) override { target->on_conn_state(c); }
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
        UplinkLog network_server;
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

        if (run_bridge) {
            gateway_store = std::make_unique<sqlite::SqliteGatewayStore>(*db);
            registry = std::make_unique<bridge::GatewayRegistry>(registry_options(config), gateway_store->load_gateways());
            relay.target = &network_server;
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
            udp->start();
        }
        if (mqtt_gateway_events) {
            // The network server takes gateway events from MQTT (a bridge runs elsewhere).
            ns_mqtt = std::make_unique<mqtt::Client>(io, mqtt_options(config, "ns"));
            mqtt::GatewayBackendOptions bo;
            bo.topic_prefix = config.get("bridge.mqtt_topic_prefix");
            backend = std::make_unique<mqtt::MqttGatewayBackend>(*ns_mqtt, network_server, bo);
            ns_mqtt->start();
            log::info("network server takes gateway events from MQTT", {{"server", config.get("mqtt.server")}});
        }
        if (run_ns) log::warn("the network server pipeline is not built yet: uplinks are counted and logged only");
        if (wanted.contains("api")) log::warn("the HTTP API is not built yet", {{"api_bind", config.get("api.bind")}});

        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info("stopping", {{"signal", signal}});
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
