// API tokens in SQLite (integrations/sqlite/token_store.hpp): shown once, stored as a hash, found by the secret.
#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <array>
#include <set>
#include <string>

#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/token_store.hpp"
#include "lorawan/bytes.hpp"
#include "support/sqlite_files.hpp"

using schwebe::sqlite::Database;
using schwebe::sqlite::SqliteTokenStore;
using schwebe::test::TempDir;

namespace {

std::string sha256_hex(const std::string& text) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    REQUIRE(EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) == 1);
    return schwebe::lorawan::to_hex({digest.data(), length});
}

}  // namespace

TEST_CASE("api tokens: the secret is shown once and only its SHA-256 is stored", "[integration][sqlite][tokens]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    SqliteTokenStore tokens(db);
    std::string error;
    const auto created = tokens.create("sim", error);
    REQUIRE(created);
    // "schwebe_" and 32 random bytes in base64url without padding: 43 characters of [A-Za-z0-9_-].
    REQUIRE(created->secret.size() == 8 + 43);
    CHECK(created->secret.starts_with("schwebe_"));
    CHECK(created->secret.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 8) == std::string::npos);
    CHECK(created->token.id.size() == 36);

    auto row = db.prepare("SELECT name, token_hash FROM api_tokens");
    REQUIRE(row.step());
    CHECK(row.column_text(0) == "sim");
    CHECK(row.column_text(1) == sha256_hex(created->secret));
    row.reset();

    const auto found = tokens.verify(created->secret);
    REQUIRE(found);
    CHECK(found->name == "sim");
    REQUIRE(found->last_used_at);
    CHECK_FALSE(tokens.verify(created->secret + "x"));
    CHECK_FALSE(tokens.verify(""));
    CHECK_FALSE(tokens.verify(sha256_hex(created->secret)));  // the stored hash is no key

    // Secrets differ from token to token.
    std::set<std::string> secrets{created->secret};
    for (int i = 0; i < 20; ++i) {
        const auto another = tokens.create("t" + std::to_string(i), error);
        REQUIRE(another);
        CHECK(secrets.insert(another->secret).second);
    }
}

TEST_CASE("api tokens: names are checked, listed in order, and a revoked token no longer verifies",
          "[integration][sqlite][tokens]") {
    TempDir dir;
    auto db = Database::open(dir.db_path());
    SqliteTokenStore tokens(db);
    std::string error;
    CHECK_FALSE(tokens.create("", error));
    CHECK(error.starts_with("name:"));
    CHECK_FALSE(tokens.create(std::string(65, 'a'), error));
    CHECK(error.starts_with("name:"));
    CHECK(tokens.create(std::string(64, 'a'), error));
    const auto b = tokens.create("beta", error);
    REQUIRE(b);
    CHECK_FALSE(tokens.create("beta", error));
    CHECK(error.find("exists") != std::string::npos);

    const auto listed = tokens.list();
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].name == std::string(64, 'a'));
    CHECK(listed[1].name == "beta");
    CHECK_FALSE(listed[1].last_used_at);

    CHECK(tokens.revoke("beta"));
    CHECK_FALSE(tokens.verify(b->secret));
    CHECK_FALSE(tokens.revoke("beta"));
    CHECK(tokens.revoke(listed[0].id));  // by id too
    CHECK(tokens.list().empty());
}
