#pragma once
// A message in the outbox (DESIGN.md, Defaults: "MQTT events wait in the SQLite outbox"): written in the
// transaction of the data it describes, published in id order, removed once the broker acknowledged it.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace schwebe::common {

struct OutboxMessage {
    std::int64_t id = 0;  ///< the order of publication; set by the store
    std::string dev_eui;  ///< the device it is about; empty for a parking zone's totals
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = false;
    bool operator==(const OutboxMessage&) const = default;
};

/// Where the outbox lives (the SQLite application store in `schwebe serve`), as the publisher reads it.
class OutboxStore {
public:
    virtual ~OutboxStore() = default;
    /// Up to `limit` messages with id >= `from_id`, in id order.
    virtual std::vector<OutboxMessage> read_outbox(std::int64_t from_id, std::size_t limit) = 0;
    /// Deletes the delivered messages.
    virtual void remove_outbox(std::span<const std::int64_t> ids) = 0;
};

}  // namespace schwebe::common
