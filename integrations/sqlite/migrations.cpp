#include "integrations/sqlite/migrations.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

namespace {

// Version 1: the gateway registry (gateway-bridge/gateway_store.hpp). Gateways the operator added are
// `registered`; the others were seen while the bridge accepts unknown gateways. Their location is the registered
// one, else the last one the gateway reported. Times are format_timestamp() text; tags a JSON object of strings;
// last_stats the JSON of common::GatewayStats (snake_case keys, RFC 3339 times).
constexpr std::string_view migration_1_gateways = R"sql(
CREATE TABLE gateways (
    gateway_id      TEXT PRIMARY KEY NOT NULL
                    CHECK (length(gateway_id) = 16 AND gateway_id NOT GLOB '*[^0-9a-f]*'),
    name            TEXT NOT NULL DEFAULT '',
    latitude        REAL,
    longitude       REAL,
    altitude        REAL,
    tags            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
    registered      INTEGER NOT NULL DEFAULT 0 CHECK (registered IN (0, 1)),
    first_seen      TEXT,
    last_seen       TEXT,
    frames_received INTEGER NOT NULL DEFAULT 0 CHECK (frames_received >= 0),
    last_stats      TEXT CHECK (last_stats IS NULL OR json_valid(last_stats))
);
)sql";

// Append new migrations at the end of this list, never in between (see migrations.hpp).
constexpr std::string_view migrations[] = {
    migration_1_gateways,
};

std::runtime_error migration_error(const Database& db, const std::string& what) {
    return std::runtime_error("sqlite: " + db.path().string() + ": " + what);
}

}  // namespace

std::span<const std::string_view> schema_migrations() noexcept {
    return migrations;
}

int latest_schema_version() noexcept {
    return static_cast<int>(std::size(migrations));
}

int schema_version(Database& db) {
    auto exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
    const bool has_table = exists.step();
    exists.reset();
    if (!has_table) return 0;
    auto max_version = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    max_version.step();
    const auto version = max_version.column_int64(0);
    max_version.reset();
    return static_cast<int>(version);
}

void apply_migrations(Database& db, std::span<const std::string_view> migrations_to_apply) {
    const int latest = static_cast<int>(migrations_to_apply.size());
    int current = 0;
    try {
        db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)");
        current = schema_version(db);
    } catch (const Error& e) {
        throw migration_error(db, std::string("cannot read the schema version: ") + e.what());
    }
    if (current > latest) {
        // Written by a newer Schwebe: its tables may mean things this binary would misread or overwrite.
        throw migration_error(db, "schema version " + std::to_string(current) + " is newer than version " +
                                      std::to_string(latest) + ", the newest this binary knows; use a newer schwebe");
    }

    for (int version = current + 1; version <= latest; ++version) {
        try {
            Transaction transaction(db);
            // Checked again under the write lock: another process opening the same new file may have been first.
            auto applied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
            applied.bind_int64(1, version);
            const bool already = applied.step();
            applied.reset();
            if (already) continue;

            db.exec(std::string(migrations_to_apply[static_cast<std::size_t>(version - 1)]));
            auto record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
            record.bind_int64(1, version).bind_text(2, format_timestamp(std::chrono::system_clock::now()));
            record.step();
            transaction.commit();
        } catch (const Error& e) {
            throw migration_error(db, "migration " + std::to_string(version) + " failed: " + e.what());
        }
    }
}

}  // namespace schwebe::sqlite
