#include "integrations/mqtt/mqtt_gateway_backend.hpp"

#include <utility>

#include "common/gateway_json.hpp"

namespace schwebe::mqtt {

MqttGatewayBackend::MqttGatewayBackend(Client& client, common::GatewayEventSink& sink, GatewayBackendOptions options,
                                       Clock now)
    : client_(client),
      sink_(sink),
      options_(std::move(options)),
      now_(std::move(now)),
      event_filter_(gateway_filter(options_.topic_prefix, "event/+")),
      state_filter_(gateway_filter(options_.topic_prefix, "state/conn")),
      drops_(std::make_shared<std::map<std::string, std::uint64_t>>()) {
    if (!options_.share_group.empty()) event_filter_ = "$share/" + options_.share_group + "/" + event_filter_;
    const int qos = client_.options().qos;
    client_.subscribe(event_filter_, qos, [this](const Message& m) { on_message(m); });
    client_.subscribe(state_filter_, qos, [this](const Message& m) { on_message(m); });
}

MqttGatewayBackend::~MqttGatewayBackend() {
    client_.unsubscribe(event_filter_);
    client_.unsubscribe(state_filter_);
}

void MqttGatewayBackend::send_downlink(common::DownlinkFrame frame) {
    std::string topic = gateway_topic(options_.topic_prefix, frame.gateway_id, "command/down");
    const auto& options = client_.options();
    const bool accepted =
        client_.publish(topic, common::to_gateway_json(frame), options.qos, false,
                        [drops = drops_, topic, downlink_id = frame.downlink_id](bool delivered) {
                            if (delivered) return;
                            ++(*drops)["publish_failed"];
                            log::warn("mqtt downlink not delivered", {{"topic", topic}, {"downlink_id", downlink_id}});
                        });
    if (!accepted) drop("publish_rejected", topic);
}

void MqttGatewayBackend::on_message(const Message& message) {
    const auto topic = parse_gateway_topic(options_.topic_prefix, message.topic);
    if (!topic) return drop("invalid_topic", message.topic);
    if (message.payload.size() > options_.max_payload_bytes) return drop("payload_too_large", message.topic);

    const auto check_gateway = [&](const common::Eui64& in_payload) {
        if (in_payload == topic->gateway_id) return true;
        drop("gateway_id_mismatch", message.topic, in_payload.to_string());
        return false;
    };

    if (topic->kind == "state" && topic->name == "conn") {
        // An empty retained message is how a retained state is deleted: nothing to report.
        if (message.payload.empty()) return drop("empty_payload", message.topic);
        auto state = common::parse_gateway_conn_state(message.payload);
        if (!state) return drop("invalid_json", message.topic, state.error());
        if (!check_gateway(state->gateway_id)) return;
        ++events_;
        return sink_.on_conn_state(*state);
    }
    if (topic->kind != "event") return drop("invalid_topic", message.topic);

    if (topic->name == "up") {
        auto frame = common::parse_uplink_frame(message.payload);
        if (!frame) return drop("invalid_json", message.topic, frame.error());
        if (!check_gateway(frame->rx_info.gateway_id)) return;
        if (frame->rx_info.received_at == common::SystemTime{}) frame->rx_info.received_at = now_();
        ++events_;
        return sink_.on_uplink(std::move(frame).value());
    }
    if (topic->name == "stats") {
        auto stats = common::parse_gateway_stats(message.payload);
        if (!stats) return drop("invalid_json", message.topic, stats.error());
        if (!check_gateway(stats->gateway_id)) return;
        if (stats->received_at == common::SystemTime{}) stats->received_at = now_();
        ++events_;
        return sink_.on_stats(std::move(stats).value());
    }
    if (topic->name == "ack") {
        auto ack = common::parse_downlink_tx_ack(message.payload);
        if (!ack) return drop("invalid_json", message.topic, ack.error());
        if (!check_gateway(ack->gateway_id)) return;
        ++events_;
        return sink_.on_tx_ack(std::move(ack).value());
    }
    drop("unknown_event", message.topic);
}

void MqttGatewayBackend::drop(std::string_view reason, std::string_view topic, std::string_view detail) {
    ++(*drops_)[std::string(reason)];
    std::uint64_t suppressed = 0;
    if (!drop_log_.allow(std::chrono::steady_clock::now(), suppressed)) return;
    log::warn("mqtt gateway message dropped",
              {{"reason", reason}, {"topic", topic}, {"detail", detail}, {"suppressed", suppressed}});
}

}  // namespace schwebe::mqtt
