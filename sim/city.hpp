#pragma once
// The simulated Wuppertal of `schwebe sim`, without sockets or clocks: gateways along the Wupper valley, parking
// zones of spots, indoor environment sensors and heat meters, each device's behaviour over a simulated day and the
// payload it sends in its vendor's real format, the radio between devices and gateways, and the ground truth of
// what a server must conclude from the frames that reached it. Everything is drawn from one seeded generator, so a
// city and its traffic are the same on every run with the same options.
//
// Devices and their payloads (formats as the vendors document them; see decoders/ for the other direction):
//   parking      Nwave NPS405 (`nwave-nps405`, ABP): a startup message (FPort 3) when switched on, a parking status
//                (FPort 1) at each arrival and departure, a heartbeat (FPort 2) every 6 hours;
//   environment  Elsys ERS CO2 (`elsys-ers-co2`): temperature, humidity, light, motion and CO2 every 10 minutes, in
//                an office room that fills on working hours (CO2 rises) and has a daily temperature cycle;
//   meter        Elvaco CMi4140 on a Kamstrup MULTICAL heat meter (`elvaco-cmi4140`): the standard message every
//                15 minutes, energy and volume counting up with a heating demand that peaks before dawn.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lorawan/bytes.hpp"
#include "lorawan/types.hpp"

namespace schwebe::sim {

using SimTime = std::chrono::sys_time<std::chrono::milliseconds>;
using Rng = std::mt19937_64;

struct Position {
    double latitude = 0;
    double longitude = 0;
};
/// Great-circle distance (haversine), metres.
[[nodiscard]] double distance_m(Position a, Position b);

enum class DeviceKind { parking, environment, meter };
[[nodiscard]] const char* name_of(DeviceKind kind);

struct CityOptions {
    std::size_t gateways = 6;
    std::size_t zones = 5;
    std::size_t spots_per_zone = 40;
    std::size_t environment = 30;
    std::size_t meters = 20;
    double otaa_share = 0.5;  ///< of the environment sensors and meters (parking sensors are ABP, as deployed)
    std::uint64_t seed = 1;
    SimTime start = std::chrono::sys_days{std::chrono::year{2026} / 11 / 23};  // a Monday, 00:00 UTC
    std::chrono::milliseconds duration = std::chrono::hours{24};
    double loss = 0.02;        ///< chance that a gateway in range misses a frame all the same
    double duplicate = 0.005;  ///< chance that a gateway forwards a frame it heard twice
};

struct GatewaySpec {
    lorawan::Eui64 id;
    std::string name;
    Position position;
};

struct ProfileSpec {
    std::string name;
    bool otaa = false;
    std::string codec;
    std::string f_cnt_mode;  ///< "strict" or "relaxed"
    double adr_margin_db = 10;
};

struct DeviceSpec {
    lorawan::Eui64 dev_eui;
    std::string name;
    DeviceKind kind = DeviceKind::parking;
    std::string application;
    std::string profile;
    bool otaa = false;
    lorawan::Eui64 join_eui;
    lorawan::AppKey app_key;
    lorawan::DevAddr dev_addr;  ///< ABP
    lorawan::NwkSKey nwk_s_key;
    lorawan::AppSKey app_s_key;
    std::string zone;  ///< parking: the zone and spot tags
    std::string spot;
    Position position;
};

struct City {
    std::vector<GatewaySpec> gateways;
    std::vector<ProfileSpec> profiles;
    std::vector<DeviceSpec> devices;
};

/// The city the options describe: the same for the same options.
[[nodiscard]] City build_city(const CityOptions& options);

/// The devices as the CSV `schwebe device import` reads (keys included: this is how they are provisioned).
[[nodiscard]] std::string devices_csv(const City& city);

/// A reading the server must derive from a payload: the quantity and the value its codec gives.
struct ExpectedReading {
    std::string quantity;
    double value = 0;
};

/// One application payload a device sends.
struct Payload {
    std::uint8_t f_port = 1;
    lorawan::Bytes bytes;
    std::vector<ExpectedReading> readings;
    std::optional<bool> occupied;  ///< parking: the occupancy it reports
};

/// What a device measures and when it speaks, over simulated time. Deterministic given its seed.
class DeviceBehaviour {
public:
    DeviceBehaviour(const DeviceSpec& spec, SimTime start, std::uint64_t seed);

    /// When the next payload is due.
    [[nodiscard]] SimTime next() const { return next_; }
    /// The payload due at next(), and the time of the one after it.
    Payload produce();

    [[nodiscard]] bool occupied() const { return occupied_; }

private:
    Payload parking();
    Payload environment();
    Payload meter();

    DeviceKind kind_;
    Rng rng_;
    SimTime next_;
    // parking
    bool started_ = false;
    bool occupied_ = false;
    SimTime since_;
    SimTime next_change_;
    SimTime next_heartbeat_;
    // environment
    double co2_ppm_ = 430;
    int occupants_ = 0;
    // meter
    std::uint32_t energy_raw_ = 0;  ///< 0.1 kWh
    std::uint32_t volume_raw_ = 0;  ///< litres
    double base_kw_ = 40;
    std::uint32_t serial_ = 0;
};

/// The parking status byte's 7-bit duration code for the minutes the previous state lasted (Nwave NPS405: exact up
/// to 89 minutes, then 5-minute steps up to 235, hour steps up to 600, 127 beyond).
[[nodiscard]] std::uint8_t nps405_duration_code(std::int64_t minutes);

/// The radio between a device and a gateway: log-distance path loss (3GPP urban macro, 128.1 + 37.6 log10 d/km),
/// a static shadowing per link and a fast fading per frame, against a 125 kHz noise floor of -117 dBm.
struct Reception {
    int rssi = 0;
    double snr = 0;
};
class Radio {
public:
    Radio(const City& city, std::uint64_t seed);
    /// The mean SNR of a link, dB.
    [[nodiscard]] double mean_snr(std::size_t device, std::size_t gateway, int tx_power_dbm) const;
    /// One frame on a link: the reception, or nullopt when the gateway does not demodulate it at this DR.
    [[nodiscard]] std::optional<Reception> receive(std::size_t device, std::size_t gateway, int tx_power_dbm,
                                                   std::uint8_t dr, Rng& rng) const;
    /// The fastest DR whose demodulation floor the best gateway clears by `margin_db` (at least DR0).
    [[nodiscard]] std::uint8_t initial_dr(std::size_t device, int tx_power_dbm, double margin_db) const;

private:
    std::size_t gateways_;
    std::vector<double> path_loss_db_;  // device × gateway, shadowing included
};

/// What the server must conclude from the frames that reached it: uplinks and readings per device and quantity,
/// the last value of each, the final status of every parking spot, the zones' counts, and the rejections planted.
class GroundTruth {
public:
    void delivered(const DeviceSpec& device, const Payload& payload);
    void planted(const std::string& reason) { ++planted_[reason]; }

    [[nodiscard]] nlohmann::json to_json() const;
    [[nodiscard]] std::uint64_t uplinks() const { return uplinks_; }

private:
    struct PerDevice {
        std::uint64_t uplinks = 0;
        std::map<std::string, std::uint64_t> readings;
        std::map<std::string, double> last;
    };
    std::map<std::string, PerDevice> devices_;  // by DevEUI
    std::map<std::string, std::map<std::string, std::string>> spots_;  // zone → spot → status
    std::map<std::string, std::uint64_t> planted_;
    std::uint64_t uplinks_ = 0;
};

}  // namespace schwebe::sim
