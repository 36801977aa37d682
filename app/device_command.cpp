#include "app/device_command.hpp"

#include <fstream>
#include <sstream>

#include "app/device_csv.hpp"
#include "app/registry_json.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "decoders/codec.hpp"
#include "decoders/js/js_codecs.hpp"
#include "app/command_support.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"

namespace schwebe::app {

namespace {


using Json = nlohmann::ordered_json;
using sqlite::SqliteDeviceRegistry;

/// Opens the configured store and runs `f(db, registry)`; any exception becomes a one-line reason.
template <class F>
int with_registry(const common::Config& config, F&& f) {
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        SqliteDeviceRegistry registry{db};
        return f(db, registry);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

/// A small integer option: out of its type's range is refused here, the field's own range by the registry.
template <class T>
bool narrow(const std::optional<long long>& value, T& out, long long max, const char* option, std::string& error) {
    if (!value) return true;
    if (*value < 0 || *value > max) {
        error = std::string(option) + ": out of range, got " + std::to_string(*value);
        return false;
    }
    out = static_cast<T>(*value);
    return true;
}

/// An optional key option, parsed without ever repeating its value in an error.
template <class Key>
bool parse_key(const std::optional<std::string>& text, std::optional<Key>& out, const char* option,
               std::string& error) {
    if (!text) return true;
    out = Key::from_hex(*text);
    if (!out) error = std::string(option) + ": expected 32 hex digits";
    return out.has_value();
}

std::optional<ns::DeviceProfile> find_profile(SqliteDeviceRegistry& registry, const std::string& name_or_id) {
    if (auto p = registry.find_device_profile_by_name(name_or_id)) return p;
    return registry.find_device_profile_by_id(name_or_id);
}

std::optional<ns::Application> find_application(SqliteDeviceRegistry& registry, const std::string& name_or_id) {
    if (auto a = registry.find_application_by_name(name_or_id)) return a;
    return registry.find_application_by_id(name_or_id);
}

/// The id of the application with that name (or id).
std::optional<std::string> application_id_of(SqliteDeviceRegistry& registry, const std::string& name_or_id) {
    const auto found = find_application(registry, name_or_id);
    return found ? std::optional<std::string>(found->id) : std::nullopt;
}

std::optional<lorawan::Eui64> parse_dev_eui(const std::string& text, std::string& error) {
    auto eui = lorawan::Eui64::from_hex(text);
    if (!eui) error = "--dev-eui: expected 16 hex digits, got '" + text + "'";
    return eui;
}

}  // namespace

// ---- profile -------------------------------------------------------------------------------------------------------

int profile_add(const common::Config& config, const ProfileAddArgs& args) {
    ns::DeviceProfile p;
    p.name = args.name;
    const auto activation = ns::activation_from_string(args.activation);
    if (!activation) return fail("--activation: expected otaa or abp, got '" + args.activation + "'");
    p.activation = *activation;
    const auto mac_version = ns::mac_version_from_string(args.mac_version);
    if (!mac_version) return fail("--mac-version: expected 1.0.2, 1.0.3 or 1.0.4, got '" + args.mac_version + "'");
    p.mac_version = *mac_version;
    if (args.f_cnt_mode) {
        const auto mode = ns::f_cnt_mode_from_string(*args.f_cnt_mode);
        if (!mode) return fail("--fcnt-mode: expected strict or relaxed, got '" + *args.f_cnt_mode + "'");
        p.f_cnt_mode = *mode;
    }
    if (args.adr) {
        if (*args.adr != "on" && *args.adr != "off") return fail("--adr: expected on or off, got '" + *args.adr + "'");
        p.adr_enabled = *args.adr == "on";
    }
    if (args.codec && !args.codec->empty()) {
        std::string error;
        if (!resolve_codec(*args.codec, p.codec, error)) return fail("--codec: " + error);
    }
    if (args.adr_margin_db) p.adr_margin_db = *args.adr_margin_db;
    std::string error;
    if (!narrow(args.rx1_delay_s, p.rx1_delay_s, 255, "--rx1-delay", error) ||
        !narrow(args.rx1_dr_offset, p.rx1_dr_offset, 255, "--rx1-dr-offset", error) ||
        !narrow(args.rx2_dr, p.rx2_dr, 255, "--rx2-dr", error) ||
        !narrow(args.rx2_frequency_hz, p.rx2_frequency_hz, 0xffffffffLL, "--rx2-frequency", error)) {
        return fail(error);
    }
    if (args.dev_status_interval_s) {
        if (*args.dev_status_interval_s < 0 || *args.dev_status_interval_s > 365LL * 24 * 3600) {
            return fail("--dev-status-interval: expected 0..31536000 s (0: never)");
        }
        p.dev_status_interval = std::chrono::seconds{*args.dev_status_interval_s};
    }
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        const auto created = registry.create_device_profile(p);
        if (!created) return fail(created.error());
        std::cout << "device profile " << created->name << " added (id " << created->id << ")\n";
        return 0;
    });
}

int profile_list(const common::Config& config, bool json) {
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        const auto profiles = registry.list_device_profiles();
        if (json) {
            Json out = Json::array();
            for (const auto& p : profiles) out.push_back(profile_json(p));
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("%-24s  %-10s  %-7s  %-8s  %-4s  %-8s  %-9s  %s\n", "NAME", "ACTIVATION", "MAC", "FCNT", "ADR",
                    "MARGIN", "RX1_DELAY", "CODEC");
        for (const auto& p : profiles) {
            std::printf("%-24s  %-10s  %-7s  %-8s  %-4s  %-8g  %-9u  %s\n", p.name.c_str(),
                        std::string(ns::to_string(p.activation)).c_str(),
                        std::string(ns::to_string(p.mac_version)).c_str(),
                        std::string(ns::to_string(p.f_cnt_mode)).c_str(), p.adr_enabled ? "on" : "off", p.adr_margin_db,
                        static_cast<unsigned>(p.rx1_delay_s), p.codec.empty() ? "-" : p.codec.c_str());
        }
        return 0;
    });
}

// ---- device --------------------------------------------------------------------------------------------------------

int device_add(const common::Config& config, const DeviceAddArgs& args) {
    std::string error;
    ns::Device d;
    const auto dev_eui = parse_dev_eui(args.dev_eui, error);
    if (!dev_eui) return fail(error);
    d.dev_eui = *dev_eui;
    d.name = args.name;
    if (args.join_eui) {
        d.join_eui = lorawan::Eui64::from_hex(*args.join_eui);
        if (!d.join_eui) return fail("--join-eui: expected 16 hex digits, got '" + *args.join_eui + "'");
    }
    if (args.dev_addr) {
        d.dev_addr = lorawan::DevAddr::from_hex(*args.dev_addr);
        if (!d.dev_addr) return fail("--dev-addr: expected 8 hex digits, got '" + *args.dev_addr + "'");
    }
    if (!parse_key(args.app_key, d.app_key, "--app-key", error) ||
        !parse_key(args.nwk_s_key, d.nwk_s_key, "--nwk-s-key", error) ||
        !parse_key(args.app_s_key, d.app_s_key, "--app-s-key", error)) {
        return fail(error);
    }
    for (const std::string& tag : args.tags) {
        const auto eq = tag.find('=');
        if (eq == std::string::npos || eq == 0) return fail("--tag: expected key=value, got '" + tag + "'");
        d.tags[tag.substr(0, eq)] = tag.substr(eq + 1);
    }
    if (args.latitude.has_value() != args.longitude.has_value()) return fail("give both --lat and --lon, or neither");
    if (args.altitude && !args.latitude) return fail("--alt: needs --lat and --lon");
    if (args.latitude) d.location = common::Location{*args.latitude, *args.longitude, args.altitude.value_or(0)};

    return with_registry(config, [&](sqlite::Database& db, SqliteDeviceRegistry& registry) {
        const auto profile = find_profile(registry, args.profile);
        if (!profile) return fail("--profile: no device profile '" + args.profile + "'");
        d.device_profile_id = profile->id;

        // One transaction: an application created for this device disappears again if the device is refused.
        sqlite::Transaction transaction(db);
        auto application = find_application(registry, args.application);
        if (!application) {
            auto created = registry.create_application(args.application);
            if (!created) return fail("--application: " + created.error());
            application = std::move(created).value();
        }
        d.application_id = application->id;
        if (const auto added = registry.add_device(d); !added) return fail(added.error());
        transaction.commit();
        std::cout << "device " << d.dev_eui.to_string() << " added (" << ns::to_string(profile->activation)
                  << ", profile " << profile->name << ", application " << application->name << ")\n";
        return 0;
    });
}

int device_list(const common::Config& config, const std::optional<std::string>& application, bool json) {
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        std::optional<std::string> application_id;
        if (application && !(application_id = application_id_of(registry, *application))) {
            return fail("--application: no application '" + *application + "'");
        }
        const auto devices = registry.list_devices(application_id);
        const Names names(registry);
        if (json) {
            Json out = Json::array();
            for (const auto& d : devices) out.push_back(device_json(d, names));
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("%-16s  %-24s  %-16s  %-16s  %-10s  %s\n", "DEV_EUI", "NAME", "APPLICATION", "PROFILE",
                    "ACTIVATION", "DEV_ADDR");
        for (const auto& d : devices) {
            std::printf("%-16s  %-24s  %-16s  %-16s  %-10s  %s\n", d.dev_eui.to_string().c_str(), d.name.c_str(),
                        names.application(d.application_id).c_str(), names.profile(d.device_profile_id).c_str(),
                        names.activation(d.device_profile_id).c_str(),
                        d.dev_addr ? d.dev_addr->to_string().c_str() : "-");
        }
        return 0;
    });
}

int device_show(const common::Config& config, const std::string& dev_eui_text, bool json) {
    std::string error;
    const auto dev_eui = parse_dev_eui(dev_eui_text, error);
    if (!dev_eui) return fail(error);
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        const auto device = registry.find_device(*dev_eui);
        if (!device) return fail("no device " + dev_eui->to_string());
        const Json j = device_json(*device, Names(registry));
        if (json) {
            std::cout << j.dump(2) << '\n';
            return 0;
        }
        for (const auto& [key, value] : j.items()) {
            if (key == "application" || key == "device_profile") {
                std::cout << key << ": " << value["name"].get<std::string>() << " (" << value["id"].get<std::string>()
                          << ")\n";
            } else if (value.is_string()) {
                std::cout << key << ": " << value.get<std::string>() << '\n';
            } else if (value.is_null()) {
                std::cout << key << ": -\n";
            } else {
                std::cout << key << ": " << value.dump() << '\n';
            }
        }
        return 0;
    });
}

int device_remove(const common::Config& config, const std::string& dev_eui_text) {
    std::string error;
    const auto dev_eui = parse_dev_eui(dev_eui_text, error);
    if (!dev_eui) return fail(error);
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        if (!registry.remove_device(*dev_eui)) return fail("no device " + dev_eui->to_string());
        std::cout << "device " << dev_eui->to_string() << " removed\n";
        return 0;
    });
}

int device_import(const common::Config& config, const DeviceImportArgs& args) {
    std::string text;
    {
        std::ostringstream buffer;
        if (args.file == "-") {
            buffer << std::cin.rdbuf();
        } else {
            std::ifstream in(args.file, std::ios::binary);
            if (!in) {
                std::cerr << "schwebe: cannot read " << args.file << '\n';
                return 2;
            }
            buffer << in.rdbuf();
        }
        text = std::move(buffer).str();
    }
    const std::string name = args.file == "-" ? "stdin" : args.file;
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        SqliteDeviceRegistry registry{db};
        const auto result = import_devices_csv(db, registry, text, {.all_or_nothing = args.all_or_nothing,
                                                                    .dry_run = args.dry_run});
        if (result.fatal) {
            std::cerr << "schwebe: " << name << ": " << *result.fatal << '\n';
            if (args.json) std::cout << result.to_json().dump() << '\n';
            return 2;
        }
        for (const auto& e : result.errors) {
            std::cerr << name << ":" << e.line << ": " << (e.column.empty() ? "" : e.column + ": ") << e.reason << '\n';
        }
        if (args.json) {
            std::cout << result.to_json().dump() << '\n';
        } else {
            std::cout << result.rows << " rows: " << result.added << " added, " << result.updated << " updated, "
                      << result.unchanged << " unchanged, " << result.errors.size() << " refused"
                      << (result.committed ? "" : args.dry_run ? " (dry run: nothing written)"
                                                               : " (--all-or-nothing: nothing written)")
                      << '\n';
        }
        return result.errors.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "schwebe: " << e.what() << '\n';
        return 2;
    }
}

int device_export(const common::Config& config, const std::optional<std::string>& application,
                  const std::optional<std::string>& file, bool with_keys) {
    return with_registry(config, [&](sqlite::Database&, SqliteDeviceRegistry& registry) {
        std::optional<std::string> application_id;
        if (application && !(application_id = application_id_of(registry, *application))) {
            return fail("--application: no application '" + *application + "'");
        }
        const std::string csv = export_devices_csv(registry, application_id, with_keys);
        if (!file) {
            std::cout << csv;
            return 0;
        }
        std::ofstream out(*file, std::ios::binary | std::ios::trunc);
        out << csv;
        out.close();
        if (!out) return fail("cannot write " + *file);
        return 0;
    });
}

}  // namespace schwebe::app
