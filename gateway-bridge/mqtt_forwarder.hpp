#pragma once
/// Standalone bridge mode (`schwebe serve --components bridge`): the UDP server's gateway events go to MQTT as
/// ChirpStack Gateway Bridge publishes them, and downlink commands from MQTT go to the UDP server, so that a
/// ChirpStack network server, or Schwebe's on another machine, can use this bridge. Topics: gateway_topics.hpp;
/// payloads: common/gateway_json.hpp.
///
///     UdpBridge ──GatewayEventSink──► MqttForwarder ──► {prefix}/gateway/{id}/event/{up,stats,ack}
///                                                    ──► {prefix}/gateway/{id}/state/conn (retained)
///     UdpBridge ◄──DownlinkSender─── MqttForwarder ◄── {prefix}/gateway/+/command/down
///
/// A command that cannot be used is dropped, counted by reason (drops()) and logged rate-limited: `invalid_topic`,
/// `payload_too_large`, `retained_command` (a retained downlink would be sent again after every reconnect),
/// `invalid_json` (not ChirpStack JSON, or a field wrong), `gateway_id_mismatch` (topic and payload disagree).
/// Events that cannot leave are counted too: `publish_rejected` (the client's buffer is full: the event is lost,
/// as with ChirpStack's bridge) and `publish_failed` (lost with the connection).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/log.hpp"
#include "common/messages.hpp"
#include "integrations/mqtt/gateway_topics.hpp"
#include "integrations/mqtt/mqtt_client.hpp"

namespace schwebe::bridge {

struct MqttForwarderOptions {
    std::string topic_prefix = "eu868";
    std::size_t max_payload_bytes = mqtt::default_max_payload_bytes;
};

class MqttForwarder final : public common::GatewayEventSink {
public:
    /// Subscribes to the command topic at once (the client makes the subscription when it connects). `client`
    /// and `downlinks` must outlive this.
    MqttForwarder(mqtt::Client& client, common::DownlinkSender& downlinks, MqttForwarderOptions options = {});
    ~MqttForwarder() override;
    MqttForwarder(const MqttForwarder&) = delete;
    MqttForwarder& operator=(const MqttForwarder&) = delete;

    void on_uplink(common::UplinkFrame frame) override;
    void on_stats(common::GatewayStats stats) override;
    void on_tx_ack(common::DownlinkTxAck ack) override;
    void on_conn_state(common::GatewayConnState state) override;

    /// Commands and events dropped, by reason.
    [[nodiscard]] const std::map<std::string, std::uint64_t>& drops() const noexcept { return *drops_; }
    /// Downlink commands handed to the DownlinkSender.
    [[nodiscard]] std::uint64_t downlinks() const noexcept { return downlinks_forwarded_; }

private:
    void publish(const common::Eui64& gateway_id, std::string_view suffix, std::string payload, bool retained);
    void on_command(const mqtt::Message& message);
    void drop(std::string_view reason, std::string_view topic, std::string_view detail = {});

    mqtt::Client& client_;
    common::DownlinkSender& downlinks_;
    MqttForwarderOptions options_;
    std::string command_filter_;
    // Shared with the publish completions, which may outlive this object inside the client.
    std::shared_ptr<std::map<std::string, std::uint64_t>> drops_;
    std::uint64_t downlinks_forwarded_ = 0;
    log::RateLimiter drop_log_{10, std::chrono::seconds(10)};
};

}  // namespace schwebe::bridge
