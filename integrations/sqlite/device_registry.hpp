#pragma once
// Applications, device profiles and devices on SQLite: the tables of migration 2 (migrations.cpp), and the session
// of each ABP device (device_sessions, migration 3), which the registry keeps in step with the device's keys.

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "integrations/sqlite/database.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"
#include "network-server/device_model.hpp"

namespace schwebe::sqlite {

/// Why a registry write was refused: starts with the name of the field at fault (as in device_model.hpp), e.g.
/// "join_eui: required for an OTAA device (profile 'parking')".
using RegistryError = std::string;

/// The device registry on one SQLite connection.
///
/// Writes that the input makes impossible (a field out of range, an unknown profile, a duplicate name, OTAA keys on
/// an ABP device) come back as a RegistryError value, and nothing is written. Failures of SQLite itself, and rows
/// that cannot be read back (written by something else in the wrong form), throw sqlite::Error.
///
/// Each write runs in its own BEGIN IMMEDIATE transaction, or inside the caller's when one is open on `db` (so that
/// the CLI can create an application and add a device to it all or nothing).
class SqliteDeviceRegistry {
public:
    /// `db` must outlive the registry and be used from the same thread. The statements are prepared here, so a
    /// database without the tables of migrations 2 and 3 fails at construction.
    explicit SqliteDeviceRegistry(Database& db);

    // Applications

    /// A new application with a fresh UUID. Refused when `name` is empty or already taken.
    lorawan::Result<ns::Application, RegistryError> create_application(const std::string& name,
                                                                       const std::string& description = {});
    [[nodiscard]] std::optional<ns::Application> find_application_by_id(std::string_view id);
    [[nodiscard]] std::optional<ns::Application> find_application_by_name(std::string_view name);
    /// Every application, ordered by name.
    [[nodiscard]] std::vector<ns::Application> list_applications();

    // Device profiles

    /// Checks every field of `profile` (its id aside); the error names the first field at fault.
    [[nodiscard]] static lorawan::Result<lorawan::Ok, RegistryError> validate(const ns::DeviceProfile& profile);
    /// Stores `profile` under a fresh UUID (its `id` is ignored) and returns it as stored. Refused when a field is
    /// out of range or the name is taken.
    lorawan::Result<ns::DeviceProfile, RegistryError> create_device_profile(ns::DeviceProfile profile);
    [[nodiscard]] std::optional<ns::DeviceProfile> find_device_profile_by_id(std::string_view id);
    [[nodiscard]] std::optional<ns::DeviceProfile> find_device_profile_by_name(std::string_view name);
    /// Every device profile, ordered by name.
    [[nodiscard]] std::vector<ns::DeviceProfile> list_device_profiles();

    // Devices

    /// Checks the fields of `device` against `profile` as add_device does (its application and dev_eui aside).
    [[nodiscard]] static lorawan::Result<lorawan::Ok, RegistryError> validate(const ns::Device& device,
                                                                              const ns::DeviceProfile& profile);
    /// Stores a new device. Refused when its dev_eui is taken, its application or profile does not exist, a field
    /// is out of range, or its keys do not match its profile's activation: OTAA needs join_eui and app_key and no
    /// session; ABP needs dev_addr, nwk_s_key and app_s_key and no join_eui or app_key.
    /// An ABP device gets its network session in the same transaction: no uplink yet, FCntDown 0, the default MAC
    /// state with its profile's RX settings. An OTAA device gets one when it joins (ns::NsStore).
    lorawan::Result<lorawan::Ok, RegistryError> add_device(const ns::Device& device);
    /// Replaces every field of the device with `device.dev_eui`, under the same checks as add_device. Refused when
    /// there is no such device.
    /// An ABP device whose address or keys change gets a fresh session (counters reset, confirmed downlinks awaiting
    /// an ACK of the old one dropped); with the same address and keys its counters and MAC state stay. A device
    /// moved from ABP to OTAA loses its ABP session; an OTAA device keeps the session of its last join.
    lorawan::Result<lorawan::Ok, RegistryError> update_device(const ns::Device& device);
    /// False when there was no such device. Its session, join state and downlink queue go with it.
    bool remove_device(const lorawan::Eui64& dev_eui);
    [[nodiscard]] std::optional<ns::Device> find_device(const lorawan::Eui64& dev_eui);
    /// Every device, or those of one application, ordered by dev_eui.
    [[nodiscard]] std::vector<ns::Device> list_devices(const std::optional<std::string>& application_id = {});
    /// Every device whose (ABP) session has `dev_addr`, ordered by dev_eui: several devices may share one, and the
    /// uplink pipeline tries the MIC with each (DESIGN.md, Device lookup).
    [[nodiscard]] std::vector<ns::Device> find_by_dev_addr(const lorawan::DevAddr& dev_addr);

private:
    lorawan::Result<lorawan::Ok, RegistryError> write_device(const ns::Device& device, bool is_new);
    void keep_session_in_step(const ns::Device& device, const ns::DeviceProfile& profile,
                              const std::optional<ns::Device>& previous, const std::string& now);
    std::string new_id();

    Database& db_;
    Statement insert_application_;
    Statement select_application_by_id_;
    Statement select_application_by_name_;
    Statement select_applications_;
    Statement insert_profile_;
    Statement select_profile_by_id_;
    Statement select_profile_by_name_;
    Statement select_profiles_;
    Statement insert_device_;
    Statement update_device_;
    Statement delete_device_;
    Statement select_device_;
    Statement select_devices_;
    Statement select_devices_by_application_;
    Statement select_devices_by_dev_addr_;
    Statement select_session_keys_;
    Statement upsert_session_;
    Statement delete_session_;
    Statement delete_awaiting_ack_;
    std::mt19937_64 rng_;
};

}  // namespace schwebe::sqlite
