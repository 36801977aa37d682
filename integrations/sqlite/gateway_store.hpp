#pragma once
// The gateway registry's store on SQLite: the `gateways` table of migration 1 (migrations.cpp).

#include <cstdint>
#include <vector>

#include "gateway-bridge/gateway_store.hpp"
#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

/// bridge::GatewayStore on one SQLite connection. Every method throws sqlite::Error when SQLite fails or a row
/// cannot be read back (a malformed id, time or JSON written by something else); the caller decides whether to
/// retry at the next flush or to stop.
class SqliteGatewayStore final : public bridge::GatewayStore {
public:
    /// `db` must outlive the store, and be used from the same thread. The statements are prepared here, so a
    /// database without the gateways table fails at start-up rather than at the first flush.
    explicit SqliteGatewayStore(Database& db);

    /// Every gateway, ordered by gateway_id.
    std::vector<bridge::GatewayRecord> load_gateways() override;
    /// Name, location and tags of `gateway` replace those stored, and the row becomes registered; the seen-state of
    /// an existing row (first_seen, last_seen, frames_received, last_stats) is kept and that of `gateway` ignored.
    void save_registered_gateway(const bridge::GatewayRecord& gateway) override;
    bool remove_gateway(const common::Eui64& gateway_id) override;
    /// One transaction for the whole batch: frames_received grows by each delta, last_seen is set, first_seen only
    /// when still empty, last_stats when the activity has stats, and the reported location replaces the stored one
    /// only on gateways that are not registered.
    void record_activity(const std::vector<bridge::GatewayActivity>& activity) override;
    /// Compares PRAGMA data_version with its value at the previous call, or at construction for the first call:
    /// a change made by another connection after the store was built is never missed, and this connection's own
    /// writes never count.
    bool changed_externally() override;

private:
    Database& db_;
    Statement select_all_;
    Statement upsert_registered_;
    Statement delete_one_;
    Statement upsert_activity_;
    std::int64_t data_version_;
};

}  // namespace schwebe::sqlite
