#include "integrations/application/application_sink.hpp"

#include <utility>

#include <nlohmann/json.hpp>

#include "common/gateway_json.hpp"
#include "common/log.hpp"
#include "integrations/mqtt/event_json.hpp"
#include "integrations/sqlite/database.hpp"

namespace schwebe::application {

namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
    return common::format_rfc3339(t);
}


}  // namespace

std::string topic_level(std::string_view value) {
    if (value.empty()) return "_";
    std::string out(value);
    for (char& c : out) {
        if (c == '/' || c == '+' || c == '#' || static_cast<unsigned char>(c) < 0x20) c = '_';
    }
    return out;
}

ApplicationSink::ApplicationSink(sqlite::SqliteAppStore& store, const decoders::CodecRegistry& codecs,
                                 common::Metrics& metrics, ApplicationOptions options, Now now,
                                 decoders::ScriptCodecs* scripts)
    : store_(store),
      codecs_(codecs),
      scripts_(scripts),
      metrics_(metrics),
      options_(std::move(options)),
      now_(now ? std::move(now) : Now([] { return std::chrono::system_clock::now(); })),
      uplinks_stored_(metrics.counter("schwebe_app_uplinks_stored_total", "uplinks stored in SQLite")),
      readings_stored_(metrics.counter("schwebe_app_readings_stored_total", "readings stored in SQLite")),
      decoded_(metrics.counter("schwebe_codec_decoded_total", "payloads decoded by a codec")) {
    for (auto& dev_eui : store_.devices_with_spots()) devices_with_spots_.insert(std::move(dev_eui));
}

void ApplicationSink::prepare(std::span<const ns::Event* const> events) {
    // The batch's uplinks for script codecs, all together, before the commit transaction opens: the workers decode
    // them side by side, and no lock is held while they do.
    prepared_.clear();
    if (!scripts_) return;
    std::vector<decoders::ScriptCodecs::Uplink> uplinks;
    std::vector<const ns::UplinkEvent*> owners;
    for (const auto* event : events) {
        const auto* up = std::get_if<ns::UplinkEvent>(event);
        if (!up || !up->f_port || !scripts_->handles(up->device_info.codec)) continue;
        uplinks.push_back({up->device_info.codec, {.f_port = *up->f_port, .bytes = up->data, .recv_time = up->time}});
        owners.push_back(up);
    }
    if (uplinks.empty()) return;
    auto results = scripts_->decode_uplinks(uplinks);
    for (std::size_t k = 0; k < results.size() && k < owners.size(); ++k) {
        prepared_.insert_or_assign(owners[k]->deduplication_id, std::move(results[k]));
    }
}

void ApplicationSink::stage(std::span<const ns::Event> events) {
    // Uplinks prepare() did not see (or a sink driven without it) are decoded here, still together.
    std::vector<std::optional<decoders::DecodeResult>> script_results(events.size());
    if (scripts_) {
        std::vector<decoders::ScriptCodecs::Uplink> uplinks;
        std::vector<std::size_t> positions;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const auto* up = std::get_if<ns::UplinkEvent>(&events[i]);
            if (!up || !up->f_port || !scripts_->handles(up->device_info.codec)) continue;
            if (const auto it = prepared_.find(up->deduplication_id); it != prepared_.end()) {
                script_results[i] = std::move(it->second);
                prepared_.erase(it);
                continue;
            }
            uplinks.push_back({up->device_info.codec, {.f_port = *up->f_port, .bytes = up->data, .recv_time = up->time}});
            positions.push_back(i);
        }
        if (!uplinks.empty()) {
            auto results = scripts_->decode_uplinks(uplinks);
            for (std::size_t k = 0; k < results.size() && k < positions.size(); ++k) {
                script_results[positions[k]] = std::move(results[k]);
            }
        }
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& event = events[i];
        if (const auto* up = std::get_if<ns::UplinkEvent>(&event)) {
            stage_uplink(*up, std::move(script_results[i]));
            continue;
        }
        if (!options_.publish) continue;
        const auto& info = ns::device_info_of(event);
        if (const auto* tx = std::get_if<ns::TxAckEvent>(&event); tx && tx->status != common::TxAckStatus::ok) {
            // ChirpStack publishes `txack` only for a downlink the gateway took; a refusal is a `log` event.
            const ns::Event log{ns::LogEvent{.time = tx->time,
                                             .device_info = info,
                                             .level = ns::LogLevel::error,
                                             .code = "DOWNLINK_GATEWAY",
                                             .description = std::string(common::to_string(tx->status)),
                                             .context = {{"gateway_id", tx->gateway_id.to_string()},
                                                         {"downlink_id", std::to_string(tx->downlink_id)},
                                                         {"queue_item_id", tx->queue_item_id},
                                                         {"f_cnt_down", std::to_string(tx->f_cnt_down)}}}};
            add(info.dev_eui.to_string(), mqtt::event_topic(info, "log"), mqtt::event_json(log), false);
            continue;
        }
        add(info.dev_eui.to_string(), mqtt::event_topic(info, ns::event_type(event)), mqtt::event_json(event), false);
    }
}

decoders::DecodeResult ApplicationSink::decode(const ns::UplinkEvent& up) const {
    const std::string& codec_name = up.device_info.codec;
    const decoders::Codec* codec = codecs_.find(codec_name);
    if (!codec) return decoders::DecodeResult::failure("unknown codec '" + codec_name + "'");
    return codec->decode({.f_port = *up.f_port, .bytes = up.data, .recv_time = up.time});
}

void ApplicationSink::stage_uplink(const ns::UplinkEvent& up, std::optional<decoders::DecodeResult> script_result) {
    const std::string dev_eui = up.device_info.dev_eui.to_string();
    std::optional<decoders::Decoded> decoded;
    std::optional<ns::LogEvent> codec_error;
    const std::string& codec_name = up.device_info.codec;
    if (!codec_name.empty() && up.f_port) {
        decoders::DecodeResult result = script_result ? std::move(*script_result) : decode(up);
        if (result.ok()) {
            decoded_.inc();
            decoded = std::move(result.decoded);
        } else {
            metrics_.counter("schwebe_codec_errors_total", "payloads a codec could not decode", {{"codec", codec_name}})
                .inc();
            // The `log` event reports each one; the server's log gets a rate-limited line (a device sending
            // garbage must not flood it).
            std::uint64_t suppressed = 0;
            if (codec_log_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
                log::info("payload not decoded", {{"dev_eui", dev_eui},
                                                  {"codec", codec_name},
                                                  {"f_port", *up.f_port},
                                                  {"reason", result.error->reason},
                                                  {"suppressed", suppressed}});
            }
            codec_error = ns::LogEvent{.time = up.time,
                                       .device_info = up.device_info,
                                       .level = ns::LogLevel::error,
                                       .code = "UPLINK_CODEC",
                                       .description = result.error->reason,
                                       .context = {{"deduplication_id", up.deduplication_id},
                                                   {"f_port", std::to_string(*up.f_port)},
                                                   {"codec", codec_name}}};
        }
    }

    const nlohmann::json* object = decoded ? &decoded->object : nullptr;
    // Written once: the uplink row keeps it (its object and rxInfo are read from it) and the outbox refers to it.
    std::string up_json = mqtt::up_event_json(up, object);
    const std::int64_t uplink_id = store_.insert_uplink(sqlite::UplinkRow{
        .deduplication_id = up.deduplication_id,
        .time = up.time,
        .dev_eui = dev_eui,
        .dev_addr = up.dev_addr.to_string(),
        .f_cnt = up.f_cnt,
        .f_port = up.f_port,
        .confirmed = up.confirmed,
        .dr = up.dr,
        .frequency = up.tx_info.frequency_hz,
        .data = up.data,
        .event_json = up_json});
    uplinks_stored_.inc();
    if (options_.publish) {
        add(dev_eui, mqtt::event_topic(up.device_info, "up"), std::move(up_json), false, uplink_id);
    }
    if (codec_error && options_.publish) {
        add(dev_eui, mqtt::event_topic(up.device_info, "log"), mqtt::event_json(ns::Event(*codec_error)), false);
    }

    static const std::vector<decoders::Reading> no_readings;
    const auto& readings = decoded ? decoded->readings : no_readings;
    for (const auto& reading : readings) {
        const auto time = reading.time.value_or(up.time);
        store_.insert_reading({.uplink_id = uplink_id,
                               .dev_eui = dev_eui,
                               .quantity = reading.quantity,
                               .time = time,
                               .value = reading.value,
                               .unit = reading.unit});
        readings_stored_.inc();
        if (!options_.publish) continue;
        nlohmann::json value = reading.boolean ? nlohmann::json(reading.value != 0) : nlohmann::json(reading.value);
        const nlohmann::json message{{"devEui", dev_eui},
                                     {"deviceName", up.device_info.device_name},
                                     {"quantity", reading.quantity},
                                     {"value", std::move(value)},
                                     {"unit", reading.unit},
                                     {"time", rfc3339(time)}};
        add(dev_eui, options_.city_prefix + "/readings/" + dev_eui + "/" + topic_level(reading.quantity),
            message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true);
    }
    stage_parking(up, readings);
}

void ApplicationSink::stage_parking(const ns::UplinkEvent& up, const std::vector<decoders::Reading>& readings) {
    const auto& tags = up.device_info.tags;
    const auto zone_tag = tags.find("zone");
    const auto spot_tag = tags.find("spot");
    const std::string dev_eui = up.device_info.dev_eui.to_string();
    const bool tagged = zone_tag != tags.end() && spot_tag != tags.end();
    if (!tagged && !devices_with_spots_.contains(dev_eui)) return;
    std::optional<sqlite::SpotRow> existing = store_.spot_of_device(dev_eui);

    if (!tagged) {
        if (existing) {  // the device no longer marks a spot: the spot goes
            devices_with_spots_.erase(dev_eui);
            store_.delete_spot(existing->zone, existing->spot);
            publish_spot(*existing, true);
            publish_zone(existing->zone);
        }
        return;
    }
    const std::string zone = topic_level(zone_tag->second);
    const std::string spot = topic_level(spot_tag->second);
    if (existing && (existing->zone != zone || existing->spot != spot)) {  // moved to another spot
        store_.delete_spot(existing->zone, existing->spot);
        publish_spot(*existing, true);
        if (existing->zone != zone) publish_zone(existing->zone);
        existing.reset();
    }

    std::optional<sqlite::SpotStatus> reported;
    for (const auto& reading : readings) {
        if (reading.quantity == "occupancy") {
            reported = reading.value != 0 ? sqlite::SpotStatus::occupied : sqlite::SpotStatus::free;
        }
    }
    const sqlite::SpotStatus status =
        reported ? *reported : (existing ? existing->status : sqlite::SpotStatus::unknown);
    if (existing && existing->status == status) {
        store_.touch_spot(dev_eui, up.time);
        return;
    }
    const sqlite::SpotRow row{.zone = zone,
                              .spot = spot,
                              .dev_eui = dev_eui,
                              .status = status,
                              .since = up.time,
                              .last_seen = up.time};
    store_.put_spot(row);
    devices_with_spots_.insert(dev_eui);
    publish_spot(row);
    publish_zone(zone);
}

void ApplicationSink::publish_spot(const sqlite::SpotRow& spot, bool cleared) {
    if (!options_.publish) return;
    const std::string topic = options_.city_prefix + "/parking/" + spot.zone + "/" + spot.spot;
    if (cleared) {  // an empty retained message removes the retained state (MQTT 3.1.1 §3.3.1.3)
        add(spot.dev_eui, topic, std::string(), true);
        return;
    }
    const nlohmann::json message{
        {"status", sqlite::to_string(spot.status)}, {"since", rfc3339(spot.since)}, {"devEui", spot.dev_eui}};
    add(spot.dev_eui, topic, message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true);
}

void ApplicationSink::publish_zone(const std::string& zone) {
    if (!options_.publish) return;
    const auto totals = store_.zone_totals(zone);
    const nlohmann::json message{{"free", totals.free},
                                 {"occupied", totals.occupied},
                                 {"unknown", totals.unknown},
                                 {"total", totals.total()}};
    add(std::string(), options_.city_prefix + "/parking/" + zone, message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true);
}

void ApplicationSink::add(std::string dev_eui, std::string topic, std::string payload, bool retained,
                          std::optional<std::int64_t> uplink_id) {
    common::OutboxMessage message{.id = 0,
                                  .dev_eui = std::move(dev_eui),
                                  .topic = std::move(topic),
                                  .payload = std::move(payload),
                                  .qos = options_.qos,
                                  .retained = retained};
    store_.add_outbox(message, now_(), uplink_id);
    staged_.push_back(std::move(message));
}

void ApplicationSink::staged_done(bool committed) {
    if (committed && committed_ && !staged_.empty()) committed_(std::move(staged_));
    staged_.clear();
    prepared_.clear();  // decodes of uplinks the commit refused
    if (!committed) {
        // The spot rows are as before the transaction: so must the set be.
        devices_with_spots_.clear();
        for (auto& dev_eui : store_.devices_with_spots()) devices_with_spots_.insert(std::move(dev_eui));
    }
}

void ApplicationSink::on_event(ns::Event) {}

std::size_t ApplicationSink::sweep_parking() {
    const auto now = now_();
    std::size_t changed = 0;
    {
        sqlite::Transaction transaction(store_.database());
        for (auto spot : store_.silent_spots(now - options_.parking_unknown_after)) {
            spot.status = sqlite::SpotStatus::unknown;
            spot.since = now;
            store_.put_spot(spot);
            publish_spot(spot);
            publish_zone(spot.zone);
            ++changed;
        }
        try {
            transaction.commit();
        } catch (...) {
            staged_.clear();
            throw;
        }
    }
    if (changed > 0) log::info("parking sensors silent: spots unknown", {{"spots", changed}});
    staged_done(true);
    return changed;
}

void ApplicationSink::on_gateway_stats(const common::GatewayStats& stats) {
    try {
        store_.insert_gateway_stats(stats);
    } catch (const std::exception& e) {
        log::error("gateway stats not stored", {{"gateway_id", stats.gateway_id.to_string()}, {"error", e.what()}});
    }
}

}  // namespace schwebe::application
