#pragma once
// A small RAII layer over the SQLite C API: one connection (Database), prepared statements meant to be kept and
// reused (Statement), and BEGIN IMMEDIATE transactions that roll back unless committed (Transaction).
//
// Errors: opening a database and migrating its schema throw std::runtime_error naming the file, because a store
// that cannot start is a configuration problem. Once open, every failing call throws sqlite::Error (a
// runtime_error carrying SQLite's result code); the adapters built on this layer catch it at their edge.
//
// Threads: a Database and the Statements prepared on it belong to one thread at a time (the io_context thread, or
// a CLI command). Another thread or process opens its own Database on the same file; WAL mode lets its readers run
// beside our writer, and the busy timeout makes writers wait for each other instead of failing.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace schwebe::sqlite {

/// A failed SQLite call on an open database.
class Error : public std::runtime_error {
public:
    Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    /// SQLite's extended result code (SQLITE_CONSTRAINT_CHECK, SQLITE_BUSY, …).
    [[nodiscard]] int code() const noexcept { return code_; }

private:
    int code_;
};

class Statement;

/// One connection to one database file.
class Database {
public:
    /// How long a writer waits for another connection's write lock before SQLITE_BUSY.
    static constexpr std::chrono::milliseconds busy_timeout{5000};

    /// Opens (creating it and its parent directories if needed) the database at `path`, switches it to WAL mode
    /// with synchronous=NORMAL, foreign keys on and the busy timeout, then applies the schema migrations
    /// (migrations.hpp). Throws std::runtime_error naming `path` when any of this fails, including a database
    /// whose schema is newer than this binary.
    static Database open(const std::filesystem::path& path);

    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database() = default;

    /// Runs one or more SQL statements that return no rows of interest (DDL, PRAGMAs, BEGIN/COMMIT).
    void exec(const std::string& sql);

    /// Prepares one statement; keep it to run it again and again.
    [[nodiscard]] Statement prepare(std::string_view sql);

    /// `PRAGMA data_version`: changes when another connection commits to the file, never for this connection's own
    /// commits. Comparing two values tells whether someone else (the CLI, another process) wrote in between.
    [[nodiscard]] std::int64_t data_version();

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    [[nodiscard]] std::int64_t changes() const noexcept;
    [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;
    /// True inside BEGIN … COMMIT.
    [[nodiscard]] bool in_transaction() const noexcept;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    struct Closer {
        void operator()(sqlite3* handle) const noexcept;
    };

    Database(std::unique_ptr<sqlite3, Closer> handle, std::filesystem::path path);

    std::unique_ptr<sqlite3, Closer> handle_;
    std::filesystem::path path_;

    friend class Statement;
};

/// A prepared statement. Parameter indexes start at 1 (`?1`, or the position of `?`), column indexes at 0, as in
/// the SQLite C API. A Statement must not outlive the Database that prepared it; moving the Database is fine.
///
/// Use: reset(), bind the parameters, then step() until it returns false. A statement that reaches its end, or
/// fails, resets itself (keeping its bindings), so it never holds a read snapshot open; call reset() when leaving
/// a query before its last row.
class Statement {
public:
    Statement(Database& db, std::string_view sql);

    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind_int64(int index, std::int64_t value);
    Statement& bind_double(int index, double value);
    /// The text is copied: `value` may go away before step().
    Statement& bind_text(int index, std::string_view value);
    /// The bytes are copied: `value` may go away before step().
    Statement& bind_blob(int index, std::span<const std::uint8_t> value);
    Statement& bind_null(int index);

    /// Runs the statement to its next row: true when a row is available to the column getters, false when done.
    bool step();
    /// Rewinds the statement and clears its bindings, ready for the next use.
    void reset() noexcept;

    [[nodiscard]] int column_count() const noexcept;
    [[nodiscard]] bool column_is_null(int index) const noexcept;
    [[nodiscard]] std::int64_t column_int64(int index) const noexcept;
    [[nodiscard]] double column_double(int index) const noexcept;
    /// The column as text; an empty string for NULL.
    [[nodiscard]] std::string column_text(int index) const;
    /// The column as bytes; empty for NULL.
    [[nodiscard]] std::vector<std::uint8_t> column_blob(int index) const;

    /// The SQL as prepared, for error messages.
    [[nodiscard]] std::string sql() const;

private:
    [[noreturn]] void fail(int code, std::string_view action) const;
    void check_bind(int code, int index) const;

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN IMMEDIATE … COMMIT. IMMEDIATE takes the write lock at the start, so a transaction that reads and then
/// writes never fails half-way with SQLITE_BUSY; the busy timeout makes it wait for another writer instead.
/// Destroying it without commit() rolls back everything done since the constructor.
class Transaction {
public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    void commit();

private:
    Database& db_;
    bool done_ = false;
};

/// The one text form of a point in time in every table: RFC 3339, UTC, microseconds, e.g.
/// "2026-11-21T08:30:00.123456Z". Fixed width, so that text order is time order in SQL. Finer digits are
/// truncated towards the past.
[[nodiscard]] std::string format_timestamp(std::chrono::system_clock::time_point time);
/// Parses RFC 3339 ("Z" or a ±hh:mm offset, 0 to 9 fraction digits); nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

}  // namespace schwebe::sqlite
