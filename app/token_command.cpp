#include "app/token_command.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/command_support.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/token_store.hpp"

namespace schwebe::app {

namespace {

using Json = nlohmann::ordered_json;

Json optional_text(const std::optional<std::string>& text) {
    return text ? Json(*text) : Json(nullptr);
}

}  // namespace

int token_create(const common::Config& config, const std::string& name, bool json) {
    return with_store<sqlite::SqliteTokenStore>(config, [&](sqlite::SqliteTokenStore& store) {
        std::string error;
        const auto created = store.create(name, error);
        if (!created) return fail(error);
        if (json) {
            std::cout << Json{{"id", created->token.id},
                              {"name", created->token.name},
                              {"created_at", created->token.created_at},
                              {"token", created->secret}}
                             .dump(2)
                      << '\n';
            return 0;
        }
        // The secret alone on stdout, so that `$(schwebe token create …)` captures exactly it.
        std::cerr << "token " << created->token.name << " created (id " << created->token.id
                  << "); its secret is shown only this once\n";
        std::cout << created->secret << '\n';
        return 0;
    });
}

int token_list(const common::Config& config, bool json) {
    return with_store<sqlite::SqliteTokenStore>(config, [&](sqlite::SqliteTokenStore& store) {
        const auto tokens = store.list();
        if (json) {
            Json out = Json::array();
            for (const auto& t : tokens) {
                out.push_back(Json{{"id", t.id},
                                   {"name", t.name},
                                   {"created_at", t.created_at},
                                   {"last_used_at", optional_text(t.last_used_at)}});
            }
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("%-36s  %-24s  %-27s  %s\n", "ID", "NAME", "CREATED_AT", "LAST_USED_AT");
        for (const auto& t : tokens) {
            std::printf("%-36s  %-24s  %-27s  %s\n", t.id.c_str(), t.name.c_str(), t.created_at.c_str(),
                        t.last_used_at ? t.last_used_at->c_str() : "-");
        }
        return 0;
    });
}

int token_revoke(const common::Config& config, const std::string& id_or_name) {
    return with_store<sqlite::SqliteTokenStore>(config, [&](sqlite::SqliteTokenStore& store) {
        if (!store.revoke(id_or_name)) return fail("no token with id or name '" + id_or_name + "'");
        std::cout << "token " << id_or_name << " revoked\n";
        return 0;
    });
}

}  // namespace schwebe::app
