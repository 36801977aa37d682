#include "integrations/sqlite/database.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <system_error>
#include <utility>

#include "integrations/sqlite/migrations.hpp"

namespace schwebe::sqlite {

namespace {

/// For errors at open time, when there is no Database yet to throw an sqlite::Error from.
[[noreturn]] void fail_open(const std::filesystem::path& path, std::string_view what, std::string_view detail) {
    throw std::runtime_error("sqlite: cannot open " + path.string() + ": " + std::string(what) + ": " +
                             std::string(detail));
}

/// Runs one PRAGMA (or any statement) on a raw handle and returns the first column of its first row as text.
std::string query_text(sqlite3* handle, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        throw Error(sqlite3_extended_errcode(handle), sqlite3_errmsg(handle));
    }
    std::string result;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (const auto* text = sqlite3_column_text(stmt, 0)) result = reinterpret_cast<const char*>(text);
    } else if (rc != SQLITE_DONE) {
        Error error(sqlite3_extended_errcode(handle), sqlite3_errmsg(handle));
        sqlite3_finalize(stmt);
        throw error;
    }
    sqlite3_finalize(stmt);
    return result;
}

/// Switching a new file to WAL takes the write lock while already reading it, and in that state SQLite returns
/// SQLITE_BUSY at once instead of calling the busy handler (waiting could deadlock). So when two processes open a
/// new file together, one of them is refused; it tries again for as long as the busy timeout would have waited.
/// Only the first open of a file can meet this: WAL mode is then recorded in the file.
std::string switch_to_wal(sqlite3* handle, std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        try {
            return query_text(handle, "PRAGMA journal_mode = WAL");
        } catch (const Error& e) {
            if ((e.code() & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) throw;
        }
        sqlite3_sleep(1);  // ms; the other opener needs about as long to finish the switch
    }
}

/// The SQL for an error message: whitespace collapsed and cut short, since a migration may be a page long.
std::string excerpt(std::string_view sql) {
    constexpr std::size_t max_length = 160;
    std::string out;
    bool space = false;
    for (const char c : sql) {
        const bool is_space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (is_space) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
        if (out.size() >= max_length) return out + "...";
    }
    return out;
}

void exec_raw(sqlite3* handle, const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return;
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw Error(sqlite3_extended_errcode(handle), "sqlite: " + text + " (in: " + excerpt(sql) + ")");
}

}  // namespace

void Database::Closer::operator()(sqlite3* handle) const noexcept {
    // close_v2: a Statement still alive somewhere keeps the connection as a zombie instead of leaking it.
    sqlite3_close_v2(handle);
}

Database::Database(std::unique_ptr<sqlite3, Closer> handle, std::filesystem::path path)
    : handle_(std::move(handle)), path_(std::move(path)) {}

Database Database::open(const std::filesystem::path& path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) fail_open(path, "cannot create directory " + path.parent_path().string(), ec.message());
    }

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    std::unique_ptr<sqlite3, Closer> handle(raw);
    if (rc != SQLITE_OK) fail_open(path, "open", handle ? sqlite3_errmsg(handle.get()) : sqlite3_errstr(rc));
    sqlite3_extended_result_codes(handle.get(), 1);

    try {
        // The busy timeout first: switching to WAL needs a lock that another process may hold.
        sqlite3_busy_timeout(handle.get(), static_cast<int>(busy_timeout.count()));
        const std::string mode = switch_to_wal(handle.get(), busy_timeout);
        // An in-memory database (":memory:", tests) cannot be WAL and needs not be; a file must be.
        if (mode != "wal" && path != ":memory:") fail_open(path, "journal_mode", "WAL refused, got " + mode);
        // In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which FULL would keep
        // at the price of an fsync on every commit.
        exec_raw(handle.get(), "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    } catch (const Error& e) {
        fail_open(path, "configure", e.what());
    }

    Database db(std::move(handle), path);
    apply_migrations(db, schema_migrations());
    return db;
}

void Database::exec(const std::string& sql) {
    exec_raw(handle_.get(), sql);
}

Statement Database::prepare(std::string_view sql) {
    return Statement(*this, sql);
}

std::int64_t Database::data_version() {
    Statement stmt(*this, "PRAGMA data_version");
    if (!stmt.step()) throw Error(SQLITE_ERROR, "sqlite: PRAGMA data_version returned no row");
    const std::int64_t version = stmt.column_int64(0);
    stmt.reset();
    return version;
}

std::int64_t Database::changes() const noexcept {
    return sqlite3_changes64(handle_.get());
}

std::int64_t Database::last_insert_rowid() const noexcept {
    return sqlite3_last_insert_rowid(handle_.get());
}

bool Database::in_transaction() const noexcept {
    return sqlite3_get_autocommit(handle_.get()) == 0;
}

Statement::Statement(Database& db, std::string_view sql) : db_(db.handle_.get()) {
    const char* tail = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, &tail);
    if (rc != SQLITE_OK) {
        throw Error(sqlite3_extended_errcode(db_),
                    "sqlite: prepare failed: " + std::string(sqlite3_errmsg(db_)) + " (in: " + excerpt(sql) + ")");
    }
    // A second statement after the first would be silently ignored by SQLite: refuse it instead.
    const std::string_view rest = sql.substr(static_cast<std::size_t>(tail - sql.data()));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
        throw Error(SQLITE_MISUSE, "sqlite: one statement per Statement (in: " + excerpt(sql) + ")");
    }
    if (stmt_ == nullptr) throw Error(SQLITE_MISUSE, "sqlite: empty statement");
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        db_ = std::exchange(other.db_, nullptr);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);  // a no-op on nullptr (moved-from)
}

void Statement::fail(int code, std::string_view action) const {
    // The message belongs to the connection; read it before anything else can replace it.
    throw Error(code,
                "sqlite: " + std::string(action) + " failed: " + sqlite3_errmsg(db_) + " (in: " + excerpt(sql()) + ")");
}

void Statement::check_bind(int code, int index) const {
    if (code != SQLITE_OK) fail(sqlite3_extended_errcode(db_), "bind ?" + std::to_string(index));
}

Statement& Statement::bind_int64(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind_double(int index, double value) {
    check_bind(sqlite3_bind_double(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
    check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
    return *this;
}

Statement& Statement::bind_blob(int index, std::span<const std::uint8_t> value) {
    // A zero-length blob is still a blob, not NULL: sqlite3_bind_blob64 with a null pointer would bind NULL.
    static constexpr std::uint8_t empty = 0;
    const void* data = value.empty() ? &empty : value.data();
    check_bind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT), index);
    return *this;
}

Statement& Statement::bind_null(int index) {
    check_bind(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
        // Ends the statement's read of the file at once: a statement left mid-way would pin an old WAL snapshot.
        sqlite3_reset(stmt_);
        return false;
    }
    const int code = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw Error(code, "sqlite: step failed: " + message + " (in: " + excerpt(sql()) + ")");
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const noexcept {
    return sqlite3_column_count(stmt_);
}

bool Statement::column_is_null(int index) const noexcept {
    return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int index) const noexcept {
    return sqlite3_column_int64(stmt_, index);
}

double Statement::column_double(int index) const noexcept {
    return sqlite3_column_double(stmt_, index);
}

std::string Statement::column_text(int index) const {
    const auto* text = sqlite3_column_text(stmt_, index);
    if (text == nullptr) return {};
    // The size after the text call: the conversion to text may change it (SQLite docs, "column_bytes").
    const int size = sqlite3_column_bytes(stmt_, index);
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Statement::column_blob(int index) const {
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
    const int size = sqlite3_column_bytes(stmt_, index);
    if (data == nullptr || size <= 0) return {};
    return std::vector<std::uint8_t>(data, data + size);
}

std::string Statement::sql() const {
    const char* text = stmt_ ? sqlite3_sql(stmt_) : nullptr;
    return text ? text : "";
}

Transaction::Transaction(Database& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (done_) return;
    // Some errors (SQLITE_FULL, SQLITE_IOERR, …) already rolled the transaction back; only roll back what is open.
    if (!db_.in_transaction()) return;
    try {
        db_.exec("ROLLBACK");
    } catch (const Error&) {
        // Nothing more to do from a destructor: SQLite rolls back an open transaction when the connection closes.
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

// ---------------------------------------------------------------------------------------------------------------
// Timestamps

std::string format_timestamp(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto micros = floor<microseconds>(time);
    const auto day = floor<days>(micros);
    const year_month_day date{day};
    const hh_mm_ss clock{micros - day};
    const int year = static_cast<int>(date.year());
    std::array<char, 40> buffer{};
    if (year < 0 || year > 9999) {
        std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", year,
                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
        return buffer.data();
    }
    // Written digit by digit: this runs several times per uplink, and snprintf costs about a microsecond.
    std::string out = "0000-00-00T00:00:00.000000Z";
    const auto put = [&out](std::size_t pos, std::size_t width, long long value) {
        for (std::size_t i = 0; i < width; ++i, value /= 10) out[pos + width - 1 - i] = static_cast<char>('0' + value % 10);
    };
    put(0, 4, year);
    put(5, 2, static_cast<unsigned>(date.month()));
    put(8, 2, static_cast<unsigned>(date.day()));
    put(11, 2, clock.hours().count());
    put(14, 2, clock.minutes().count());
    put(17, 2, clock.seconds().count());
    put(20, 6, clock.subseconds().count());
    return out;
}

namespace {

/// Reads exactly `width` decimal digits at `pos`, advancing it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t width) {
    if (text.size() - pos < width) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    pos += width;
    return value;
}

bool read_char(std::string_view text, std::size_t& pos, std::string_view accepted) {
    if (pos >= text.size() || accepted.find(text[pos]) == std::string_view::npos) return false;
    ++pos;
    return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
    using namespace std::chrono;
    // RFC 3339 §5.6: full-date "T" full-time, where full-time = hh:mm:ss[.frac] (Z | ±hh:mm); §5.6 allows "t",
    // "z" and, by NOTE, a space for "T".
    std::size_t pos = 0;
    const auto y = read_digits(text, pos, 4);
    if (!y || !read_char(text, pos, "-")) return std::nullopt;
    const auto mo = read_digits(text, pos, 2);
    if (!mo || !read_char(text, pos, "-")) return std::nullopt;
    const auto d = read_digits(text, pos, 2);
    if (!d || !read_char(text, pos, "Tt ")) return std::nullopt;
    const auto h = read_digits(text, pos, 2);
    if (!h || !read_char(text, pos, ":")) return std::nullopt;
    const auto mi = read_digits(text, pos, 2);
    if (!mi || !read_char(text, pos, ":")) return std::nullopt;
    const auto s = read_digits(text, pos, 2);
    if (!s) return std::nullopt;

    nanoseconds fraction{0};
    if (read_char(text, pos, ".")) {
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            // Digits beyond nanoseconds carry no information system_clock can hold.
            if (digits < 9) fraction += nanoseconds{(text[pos] - '0') * scale};
            scale /= 10;
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
    }

    minutes offset{0};
    if (read_char(text, pos, "Zz")) {
        // UTC
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const bool east = text[pos] == '+';
        ++pos;
        const auto oh = read_digits(text, pos, 2);
        if (!oh || !read_char(text, pos, ":")) return std::nullopt;
        const auto om = read_digits(text, pos, 2);
        if (!om || *oh > 23 || *om > 59) return std::nullopt;
        offset = hours{*oh} + minutes{*om};
        if (!east) offset = -offset;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;

    const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    // 60 seconds is a leap second (RFC 3339 §5.7); system_clock has none, so it lands on the next minute's start.
    if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
    const auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s} + fraction;
    return time_point_cast<system_clock::duration>(local - offset);
}

}  // namespace schwebe::sqlite
