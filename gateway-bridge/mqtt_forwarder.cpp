#include "gateway-bridge/mqtt_forwarder.hpp"

#include <utility>

#include "common/gateway_json.hpp"

namespace schwebe::bridge {

MqttForwarder::MqttForwarder(mqtt::Client& client, common::DownlinkSender& downlinks, MqttForwarderOptions options)
    : client_(client),
      downlinks_(downlinks),
      options_(std::move(options)),
      command_filter_(mqtt::gateway_filter(options_.topic_prefix, "command/down")),
      drops_(std::make_shared<std::map<std::string, std::uint64_t>>()) {
    client_.subscribe(command_filter_, client_.options().qos, [this](const mqtt::Message& m) { on_command(m); });
}

MqttForwarder::~MqttForwarder() {
    client_.unsubscribe(command_filter_);
}

void MqttForwarder::on_uplink(common::UplinkFrame frame) {
    publish(frame.rx_info.gateway_id, "event/up", common::to_gateway_json(frame), false);
}

void MqttForwarder::on_stats(common::GatewayStats stats) {
    publish(stats.gateway_id, "event/stats", common::to_gateway_json(stats), false);
}

void MqttForwarder::on_tx_ack(common::DownlinkTxAck ack) {
    publish(ack.gateway_id, "event/ack", common::to_gateway_json(ack), false);
}

void MqttForwarder::on_conn_state(common::GatewayConnState state) {
    // Retained, so that a network server that starts later learns every gateway's state at once.
    publish(state.gateway_id, "state/conn", common::to_gateway_json(state), true);
}

void MqttForwarder::publish(const common::Eui64& gateway_id, std::string_view suffix, std::string payload,
                            bool retained) {
    std::string topic = mqtt::gateway_topic(options_.topic_prefix, gateway_id, suffix);
    const bool accepted = client_.publish(topic, std::move(payload), client_.options().qos, retained,
                                          [drops = drops_, topic](bool delivered) {
                                              if (delivered) return;
                                              ++(*drops)["publish_failed"];
                                              log::warn("mqtt gateway event not delivered", {{"topic", topic}});
                                          });
    if (!accepted) drop("publish_rejected", topic);
}

void MqttForwarder::on_command(const mqtt::Message& message) {
    const auto topic = mqtt::parse_gateway_topic(options_.topic_prefix, message.topic);
    if (!topic || topic->kind != "command" || topic->name != "down") return drop("invalid_topic", message.topic);
    if (message.payload.size() > options_.max_payload_bytes) return drop("payload_too_large", message.topic);
    if (message.retained) return drop("retained_command", message.topic);
    auto frame = common::parse_downlink_frame(message.payload);
    if (!frame) return drop("invalid_json", message.topic, frame.error());
    if (frame->gateway_id != topic->gateway_id) {
        return drop("gateway_id_mismatch", message.topic, frame->gateway_id.to_string());
    }
    ++downlinks_forwarded_;
    downlinks_.send_downlink(std::move(frame).value());
}

void MqttForwarder::drop(std::string_view reason, std::string_view topic, std::string_view detail) {
    ++(*drops_)[std::string(reason)];
    std::uint64_t suppressed = 0;
    if (!drop_log_.allow(std::chrono::steady_clock::now(), suppressed)) return;
    log::warn("mqtt command dropped",
              {{"reason", reason}, {"topic", topic}, {"detail", detail}, {"suppressed", suppressed}});
}

}  // namespace schwebe::bridge
