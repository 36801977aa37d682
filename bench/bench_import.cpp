// Bulk onboarding: `schwebe device import` of a 10,000-row CSV (half OTAA, half ABP parking sensors with zone and
// spot) into a fresh SQLite store, then the same file again (every row unchanged), then `device export`.
// Prints rows per second for each. Usage: bench_import [ROWS]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "app/device_csv.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"

using namespace schwebe;

namespace {

std::string hex_of(std::uint64_t value, int digits) {
    char text[40];
    std::snprintf(text, sizeof text, "%0*llx", digits, static_cast<unsigned long long>(value));
    return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000;
    const auto dir = std::filesystem::temp_directory_path() / ("schwebe-bench-import-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto db = sqlite::Database::open(dir / "bench.db");
    sqlite::SqliteDeviceRegistry registry(db);
    ns::DeviceProfile abp;
    abp.name = "parking";
    abp.activation = ns::Activation::abp;
    ns::DeviceProfile otaa;
    otaa.name = "env";
    otaa.activation = ns::Activation::otaa;
    if (!registry.create_device_profile(abp) || !registry.create_device_profile(otaa)) return 1;

    std::string csv = "dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,spot,"
                      "latitude,longitude,tags\n";
    for (std::size_t i = 0; i < rows; ++i) {
        const std::string key = hex_of(0x2b7e151628aed2a6ULL + i, 16) + hex_of(0xabf7158809cf4f3cULL ^ i, 16);
        csv += hex_of(0x70b3d57ed0000000ULL + i, 16) + ",device-" + std::to_string(i);
        if (i % 2 == 0) {
            csv += ",parking,parking,,," + hex_of(0x26000000 + i, 8) + "," + key + "," + key + ",zone-" +
                   std::to_string(i / 400) + "," + std::to_string(i % 400) + ",51.25,7.15,kind=parking\n";
        } else {
            csv += ",environment,env,70b3d57ed0000001," + key + ",,,,,,51.26,7.16,kind=environment;floor=2\n";
        }
    }

    const auto run = [&](const char* what) {
        const auto start = std::chrono::steady_clock::now();
        const auto result = app::import_devices_csv(db, registry, csv, {});
        const double s = seconds_since(start);
        std::printf("%-28s %zu rows in %.3f s: %.0f rows/s (added %zu, updated %zu, unchanged %zu, refused %zu)\n",
                    what, result.rows, s, static_cast<double>(result.rows) / s, result.added, result.updated,
                    result.unchanged, result.errors.size());
        return result.errors.empty();
    };
    bool ok = run("import into a fresh store");
    ok = run("import again (unchanged)") && ok;
    const auto start = std::chrono::steady_clock::now();
    const std::string exported = app::export_devices_csv(registry, std::nullopt, true);
    const double s = seconds_since(start);
    std::printf("%-28s %zu rows in %.3f s: %.0f rows/s (%zu bytes)\n", "export --with-keys", rows, s,
                static_cast<double>(rows) / s, exported.size());
    std::filesystem::remove_all(dir);
    return ok ? 0 : 1;
}
