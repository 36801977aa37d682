#include "app/sim_command.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/device_csv.hpp"
#include "app/replay_command.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "sim/city_sim.hpp"

namespace schwebe::app {

namespace {

int fail(const std::string& reason) {
    std::cerr << "schwebe: " << reason << '\n';
    return 2;
}

/// The city's device profiles, created in the configured store when none of that name exists.
std::optional<std::string> provision_profiles(const common::Config& config, const sim::City& city) {
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        sqlite::SqliteDeviceRegistry registry{db};
        for (const auto& spec : city.profiles) {
            if (registry.find_device_profile_by_name(spec.name)) continue;
            ns::DeviceProfile p;
            p.name = spec.name;
            p.activation = spec.otaa ? ns::Activation::otaa : ns::Activation::abp;
            p.mac_version = ns::MacVersion::v1_0_3;
            p.f_cnt_mode = spec.f_cnt_mode == "relaxed" ? lorawan::FCntMode::relaxed : lorawan::FCntMode::strict;
            p.adr_margin_db = spec.adr_margin_db;
            p.codec = spec.codec;
            const auto created = registry.create_device_profile(p);
            if (!created) return "device profile " + spec.name + ": " + created.error();
            std::cerr << "schwebe sim: device profile " << spec.name << " added\n";
        }
    } catch (const std::exception& e) {
        return e.what();
    }
    return std::nullopt;
}

/// The devices as `schwebe device import FILE` takes them: exactly the path an operator's CSV goes.
std::optional<std::string> import_devices(const common::Config& config, const std::string& csv) {
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        sqlite::SqliteDeviceRegistry registry{db};
        const auto result = import_devices_csv(db, registry, csv, {.all_or_nothing = true});
        if (result.fatal) return "device import: " + *result.fatal;
        for (const auto& e : result.errors) {
            std::cerr << "schwebe sim: devices line " << e.line << ": " << (e.column.empty() ? "" : e.column + ": ")
                      << e.reason << '\n';
        }
        if (!result.errors.empty()) return "device import: " + std::to_string(result.errors.size()) + " rows refused";
        std::cerr << "schwebe sim: " << result.rows << " rows: " << result.added << " added, " << result.updated
                  << " updated, " << result.unchanged << " unchanged\n";
    } catch (const std::exception& e) {
        return std::string("device import: ") + e.what();
    }
    return std::nullopt;
}

std::string clock_of(sim::SimTime t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
    char text[32];
    std::snprintf(text, sizeof text, "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return text;
}

}  // namespace

int sim_command(const common::Config& config, const SimArgs& args) {
    const std::string server_text = args.server.value_or(config.get("bridge.udp_bind"));
    const auto server = parse_udp_endpoint(server_text);
    if (!server) return fail("--server: expected HOST:PORT, got '" + server_text + "'");
    if (!(args.speed > 0) || args.speed > 1e6) return fail("--speed: expected more than 0, at most 1000000");
    if (!(args.hours > 0) || args.hours > 24 * 366) return fail("--hours: expected more than 0, at most a year");
    if (args.gateways < 1 || args.gateways > 1000) return fail("--gateways: expected 1..1000");
    if (args.zones > 100 || args.spots > 1000 || args.environment > 10000 || args.meters > 10000) {
        return fail("--zones up to 100, --spots up to 1000 per zone, --environment and --meters up to 10000");
    }
    if (!(args.otaa_share >= 0 && args.otaa_share <= 1)) return fail("--otaa-share: expected 0..1");
    if (!(args.loss >= 0 && args.loss < 1) || !(args.duplicate >= 0 && args.duplicate < 1)) {
        return fail("--loss and --duplicate: expected 0 up to (not including) 1");
    }
    if (args.progress != "auto" && args.progress != "bar" && args.progress != "lines" && args.progress != "off") {
        return fail("--progress: expected auto, bar, lines or off");
    }

    sim::CityOptions city_options;
    city_options.gateways = args.gateways;
    city_options.zones = args.zones;
    city_options.spots_per_zone = args.spots;
    city_options.environment = args.environment;
    city_options.meters = args.meters;
    city_options.otaa_share = args.otaa_share;
    city_options.seed = args.seed;
    city_options.loss = args.loss;
    city_options.duplicate = args.duplicate;
    city_options.duration = std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(args.hours * 3600e3))};
    const sim::City city = sim::build_city(city_options);

    if (args.devices_csv || args.provision) {
        const std::string csv = sim::devices_csv(city);
        if (args.devices_csv) {
            std::ofstream out(*args.devices_csv, std::ios::binary | std::ios::trunc);
            out << csv;
            out.close();
            if (!out) return fail("cannot write " + *args.devices_csv);
        }
        if (args.provision) {
            if (const auto error = provision_profiles(config, city)) return fail(*error);
            if (const auto error = import_devices(config, csv)) return fail(*error);
        }
    }
    if (args.provision_only) return 0;

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const std::string mode = args.progress == "auto" ? (tty ? "bar" : "lines") : args.progress;
    int last_decile = -1;
    const auto progress = [&](const sim::Progress& p) {
        const auto& s = *p.summary;
        if (mode == "bar") {
            constexpr int width = 30;
            const int filled = static_cast<int>(width * p.fraction);
            std::fprintf(stderr,
                         "\r[%s%s] %3d%%  %s  frames %llu  acked %llu/%llu  joins %llu/%llu  downlinks %llu  "
                         "rx-window misses %llu ",
                         std::string(static_cast<std::size_t>(filled), '#').c_str(),
                         std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                         static_cast<int>(p.fraction * 100), clock_of(p.now).c_str(),
                         static_cast<unsigned long long>(s.frames), static_cast<unsigned long long>(s.push_acks),
                         static_cast<unsigned long long>(s.push_data), static_cast<unsigned long long>(s.joins_accepted),
                         static_cast<unsigned long long>(s.otaa_devices), static_cast<unsigned long long>(s.downlinks),
                         static_cast<unsigned long long>(s.rx_window_misses));
        } else if (mode == "lines") {
            const int decile = static_cast<int>(p.fraction * 10);
            if (decile == last_decile) return;
            last_decile = decile;
            std::fprintf(stderr, "schwebe sim: %3d%% (simulated %s) frames %llu, acknowledged %llu of %llu, downlinks %llu\n",
                         decile * 10, clock_of(p.now).c_str(), static_cast<unsigned long long>(s.frames),
                         static_cast<unsigned long long>(s.push_acks), static_cast<unsigned long long>(s.push_data),
                         static_cast<unsigned long long>(s.downlinks));
        }
    };

    boost::asio::io_context io;
    sim::SimOptions options;
    options.server = *server;
    options.speed = args.speed;
    options.plant = args.plant;
    sim::SimSummary summary;
    nlohmann::json truth;
    try {
        sim::CitySim simulation(io, city, city_options, options);
        summary = simulation.run(mode == "off" ? std::function<void(const sim::Progress&)>{} : progress);
        truth = simulation.truth().to_json();
    } catch (const std::exception& e) {
        return fail(std::string("the simulation stopped: ") + e.what());
    }
    if (mode == "bar") std::fputc('\n', stderr);
    if (args.truth) {
        std::ofstream out(*args.truth, std::ios::binary | std::ios::trunc);
        out << truth.dump(1) << '\n';
        if (!out.good()) return fail("cannot write " + *args.truth);
    }

    if (args.json) {
        std::cout << summary.to_json().dump() << '\n';
    } else {
        std::cout << "simulated " << args.hours << " h of " << city.devices.size() << " devices and " << city.gateways.size()
                  << " gateways in " << std::round(summary.wall_seconds * 10) / 10 << " s\n"
                  << "  frames sent      " << summary.frames << " (heard " << summary.frames_heard << ", out of range or lost on the air "
                  << summary.frames_unheard << ")\n"
                  << "  PUSH_DATA        " << summary.push_data << ", acknowledged " << summary.push_acks << ", lost "
                  << summary.lost << "\n"
                  << "  joins            " << summary.joins_accepted << " accepted of " << summary.join_requests
                  << " requests; " << summary.devices_joined << " of " << summary.otaa_devices << " OTAA devices joined\n"
                  << "  downlinks        " << summary.downlinks << " (RX1 " << summary.rx1 << ", RX2 " << summary.rx2
                  << "; RX1 offers too late, then RX2 " << summary.rx1_too_late << "), MAC commands applied "
                  << summary.mac_commands << "\n"
                  << "  RX-window misses " << summary.rx_window_misses;
        for (const auto& [reason, n] : summary.miss_reasons) std::cout << " " << reason << "=" << n;
        std::cout << "\n";
        if (args.plant) std::cout << "  planted          " << summary.planted << " frames the server must refuse\n";
    }
    return summary.lost == 0 && summary.rx_window_misses == 0 ? 0 : 1;
}

}  // namespace schwebe::app
