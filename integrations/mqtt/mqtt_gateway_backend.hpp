#pragma once
/// The network server's side of the gateway topics: gateway events arrive over MQTT from bridges (Schwebe's own
/// in standalone mode, or ChirpStack Gateway Bridge) instead of the in-process UDP server, and downlinks leave as
/// `command/down`. See gateway_topics.hpp for the topics and common/gateway_json.hpp for the payloads.
///
/// A message that cannot be used is dropped, counted by reason (drops()) and logged rate-limited:
/// `invalid_topic`, `unknown_event`, `payload_too_large`, `empty_payload` (a retained state being cleared),
/// `invalid_json` (not ChirpStack JSON, or a field wrong), `gateway_id_mismatch` (topic and payload disagree);
/// and on the way out `publish_rejected` (the client's buffer is full) and `publish_failed` (lost with the
/// connection).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/log.hpp"
#include "common/messages.hpp"
#include "integrations/mqtt/gateway_topics.hpp"
#include "integrations/mqtt/mqtt_client.hpp"

namespace schwebe::mqtt {

struct GatewayBackendOptions {
    std::string topic_prefix = "eu868";
    /// Non-empty: gateway events are taken as an MQTT shared subscription `$share/{group}/…`, so that several
    /// network-server instances split them. The retained `state/conn` topic is subscribed plainly either way:
    /// brokers send no retained messages to shared subscriptions, and every instance should know every gateway's
    /// state.
    std::string share_group;
    std::size_t max_payload_bytes = default_max_payload_bytes;
};

class MqttGatewayBackend final : public common::DownlinkSender {
public:
    using Clock = std::function<common::SystemTime()>;

    /// Subscribes at once (the client makes the subscriptions when it connects). `client` must outlive this.
    /// `now` stamps events whose JSON has no server receive time (ChirpStack's bridge leaves `nsTime` to the
    /// network server).
    MqttGatewayBackend(
        Client& client, common::GatewayEventSink& sink, GatewayBackendOptions options = {},
        Clock now = [] { return std::chrono::system_clock::now(); });
    ~MqttGatewayBackend() override;
    MqttGatewayBackend(const MqttGatewayBackend&) = delete;
    MqttGatewayBackend& operator=(const MqttGatewayBackend&) = delete;

    /// Publishes on `{prefix}/gateway/{id}/command/down`; the gateway's answer comes back as an `ack` event.
    void send_downlink(common::DownlinkFrame frame) override;

    /// Messages dropped, by reason.
    [[nodiscard]] const std::map<std::string, std::uint64_t>& drops() const noexcept { return *drops_; }
    /// Events handed to the sink.
    [[nodiscard]] std::uint64_t events() const noexcept { return events_; }

private:
    void on_message(const Message& message);
    void drop(std::string_view reason, std::string_view topic, std::string_view detail = {});

    Client& client_;
    common::GatewayEventSink& sink_;
    GatewayBackendOptions options_;
    Clock now_;
    std::string event_filter_;
    std::string state_filter_;
    // Shared with the publish completions, which may outlive this object inside the client.
    std::shared_ptr<std::map<std::string, std::uint64_t>> drops_;
    std::uint64_t events_ = 0;
    log::RateLimiter drop_log_{10, std::chrono::seconds(10)};
};

}  // namespace schwebe::mqtt
