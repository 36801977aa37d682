#include "integrations/sqlite/token_store.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <random>
#include <stdexcept>

#include "common/uuid.hpp"
#include "lorawan/bytes.hpp"

namespace schwebe::sqlite {
namespace {

constexpr std::size_t max_name_length = 64;
constexpr auto last_used_resolution = std::chrono::minutes(1);

std::string base64url(std::span<const unsigned char> bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        if (rest == 2) out += alphabet[(v >> 6) & 63];
    }
    return out;
}

/// Lower-case hex SHA-256 of the secret.
std::string sha256_hex(std::string_view secret) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(secret.data(), secret.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("api tokens: SHA-256 failed");
    }
    return lorawan::to_hex({digest.data(), length});
}

ApiToken token_from(Statement& row) {
    ApiToken token;
    token.id = row.column_text(0);
    token.name = row.column_text(1);
    token.created_at = row.column_text(2);
    if (!row.column_is_null(3)) token.last_used_at = row.column_text(3);
    return token;
}

}  // namespace

SqliteTokenStore::SqliteTokenStore(Database& db) : db_(db) {}

std::optional<SqliteTokenStore::Created> SqliteTokenStore::create(const std::string& name, std::string& error) {
    if (name.empty()) {
        error = "name: must not be empty";
        return std::nullopt;
    }
    if (name.size() > max_name_length) {
        error = "name: longer than " + std::to_string(max_name_length) + " characters";
        return std::nullopt;
    }
    for (const char c : name) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            error = "name: control characters are not allowed";
            return std::nullopt;
        }
    }
    {
        auto taken = db_.prepare("SELECT 1 FROM api_tokens WHERE name = ?1");
        taken.bind_text(1, name);
        if (taken.step()) {
            taken.reset();
            error = "name: a token named '" + name + "' exists";
            return std::nullopt;
        }
    }
    std::array<unsigned char, 32> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        throw std::runtime_error("api tokens: no random bytes from OpenSSL");
    }
    std::array<unsigned char, 8> seed_bytes{};
    if (RAND_bytes(seed_bytes.data(), static_cast<int>(seed_bytes.size())) != 1) {
        throw std::runtime_error("api tokens: no random bytes from OpenSSL");
    }
    std::uint64_t seed = 0;
    for (const auto b : seed_bytes) seed = (seed << 8) | b;
    std::mt19937_64 rng(seed);

    Created created;
    created.secret = "schwebe_" + base64url(random);
    created.token.id = common::uuid_v4(rng);
    created.token.name = name;
    created.token.created_at = format_timestamp(std::chrono::system_clock::now());
    auto insert = db_.prepare(
        "INSERT INTO api_tokens (id, name, token_hash, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, NULL)");
    insert.bind_text(1, created.token.id)
        .bind_text(2, name)
        .bind_text(3, sha256_hex(created.secret))
        .bind_text(4, created.token.created_at);
    insert.step();
    return created;
}

std::vector<ApiToken> SqliteTokenStore::list() {
    auto rows = db_.prepare("SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY name");
    std::vector<ApiToken> tokens;
    while (rows.step()) tokens.push_back(token_from(rows));
    return tokens;
}

bool SqliteTokenStore::revoke(const std::string& id_or_name) {
    auto remove = db_.prepare("DELETE FROM api_tokens WHERE id = ?1 OR name = ?1");
    remove.bind_text(1, id_or_name);
    remove.step();
    return db_.changes() > 0;
}

std::optional<ApiToken> SqliteTokenStore::verify(const std::string& secret) {
    if (secret.empty()) return std::nullopt;
    auto find = db_.prepare("SELECT id, name, created_at, last_used_at FROM api_tokens WHERE token_hash = ?1");
    find.bind_text(1, sha256_hex(secret));
    if (!find.step()) return std::nullopt;
    ApiToken token = token_from(find);
    find.reset();

    const auto now = std::chrono::system_clock::now();
    bool stale = true;
    if (token.last_used_at) {
        if (const auto last = parse_timestamp(*token.last_used_at)) stale = now - *last >= last_used_resolution;
    }
    if (stale) {
        token.last_used_at = format_timestamp(now);
        auto touch = db_.prepare("UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2");
        touch.bind_text(1, *token.last_used_at).bind_text(2, token.id);
        touch.step();
    }
    return token;
}

}  // namespace schwebe::sqlite
