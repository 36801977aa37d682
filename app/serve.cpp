#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <sstream>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "app/api.hpp"
#include "common/log.hpp"
#include "dashboards/http_server.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/mqtt_forwarder.hpp"
#include "gateway-bridge/udp_bridge.hpp"
#include "decoders/codec.hpp"
#include "decoders/js/js_codecs.hpp"
#include "integrations/application/application_sink.hpp"
#include "integrations/mqtt/event_json.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/mqtt/outbox_publisher.hpp"
#include "integrations/mqtt/mqtt_gateway_backend.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/gateway_store.hpp"
#include "integrations/sqlite/app_store.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "lorawan/eu868.hpp"
#include "network-server/network_server.hpp"

namespace schwebe::app {

namespace {

/// The outbox publisher's thread: runs its io_context until that is stopped; joined (after stopping the io_context
/// if need be) at the latest when leaving serve(), also on an exception.
class PublishThread {
public:
    explicit PublishThread(boost::asio::io_context& io) : io_(io) {}
    PublishThread(const PublishThread&) = delete;
    PublishThread& operator=(const PublishThread&) = delete;
    ~PublishThread() {
        if (thread_.joinable()) {
            io_.stop();
            thread_.join();
        }
    }
    void start() {
        thread_ = std::thread([this] {
            auto work = boost::asio::make_work_guard(io_);
            io_.run();
        });
    }
    void join() {
        if (thread_.joinable()) thread_.join();
    }

private:
    boost::asio::io_context& io_;
    std::thread thread_;
};

/// `application/{application_id}/device/{dev_eui}/command/down` → the network server's downlink queue.
void on_down_command(const mqtt::Message& message, ns::NetworkServer& network_server, ns::NsStore& store,
                     common::Metrics& metrics, decoders::ScriptCodecs* scripts) {
    const auto count = [&](const char* result) {
        metrics.counter("schwebe_mqtt_down_commands_total", "downlink commands received over MQTT",
                        {{"result", result}})
            .inc();
    };
    auto command = mqtt::parse_down_command(message.topic, message.payload);
    if (!command) {
        count("invalid");
        log::warn("downlink command refused", {{"topic", message.topic}, {"reason", command.error()}});
        return;
    }
    // The topic names the application: a device of another application is refused, as ChirpStack does.
    const auto device = store.find_device(command->dev_eui);
    if (device && device->device.application_id != command->application_id) {
        count("refused");
        log::warn("downlink command refused", {{"dev_eui", command->dev_eui.to_string()},
                                               {"reason", "devEui: not a device of application " +
                                                              command->application_id}});
        return;
    }
    if (device && command->object && command->data.empty()) {
        // `object` goes through the encoder of the device's codec (TS013 encodeDownlink, or the legacy Encoder).
        const std::string codec = device ? device->profile.codec : std::string();
        if (!scripts || !scripts->handles(codec)) {
            count("invalid");
            log::warn("downlink command refused",
                      {{"dev_eui", command->dev_eui.to_string()},
                       {"reason", codec.empty() ? std::string("object: the device's profile has no codec; send data")
                                                : "object: codec " + codec + " has no encoder; send data"}});
            return;
        }
        auto encoded = scripts->encode_downlink(codec, command->f_port, *command->object);
        if (!encoded.ok()) {
            count("codec_error");
            metrics.counter("schwebe_codec_errors_total", "payloads a codec could not decode", {{"codec", codec}}).inc();
            log::warn("downlink command refused",
                      {{"dev_eui", command->dev_eui.to_string()}, {"reason", "object: " + *encoded.error}});
            return;
        }
        command->data = std::move(encoded.bytes);
        if (encoded.f_port) command->f_port = *encoded.f_port;
    }
    auto item = network_server.enqueue_downlink(command->dev_eui, command->f_port, command->data, command->confirmed);
    if (!item) {
        count("refused");
        log::warn("downlink command refused", {{"dev_eui", command->dev_eui.to_string()}, {"reason", item.error()}});
        return;
    }
    count("queued");
    log::info("downlink queued", {{"dev_eui", command->dev_eui.to_string()},
                                  {"queue_item_id", item->id},
                                  {"f_port", command->f_port},
                                  {"confirmed", command->confirmed}});
}

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
    application::ApplicationSink* stats_store = nullptr;  ///< gateway stats also go to SQLite
    void on_uplink(common::UplinkFrame f) override {
        if (target) target->on_uplink(std::move(f));
    }
    void on_stats(common::GatewayStats s) override {
        if (stats_store) stats_store->on_gateway_stats(s);
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
    const auto reconnect_max = c.get_int("mqtt.reconnect_max_s");
    if (reconnect_max < 1) throw std::invalid_argument("mqtt.reconnect_max_s: expected at least 1");
    o.reconnect_max = std::chrono::seconds{reconnect_max};
    if (o.qos != 0 && o.qos != 1) throw std::invalid_argument("mqtt.qos: expected 0 or 1");
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

decoders::js::PoolOptions js_pool_options(const common::Config& c) {
    decoders::js::PoolOptions o;
    o.node = c.get("codecs.js_node");
    const auto workers = c.get_int("codecs.js_workers");
    const auto timeout = c.get_int("codecs.js_timeout_ms");
    const auto memory = c.get_int("codecs.js_memory_mb");
    const auto output = c.get_int("codecs.js_max_output_bytes");
    if (workers < 1 || workers > 64) throw std::invalid_argument("codecs.js_workers: expected 1..64");
    if (timeout < 1 || timeout > 60'000) throw std::invalid_argument("codecs.js_timeout_ms: expected 1..60000");
    if (memory < 16 || memory > 16'384) throw std::invalid_argument("codecs.js_memory_mb: expected 16..16384");
    if (output < 1024 || output > (64 << 20)) {
        throw std::invalid_argument("codecs.js_max_output_bytes: expected 1024..67108864");
    }
    o.workers = static_cast<unsigned>(workers);
    o.timeout = std::chrono::milliseconds{timeout};
    o.memory_mb = static_cast<unsigned>(memory);
    o.max_output_bytes = static_cast<std::size_t>(output);
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
        // Registered first: a signal that comes while the server starts (a reload while codecs load, a stop while
        // the store opens) waits for the handlers set below instead of ending the process.
        boost::asio::signal_set hangups(io, SIGHUP);
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        common::Metrics metrics;
        DownlinkRelay downlinks;
        std::unique_ptr<sqlite::SqliteNsStore> ns_store;
        std::unique_ptr<ns::NetworkServer> network_server;
        std::optional<sqlite::Database> db;
        std::unique_ptr<sqlite::SqliteGatewayStore> gateway_store;
        std::unique_ptr<mqtt::Client> bridge_mqtt;
        std::unique_ptr<mqtt::Client> ns_mqtt;
        std::unique_ptr<bridge::GatewayRegistry> registry;
        std::unique_ptr<bridge::CaptureWriter> capture;  // declared before the bridge that writes to it
        std::unique_ptr<bridge::UdpBridge> udp;
        std::unique_ptr<bridge::MqttForwarder> forwarder;
        std::unique_ptr<mqtt::MqttGatewayBackend> backend;
        SinkRelay relay;

        db.emplace(sqlite::Database::open(config.get("storage.sqlite_path")));
        log::info("storage open", {{"sqlite_path", config.get("storage.sqlite_path")}});

        const decoders::CodecRegistry codecs = decoders::CodecRegistry::with_native_codecs();
        // JavaScript codecs: the files the device profiles name, compiled in Node.js workers started on first use.
        std::unique_ptr<decoders::js::JsCodecs> js_codecs;
        const auto load_js_codecs = [&](bool reload) {
            if (reload) {
                for (const auto& [path, reason] : js_codecs->reload()) {
                    log::error("JavaScript codec not loaded", {{"codec", path}, {"reason", reason}});
                }
            }
            sqlite::SqliteDeviceRegistry registry(*db);
            for (const auto& profile : registry.list_device_profiles()) {
                if (!js_codecs->handles(profile.codec)) continue;
                const auto files = js_codecs->files();
                if (std::find(files.begin(), files.end(), profile.codec) != files.end()) continue;
                if (auto reason = js_codecs->load_file(profile.codec)) {
                    log::error("JavaScript codec not loaded", {{"codec", profile.codec}, {"reason", *reason}});
                }
            }
            log::info(reload ? "JavaScript codecs reloaded" : "JavaScript codecs loaded",
                      {{"files", js_codecs->files().size()}, {"node", js_codecs->pool().node_version()}});
        };
        std::unique_ptr<sqlite::SqliteAppStore> app_store;
        std::unique_ptr<application::ApplicationSink> app_sink;
        // The outbox publisher runs on a thread of its own, with its own io_context and its own connection to the
        // file: Paho's calls and completions then never hold up the network server's thread (bench_app measured
        // 50 % of a bare Paho loop on one thread, 80-99 % on two). It takes committed messages by post, and sends
        // downlink commands back to the network server's thread the same way.
        boost::asio::io_context publish_io;
        std::optional<sqlite::Database> publish_db;
        std::unique_ptr<sqlite::SqliteAppStore> publish_store;
        std::unique_ptr<mqtt::Client> events_mqtt;
        std::unique_ptr<mqtt::OutboxPublisher> outbox;
        PublishThread publish_thread{publish_io};  // declared after what it uses: joined before they go
        boost::asio::steady_timer maintenance_timer(io);
        std::shared_ptr<std::function<void()>> maintenance;  // the timer's handler; lives as long as io.run()
        if (run_ns) {
            ns_store = std::make_unique<sqlite::SqliteNsStore>(*db);
            app_store = std::make_unique<sqlite::SqliteAppStore>(*db);
            application::ApplicationOptions ao;
            ao.publish = config.get_bool("mqtt.enabled");
            ao.qos = static_cast<int>(config.get_int("mqtt.qos"));
            ao.city_prefix = config.get("mqtt.city_topic_prefix");
            if (ao.city_prefix.empty() || ao.city_prefix.find_first_of("/+#") != std::string::npos) {
                throw std::invalid_argument("mqtt.city_topic_prefix: expected one topic level without / + #");
            }
            ao.parking_unknown_after = std::chrono::seconds{config.get_int("parking.unknown_after_s")};
            if (ao.parking_unknown_after.count() < 1) {
                throw std::invalid_argument("parking.unknown_after_s: expected at least 1");
            }
            js_codecs = std::make_unique<decoders::js::JsCodecs>(js_pool_options(config));
            load_js_codecs(false);
            // Read on the network server's thread, like the pool itself.
            const auto& js_stats = js_codecs->pool().stats();
            metrics.gauge("schwebe_js_codec_calls_total", "JavaScript codec calls", {},
                          [&js_stats] { return static_cast<double>(js_stats.calls); });
            metrics.gauge("schwebe_js_codec_timeouts_total", "JavaScript codec calls stopped by the time limit", {},
                          [&js_stats] { return static_cast<double>(js_stats.timeouts); });
            metrics.gauge("schwebe_js_workers_replaced_total", "JavaScript workers killed or lost while in use", {},
                          [&js_stats] { return static_cast<double>(js_stats.workers_replaced); });
            app_sink = std::make_unique<application::ApplicationSink>(*app_store, codecs, metrics, ao,
                                                                      application::ApplicationSink::Now{},
                                                                      js_codecs.get());
            network_server = std::make_unique<ns::NetworkServer>(io, network_server_options(config), *ns_store,
                                                                 downlinks, *app_sink, metrics);
            relay.target = network_server.get();
            relay.stats_store = app_sink.get();
            metrics.gauge("schwebe_mqtt_outbox_depth", "MQTT messages in the outbox, not yet acknowledged", {},
                          [&app_store] { return static_cast<double>(app_store->outbox_depth()); });
            if (ao.publish) {
                auto options = mqtt_options(config, "events");
                options.buffer_while_disconnected = false;  // the outbox resends, in order (outbox_publisher.hpp)
                publish_db.emplace(sqlite::Database::open(config.get("storage.sqlite_path")));
                publish_store = std::make_unique<sqlite::SqliteAppStore>(*publish_db);
                events_mqtt = std::make_unique<mqtt::Client>(publish_io, options);
                outbox = std::make_unique<mqtt::OutboxPublisher>(publish_io, *events_mqtt, *publish_store, metrics);
                app_sink->set_committed_handler([&publish_io, &outbox](std::vector<common::OutboxMessage> messages) {
                    boost::asio::post(publish_io, [&outbox, messages = std::move(messages)]() mutable {
                        outbox->offer(std::move(messages));
                    });
                });
                events_mqtt->subscribe(std::string(mqtt::down_command_filter), 1,
                                       [&io, &network_server, &ns_store, &metrics, &js_codecs](const mqtt::Message& m) {
                                           boost::asio::post(io, [&network_server, &ns_store, &metrics, &js_codecs, m] {
                                               on_down_command(m, *network_server, *ns_store, metrics,
                                                               js_codecs.get());
                                           });
                                       });
                log::info("events published to MQTT", {{"server", config.get("mqtt.server")},
                                                       {"qos", ao.qos},
                                                       {"outbox_depth", app_store->outbox_depth()}});
                events_mqtt->start();
                publish_thread.start();
            }
            // Parking spots of silent sensors become unknown; old rows go (storage.retention_days), a slice at a
            // time so that uplinks are handled in between.
            const auto retention_days = config.get_int("storage.retention_days");
            if (retention_days < 0) throw std::invalid_argument("storage.retention_days: expected 0 or more");
            const auto sweep_every = std::min<std::chrono::seconds>(std::chrono::seconds{60},
                                                                    ao.parking_unknown_after / 4 + std::chrono::seconds{1});
            auto maintain = std::make_shared<std::function<void()>>();
            *maintain = [&, retention_days, sweep_every, weak = std::weak_ptr<std::function<void()>>(maintain)] {
                try {
                    app_sink->sweep_parking();
                    if (retention_days > 0) {
                        const auto before = std::chrono::system_clock::now() - std::chrono::days{retention_days};
                        std::size_t deleted = 0;
                        for (int slice = 0; slice < 10; ++slice) {
                            const auto n = app_store->delete_older_than(before, 1000);
                            deleted += n;
                            if (n < 1000) break;
                        }
                        if (deleted > 0) log::info("retention: old rows deleted", {{"rows", deleted}});
                    }
                } catch (const std::exception& e) {
                    log::error("maintenance failed", {{"error", e.what()}});
                }
                maintenance_timer.expires_after(sweep_every);
                maintenance_timer.async_wait([weak](const boost::system::error_code& ec) {
                    if (auto f = weak.lock(); f && !ec) (*f)();
                });
            };
            maintenance = maintain;
            boost::asio::post(io, [maintain] { (*maintain)(); });
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
            if (const auto capture_file = config.get("bridge.capture_file"); !capture_file.empty()) {
                capture = std::make_unique<bridge::CaptureWriter>(capture_file);
                udp->set_capture(capture.get());
                log::info("capturing gateway traffic", {{"capture_file", capture_file}});
            }
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
        // The HTTP API on a thread of its own, with its own connection to the file: a slow query or a slow client
        // never holds up the network server's thread (and its RX windows). What belongs to that thread is posted.
        boost::asio::io_context api_io;
        std::optional<sqlite::Database> api_db;
        std::unique_ptr<Api> api;
        std::unique_ptr<dashboards::HttpServer> http;
        PublishThread api_thread{api_io};  // declared after what it uses: joined before they go
        if (wanted.contains("api")) {
            const auto hp = common::parse_host_port(config.get("api.bind"));
            if (!hp) throw std::invalid_argument("api.bind: expected host:port, got '" + config.get("api.bind") + "'");
            dashboards::HttpOptions ho;
            ho.host = hp->host;
            ho.port = hp->port;
            const auto body = config.get_int("api.max_body_bytes");
            const auto timeout = config.get_int("api.request_timeout_ms");
            const auto connections = config.get_int("api.max_connections");
            if (body < 1024) throw std::invalid_argument("api.max_body_bytes: expected at least 1024");
            if (timeout < 100) throw std::invalid_argument("api.request_timeout_ms: expected at least 100");
            if (connections < 1) throw std::invalid_argument("api.max_connections: expected at least 1");
            ho.max_body_bytes = static_cast<std::size_t>(body);
            ho.request_timeout = std::chrono::milliseconds{timeout};
            ho.max_connections = static_cast<std::size_t>(connections);
            api_db.emplace(sqlite::Database::open(config.get("storage.sqlite_path")));
            ApiHooks hooks;
            hooks.render_metrics = [&io, &metrics](std::function<void(std::string)> done) {
                boost::asio::post(io, [&metrics, done = std::move(done)] { done(metrics.render()); });
            };
            if (network_server) {
                hooks.enqueue = [&io, &network_server](lorawan::Eui64 dev_eui, std::uint8_t f_port, lorawan::Bytes data,
                                                       bool confirmed, auto done) {
                    boost::asio::post(io, [&network_server, dev_eui, f_port, data = std::move(data), confirmed,
                                           done = std::move(done)] {
                        done(network_server->enqueue_downlink(dev_eui, f_port, data, confirmed));
                    });
                };
            }
            if (js_codecs) {
                hooks.profiles_changed = [&io, &load_js_codecs] {
                    boost::asio::post(io, [&load_js_codecs] {
                        try {
                            load_js_codecs(false);
                        } catch (const std::exception& e) {
                            log::error("JavaScript codecs not loaded", {{"error", e.what()}});
                        }
                    });
                };
            }
            ApiOptions api_options;
            api_options.gateway_offline_after = std::chrono::seconds{config.get_int("bridge.offline_after_s")};
            api = std::make_unique<Api>(api_io, *api_db, api_options, std::move(hooks));
            http = std::make_unique<dashboards::HttpServer>(
                api_io, ho, [&api](const dashboards::Request& request, dashboards::Respond respond) {
                    api->handle(request, std::move(respond));
                });
            const auto& counters = api->counters();
            metrics.gauge("schwebe_api_requests_total", "HTTP requests answered", {},
                          [&counters] { return static_cast<double>(counters.requests.load()); });
            metrics.gauge("schwebe_api_client_errors_total", "HTTP requests answered 4xx", {},
                          [&counters] { return static_cast<double>(counters.client_errors.load()); });
            metrics.gauge("schwebe_api_unauthorized_total", "HTTP requests refused for want of a valid token", {},
                          [&counters] { return static_cast<double>(counters.unauthorized.load()); });
            metrics.gauge("schwebe_api_server_errors_total", "HTTP requests answered 5xx", {},
                          [&counters] { return static_cast<double>(counters.server_errors.load()); });
            http->start();
            api_thread.start();
            log::info("HTTP API and dashboard listening", {{"api_bind", ho.host + ":" + std::to_string(http->port())}});
        }

        // SIGHUP: the JavaScript codec files are read and compiled again (and those of profiles added since).
        std::function<void()> wait_for_hangup = [&] {
            hangups.async_wait([&](const boost::system::error_code& ec, int) {
                if (ec) return;
                if (js_codecs) {
                    try {
                        load_js_codecs(true);
                    } catch (const std::exception& e) {
                        log::error("JavaScript codecs not reloaded", {{"error", e.what()}});
                    }
                }
                wait_for_hangup();
            });
        };
        wait_for_hangup();
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info("stopping", {{"signal", signal}});
            if (network_server) network_server->stop();
            maintenance_timer.cancel();
            hangups.cancel();
            if (events_mqtt) {
                // On the publisher's thread, after the offers already posted: in-flight messages get stop_timeout
                // to be acknowledged; the acknowledgements that arrive meanwhile are queued behind, then the
                // acknowledged messages leave the outbox, so that a restart does not publish them again.
                boost::asio::post(publish_io, [&] {
                    events_mqtt->stop();
                    boost::asio::post(publish_io, [&] {
                        outbox->stop();
                        publish_io.stop();
                    });
                });
            }
            if (http) {
                boost::asio::post(api_io, [&] {
                    api->stop();
                    http->stop([&] { api_io.stop(); });
                });
            }
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
        publish_thread.join();
        api_thread.join();
        // What was refused over the run, by reason, exactly (the drop log lines are rate-limited): one line each.
        {
            std::istringstream rendered(metrics.render());
            for (std::string line; std::getline(rendered, line);) {
                if (!line.starts_with("schwebe_ns_uplink_drops_total{") && !line.starts_with("schwebe_bridge_dropped_total{")) {
                    continue;
                }
                const auto space = line.rfind(' ');
                log::info("refused in total", {{"metric", line.substr(0, space)}, {"count", line.substr(space + 1)}});
            }
        }
        log::info("stopped");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "schwebe: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace schwebe::app
