#pragma once
// `schwebe profile add|list` and `schwebe device add|list|show|remove`: device profiles and devices in the
// configured SQLite store (DESIGN.md, Command line). Keys are write-only: no command prints one.

#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"

namespace schwebe::app {

struct ProfileAddArgs {
    std::string name;
    std::string activation;   ///< "otaa" or "abp"
    std::string mac_version;  ///< "1.0.2", "1.0.3" or "1.0.4"
    std::optional<std::string> codec;
    std::optional<std::string> f_cnt_mode;  ///< "strict" or "relaxed"
    std::optional<double> adr_margin_db;
    std::optional<std::string> adr;  ///< "on" or "off"
    std::optional<long long> rx1_delay_s;
    std::optional<long long> rx1_dr_offset;
    std::optional<long long> rx2_dr;
    std::optional<long long> rx2_frequency_hz;
    std::optional<long long> dev_status_interval_s;  ///< 0: never
};

struct DeviceAddArgs {
    std::string dev_eui;
    std::string name;
    std::string profile;                  ///< name (or id) of a device profile
    std::string application = "default";  ///< name (or id); created when no application has that name
    std::optional<std::string> join_eui, app_key;
    std::optional<std::string> dev_addr, nwk_s_key, app_s_key;
    std::vector<std::string> tags;  ///< "key=value"
    std::optional<double> latitude, longitude, altitude;
};

/// Each returns the process exit code and prints its result (JSON with `json`) or a one-line reason on stderr.
int profile_add(const common::Config& config, const ProfileAddArgs& args);
int profile_list(const common::Config& config, bool json);
int device_add(const common::Config& config, const DeviceAddArgs& args);
/// `application`: only the devices of the application with that name (or id).
int device_list(const common::Config& config, const std::optional<std::string>& application, bool json);
int device_show(const common::Config& config, const std::string& dev_eui, bool json);
int device_remove(const common::Config& config, const std::string& dev_eui);

struct DeviceImportArgs {
    std::string file;  ///< "-": standard input
    bool all_or_nothing = false;
    bool dry_run = false;
    bool json = false;
};
/// `schwebe device import FILE` (README, Device CSV): 0 every row imported, 1 some rows refused (the others
/// imported, or none with --all-or-nothing), 2 the file unusable (unreadable, not CSV, a bad header).
int device_import(const common::Config& config, const DeviceImportArgs& args);
/// `schwebe device export`: the import format on stdout or to `file`; keys only with `with_keys`.
int device_export(const common::Config& config, const std::optional<std::string>& application,
                  const std::optional<std::string>& file, bool with_keys);

}  // namespace schwebe::app
