#pragma once
// API tokens (migration 5, table api_tokens): a token is shown once when created and stored only as its SHA-256
// hash, so a copy of the database gives no one the API's write access.

#include <optional>
#include <string>
#include <vector>

#include "integrations/sqlite/database.hpp"

namespace schwebe::sqlite {

struct ApiToken {
    std::string id;          ///< UUID
    std::string name;        ///< what the operator called it ("sim", "parking-import"); unique, not empty
    std::string created_at;  ///< RFC 3339
    std::optional<std::string> last_used_at;
};

class SqliteTokenStore {
public:
    explicit SqliteTokenStore(Database& db);

    struct Created {
        ApiToken token;
        std::string secret;  ///< "schwebe_" + 43 characters of base64url (32 random bytes): shown once, never stored
    };
    /// Refused (std::nullopt and `error` set, naming the field) when the name is empty, longer than 64 or taken.
    std::optional<Created> create(const std::string& name, std::string& error);
    /// Ordered by name.
    [[nodiscard]] std::vector<ApiToken> list();
    /// By id or by name; false when there was none.
    bool revoke(const std::string& id_or_name);
    /// The token whose hash matches `secret`; sets its last_used_at (at most once a minute, to spare writes).
    [[nodiscard]] std::optional<ApiToken> verify(const std::string& secret);

private:
    Database& db_;
};

}  // namespace schwebe::sqlite
