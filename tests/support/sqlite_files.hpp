#pragma once
// Real SQLite files for tests: a fresh directory per test, and a one-value query.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <filesystem>
#include <random>
#include <string>

#include "integrations/sqlite/database.hpp"

namespace schwebe::test {

/// A directory of its own for one test, removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        std::random_device random;
        path_ = std::filesystem::temp_directory_path() /
                ("schwebe-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()) + "-" +
                 std::to_string(counter++));
        REQUIRE(std::filesystem::create_directory(path_));  // false would mean the name was taken: not fresh
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] std::filesystem::path db_path() const { return path_ / "schwebe.db"; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// The single integer a query yields (PRAGMA values, counts).
inline std::int64_t query_int(sqlite::Database& db, const std::string& sql) {
    sqlite::Statement statement = db.prepare(sql);
    REQUIRE(statement.step());
    const auto value = statement.column_int64(0);
    statement.reset();
    return value;
}

}  // namespace schwebe::test
