#pragma once
// A message in the outbox (DESIGN.md, Defaults: "MQTT events wait in the SQLite outbox"): written in the
// transaction of the data it describes, published in id order, removed once the broker acknowledged it.

#include <cstdint>
#include <string>

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

}  // namespace schwebe::common
