#pragma once
// What the network server knows of applications, device profiles and devices (DESIGN.md, Contracts/SQLite), as
// plain values. Key material lives only in the key types of lorawan/types.hpp, which have no string form.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/messages.hpp"
#include "lorawan/fcnt.hpp"
#include "lorawan/types.hpp"

namespace schwebe::ns {

enum class Activation : std::uint8_t { otaa, abp };
enum class MacVersion : std::uint8_t { v1_0_2, v1_0_3, v1_0_4 };

[[nodiscard]] std::string_view to_string(Activation a) noexcept;
[[nodiscard]] std::optional<Activation> activation_from_string(std::string_view s) noexcept;
[[nodiscard]] std::string_view to_string(MacVersion v) noexcept;  ///< "1.0.2", "1.0.3", "1.0.4"
[[nodiscard]] std::optional<MacVersion> mac_version_from_string(std::string_view s) noexcept;
[[nodiscard]] std::string_view to_string(lorawan::FCntMode m) noexcept;  ///< "strict", "relaxed"
[[nodiscard]] std::optional<lorawan::FCntMode> f_cnt_mode_from_string(std::string_view s) noexcept;

struct Application {
    std::string id;  ///< UUID
    std::string name;
    std::string description;
    bool operator==(const Application&) const = default;
};

struct DeviceProfile {
    std::string id;  ///< UUID
    std::string name;
    std::string region = "EU868";
    MacVersion mac_version = MacVersion::v1_0_3;
    Activation activation = Activation::otaa;  ///< class A only, for now
    lorawan::FCntMode f_cnt_mode = lorawan::FCntMode::strict;
    bool adr_enabled = true;
    double adr_margin_db = 10;  ///< installation margin; parking sensors under cars want more
    std::uint8_t rx1_delay_s = 1;
    std::uint8_t rx1_dr_offset = 0;
    std::uint8_t rx2_dr = 0;
    std::uint32_t rx2_frequency_hz = 869'525'000;
    std::string codec;  ///< empty: none
    std::chrono::seconds dev_status_interval{24 * 3600};
    bool operator==(const DeviceProfile&) const = default;
};

struct Device {
    lorawan::Eui64 dev_eui;
    std::string name;
    std::string application_id;
    std::string device_profile_id;
    // OTAA
    std::optional<lorawan::Eui64> join_eui;
    std::optional<lorawan::AppKey> app_key;
    // ABP
    std::optional<lorawan::DevAddr> dev_addr;
    std::optional<lorawan::NwkSKey> nwk_s_key;
    std::optional<lorawan::AppSKey> app_s_key;
    std::map<std::string, std::string> tags;  ///< e.g. zone, spot
    std::optional<common::Location> location;
    bool operator==(const Device&) const = default;
};

}  // namespace schwebe::ns
