#include "app/gateway_command.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/command_support.hpp"
#include "common/gateway_json.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/gateway_store.hpp"

namespace schwebe::app {

int gateway_add(const common::Config& config, const GatewayAddArgs& args) {
    const auto id = lorawan::Eui64::from_hex(args.gateway_id);
    if (!id) return fail("--gateway-id: expected 16 hex digits, got '" + args.gateway_id + "'");
    bridge::GatewayRecord r;
    r.gateway_id = *id;
    r.name = args.name;
    r.registered = true;
    if (args.latitude.has_value() != args.longitude.has_value()) return fail("give both --lat and --lon, or neither");
    if (args.latitude) {
        if (*args.latitude < -90 || *args.latitude > 90) return fail("--lat: outside -90..90");
        if (*args.longitude < -180 || *args.longitude > 180) return fail("--lon: outside -180..180");
        r.location = common::Location{*args.latitude, *args.longitude, args.altitude.value_or(0)};
    }
    for (const std::string& tag : args.tags) {
        const auto eq = tag.find('=');
        if (eq == std::string::npos || eq == 0) return fail("--tag: expected key=value, got '" + tag + "'");
        r.tags[tag.substr(0, eq)] = tag.substr(eq + 1);
    }
    return with_store<sqlite::SqliteGatewayStore>(config, [&](sqlite::SqliteGatewayStore& store) {
        store.save_registered_gateway(r);
        std::cout << "gateway " << r.gateway_id.to_string() << " registered\n";
        return 0;
    });
}

int gateway_list(const common::Config& config, bool json) {
    return with_store<sqlite::SqliteGatewayStore>(config, [&](sqlite::SqliteGatewayStore& store) {
        const auto gateways = store.load_gateways();
        if (json) {
            nlohmann::ordered_json out = nlohmann::ordered_json::array();
            for (const auto& g : gateways) {
                nlohmann::ordered_json j{{"gateway_id", g.gateway_id.to_string()},
                                         {"name", g.name},
                                         {"registered", g.registered},
                                         {"tags", g.tags},
                                         {"frames_received", g.frames_received}};
                j["location"] = g.location ? nlohmann::ordered_json{{"latitude", g.location->latitude},
                                                                    {"longitude", g.location->longitude},
                                                                    {"altitude", g.location->altitude}}
                                           : nlohmann::ordered_json(nullptr);
                j["last_seen"] = g.last_seen ? nlohmann::ordered_json(common::format_rfc3339(*g.last_seen)) : nullptr;
                out.push_back(std::move(j));
            }
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("%-16s  %-10s  %-24s  %10s  %s\n", "GATEWAY_ID", "REGISTERED", "NAME", "FRAMES", "LAST_SEEN");
        for (const auto& g : gateways) {
            std::printf("%-16s  %-10s  %-24s  %10llu  %s\n", g.gateway_id.to_string().c_str(),
                        g.registered ? "yes" : "no (seen)", g.name.c_str(),
                        static_cast<unsigned long long>(g.frames_received),
                        g.last_seen ? common::format_rfc3339(*g.last_seen).c_str() : "-");
        }
        return 0;
    });
}

int gateway_remove(const common::Config& config, const std::string& gateway_id) {
    const auto id = lorawan::Eui64::from_hex(gateway_id);
    if (!id) return fail("--gateway-id: expected 16 hex digits, got '" + gateway_id + "'");
    return with_store<sqlite::SqliteGatewayStore>(config, [&](sqlite::SqliteGatewayStore& store) {
        if (!store.remove_gateway(*id)) return fail("no gateway " + id->to_string());
        std::cout << "gateway " << id->to_string() << " removed\n";
        return 0;
    });
}

}  // namespace schwebe::app
