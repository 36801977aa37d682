#pragma once
// The SQLite schema, as numbered migrations applied when a database is opened (DESIGN.md, Contracts/SQLite).
//
// Adding to the schema (applications, device profiles, devices, sessions, …):
//   1. Append one string to the list in migrations.cpp. Its position is its version: the first string is
//      version 1, the next one 2, and so on.
//   2. Never edit, reorder or remove a migration that has been released: databases in the field have applied it
//      and will not apply it again. Fix a mistake with a new migration (ALTER TABLE, or create-copy-drop-rename).
//   3. One string may hold several statements; they run in one transaction together with the row that records the
//      version, so a migration is applied entirely or not at all.
//   4. Add a test in tests/integrations/ that opens a fresh database and uses the new tables.
// A database that has a version this binary does not know (written by a newer Schwebe) is refused, not guessed at.

#include <span>
#include <string_view>

namespace schwebe::sqlite {

class Database;

/// Every migration of this binary, oldest first: element i is schema version i + 1.
[[nodiscard]] std::span<const std::string_view> schema_migrations() noexcept;

/// The schema version this binary creates: the number of migrations.
[[nodiscard]] int latest_schema_version() noexcept;

/// The highest version recorded in `db`'s schema_migrations table; 0 for a fresh database.
[[nodiscard]] int schema_version(Database& db);

/// Applies, in order, each migration of `migrations` (element i is version i + 1) that `db` has not recorded, each
/// in its own transaction. Safe when two processes open the same new file at once: each version is checked again
/// inside its transaction. Throws std::runtime_error naming the file and the version when one fails (the earlier
/// ones stay applied), and naming both versions when the database is newer than `migrations`.
/// Database::open calls this with schema_migrations(); tests pass their own lists.
void apply_migrations(Database& db, std::span<const std::string_view> migrations);

}  // namespace schwebe::sqlite
