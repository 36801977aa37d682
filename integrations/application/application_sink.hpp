#pragma once
// The application side of `schwebe serve`: what the city sees of each network server event.
//
// Inside the network server's commit transaction (ns::EventSink::stage) each event becomes:
//   - for an `up`: the payload decoded by the profile's codec (decoders/), the uplink row and its readings in
//     SQLite, and the parking spot's new state when the device has `zone` and `spot` tags;
//   - outbox messages: the ChirpStack v4 event (with `object`), a `log` event with code UPLINK_CODEC when the
//     codec failed, and the city topics: each reading, and on a parking change the spot and its zone's totals.
// Once the transaction commits, the messages go to the outbox publisher. A crash at any point leaves either all of
// an uplink (counter, rows, messages) or none of it.
//
// City topics (README, "MQTT"), all retained so that a subscriber gets the current state at once:
//   {city}/parking/{zone}/{spot}        {"status":"occupied|free|unknown","since":…,"devEui":…}
//   {city}/parking/{zone}               {"free":…,"occupied":…,"unknown":…,"total":…}
//   {city}/readings/{dev_eui}/{quantity} {"devEui":…,"deviceName":…,"quantity":…,"value":…,"unit":…,"time":…}

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.hpp"
#include "common/messages.hpp"
#include "common/metrics.hpp"
#include "common/outbox.hpp"
#include "decoders/codec.hpp"
#include "integrations/sqlite/app_store.hpp"
#include "network-server/events.hpp"

namespace schwebe::application {

struct ApplicationOptions {
    bool publish = true;  ///< write MQTT messages to the outbox (mqtt.enabled)
    int qos = 1;
    std::string city_prefix = "city";
    /// A parking sensor unheard for this long makes its spot `unknown`.
    std::chrono::seconds parking_unknown_after{std::chrono::hours{25}};
};

class ApplicationSink final : public ns::EventSink {
public:
    using Now = std::function<std::chrono::system_clock::time_point()>;
    /// Called after each commit with the messages it wrote to the outbox, in id order (the publisher's offer()).
    using Committed = std::function<void(std::vector<common::OutboxMessage>)>;

    /// `scripts` (may be null): the codecs that run outside (JavaScript); a batch's uplinks for them are decoded
    /// together, side by side, before anything of the batch is written.
    ApplicationSink(sqlite::SqliteAppStore& store, const decoders::CodecRegistry& codecs, common::Metrics& metrics,
                    ApplicationOptions options, Now now = {}, decoders::ScriptCodecs* scripts = nullptr);

    void set_committed_handler(Committed handler) { committed_ = std::move(handler); }

    void prepare(std::span<const ns::Event* const> events) override;
    void stage(std::span<const ns::Event> events) override;
    void staged_done(bool committed) override;
    void on_event(ns::Event event) override;

    /// Marks the spots of sensors unheard for parking_unknown_after as unknown, in one transaction; returns how
    /// many changed.
    std::size_t sweep_parking();
    /// Stores one gateway stats report.
    void on_gateway_stats(const common::GatewayStats& stats);

private:
    void stage_uplink(const ns::UplinkEvent& up, std::optional<decoders::DecodeResult> script_result);
    decoders::DecodeResult decode(const ns::UplinkEvent& up) const;
    void stage_parking(const ns::UplinkEvent& up, const std::vector<decoders::Reading>& readings);
    void publish_spot(const sqlite::SpotRow& spot, bool cleared = false);
    void publish_zone(const std::string& zone);
    /// Writes a message to the outbox and stages it; an `up` message names its uplink row instead of a payload.
    void add(std::string dev_eui, std::string topic, std::string payload, bool retained,
             std::optional<std::int64_t> uplink_id = {});

    sqlite::SqliteAppStore& store_;
    const decoders::CodecRegistry& codecs_;
    decoders::ScriptCodecs* scripts_;
    common::Metrics& metrics_;
    ApplicationOptions options_;
    Now now_;
    Committed committed_;
    std::vector<common::OutboxMessage> staged_;
    /// prepare()'s script decodes, by deduplication id, for the stage() that follows.
    std::unordered_map<std::string, decoders::DecodeResult> prepared_;
    /// The devices that have a parking spot row: most uplinks are not parking ones and need no lookup.
    std::unordered_set<std::string> devices_with_spots_;
    log::RateLimiter codec_log_limit_{5, std::chrono::seconds{10}};
    common::Counter& uplinks_stored_;
    common::Counter& readings_stored_;
    common::Counter& decoded_;
};

/// An MQTT topic level made from a tag value: '/', '+', '#' and control characters become '_', so that a tag can
/// never add levels or wildcards; empty becomes "_".
[[nodiscard]] std::string topic_level(std::string_view value);

}  // namespace schwebe::application
