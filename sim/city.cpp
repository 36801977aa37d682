#include "sim/city.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <sstream>

#include "lorawan/eu868.hpp"

namespace schwebe::sim {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr double earth_radius_m = 6371000.0;

/// Wuppertal stretches along the Wupper, west to east: the gateways and sensors sit along this line.
constexpr Position valley_west{51.2330, 7.0740};  // Vohwinkel
constexpr Position valley_east{51.2745, 7.2210};  // Oberbarmen

struct Place {
    const char* name;
    const char* label;
    Position position;
};
constexpr std::array<Place, 8> parking_places{{
    {"neumarkt", "Neumarkt", {51.2565, 7.1480}},
    {"werth", "Werth", {51.2720, 7.1990}},
    {"vohwinkel", "Vohwinkel", {51.2331, 7.0752}},
    {"laurentiusplatz", "Laurentiusplatz", {51.2540, 7.1330}},
    {"oberbarmen", "Oberbarmen", {51.2745, 7.2210}},
    {"unterbarmen", "Unterbarmen", {51.2640, 7.1790}},
    {"sonnborn", "Sonnborn", {51.2395, 7.1095}},
    {"ostersbaum", "Ostersbaum", {51.2610, 7.1560}},
}};
constexpr std::array<const char*, 8> gateway_places{"Vohwinkel",   "Sonnborn",   "Elberfeld", "Döppersberg",
                                                    "Unterbarmen", "Barmen",     "Wichlinghausen", "Oberbarmen"};

Position along_valley(double t, double offset_deg) {
    return {valley_west.latitude + (valley_east.latitude - valley_west.latitude) * t + offset_deg,
            valley_west.longitude + (valley_east.longitude - valley_west.longitude) * t};
}

double uniform(Rng& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}
double normal(Rng& rng, double mean, double sigma) {
    return std::normal_distribution<double>(mean, sigma)(rng);
}
template <class Array>
Array random_bytes(Rng& rng) {
    Array a{};
    for (auto& b : a) b = static_cast<std::uint8_t>(rng());
    return a;
}

double hour_of_day(SimTime t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    return std::chrono::duration<double, std::ratio<3600>>(t - day).count();
}
bool weekday(SimTime t) {
    const std::chrono::weekday wd{std::chrono::floor<std::chrono::days>(t)};
    return wd != std::chrono::Saturday && wd != std::chrono::Sunday;
}

milliseconds from_minutes(double m) {
    return milliseconds{static_cast<std::int64_t>(std::llround(m * 60000.0))};
}

// ---- parking: arrivals by hour of day, dwell times ----

/// Arrivals per hour at a free spot.
double arrival_rate_per_h(double hour) {
    if (hour < 6) return 0.05;
    if (hour < 7) return 0.4;
    if (hour < 10) return 1.6;
    if (hour < 17) return 1.0;
    if (hour < 20) return 0.7;
    if (hour < 23) return 0.3;
    return 0.1;
}
/// Mean stay of a car arriving at this hour: shoppers and commuters by day, residents overnight.
double mean_dwell_min(double hour) {
    if (hour >= 6 && hour < 17) return 95;
    return 540;
}

std::uint16_t be16(lorawan::Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
    return v;
}
void le(lorawan::Bytes& out, std::uint32_t v, int size) {
    for (int i = 0; i < size; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
/// M-Bus BCD, least significant byte first (the CMi4140's serial).
void bcd_le(lorawan::Bytes& out, std::uint32_t v, int size) {
    for (int i = 0; i < size; ++i) {
        const auto lo = v % 10;
        v /= 10;
        const auto hi = v % 10;
        v /= 10;
        out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
}

}  // namespace

double distance_m(Position a, Position b) {
    constexpr double rad = std::numbers::pi / 180.0;
    const double dlat = (b.latitude - a.latitude) * rad;
    const double dlon = (b.longitude - a.longitude) * rad;
    const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                     std::cos(a.latitude * rad) * std::cos(b.latitude * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * earth_radius_m * std::asin(std::min(1.0, std::sqrt(h)));
}

const char* name_of(DeviceKind kind) {
    switch (kind) {
        case DeviceKind::parking: return "parking";
        case DeviceKind::environment: return "environment";
        case DeviceKind::meter: return "meter";
    }
    return "?";
}

// ---- the city ----

City build_city(const CityOptions& options) {
    Rng rng(options.seed);
    City city;
    for (std::size_t g = 0; g < options.gateways; ++g) {
        const double t = options.gateways == 1 ? 0.5 : static_cast<double>(g) / static_cast<double>(options.gateways - 1);
        GatewaySpec gw;
        gw.id = lorawan::Eui64::from_u64(0x0016c001f1570000ULL + g + 1);
        gw.name = g < gateway_places.size() ? std::string("Gateway ") + gateway_places[g]
                                            : "Gateway " + std::to_string(g + 1);
        gw.position = along_valley(t, (g % 2 == 0 ? 0.004 : -0.004));
        city.gateways.push_back(std::move(gw));
    }
    city.profiles = {
        {"city-parking", false, "nwave-nps405", "relaxed", 15},
        {"city-environment-otaa", true, "elsys-ers-co2", "strict", 10},
        {"city-environment-abp", false, "elsys-ers-co2", "strict", 10},
        {"city-meter-otaa", true, "elvaco-cmi4140", "strict", 10},
        {"city-meter-abp", false, "elvaco-cmi4140", "strict", 10},
    };

    std::uint32_t next_dev_addr = 0x01000001;  // NetID 000000 (type 0, NwkID 0): 0x00000000..0x01ffffff
    const auto add = [&](DeviceKind kind, std::uint64_t eui, std::string name, bool otaa) -> DeviceSpec& {
        DeviceSpec d;
        d.dev_eui = lorawan::Eui64::from_u64(eui);
        d.name = std::move(name);
        d.kind = kind;
        d.otaa = otaa;
        d.application = kind == DeviceKind::parking ? "parking" : kind == DeviceKind::environment ? "environment" : "energy";
        d.profile = kind == DeviceKind::parking ? "city-parking"
                    : kind == DeviceKind::environment ? (otaa ? "city-environment-otaa" : "city-environment-abp")
                                                      : (otaa ? "city-meter-otaa" : "city-meter-abp");
        if (otaa) {
            d.join_eui = lorawan::Eui64::from_u64(0x70b3d5499cff0000ULL + static_cast<std::uint64_t>(kind));
            d.app_key = lorawan::AppKey{random_bytes<lorawan::AppKey::Array>(rng)};
        } else {
            d.dev_addr = lorawan::DevAddr{next_dev_addr++};
            d.nwk_s_key = lorawan::NwkSKey{random_bytes<lorawan::NwkSKey::Array>(rng)};
            d.app_s_key = lorawan::AppSKey{random_bytes<lorawan::AppSKey::Array>(rng)};
        }
        city.devices.push_back(std::move(d));
        return city.devices.back();
    };

    for (std::size_t z = 0; z < options.zones; ++z) {
        const Place& place = parking_places[z % parking_places.size()];
        const std::string zone = z < parking_places.size() ? place.name : place.name + std::to_string(z);
        for (std::size_t s = 0; s < options.spots_per_zone; ++s) {
            char name[64];
            std::snprintf(name, sizeof name, "P-%s-%03zu", place.label, s + 1);
            auto& d = add(DeviceKind::parking, 0x70b3d5499c010000ULL + z * 0x1000 + s + 1, name, false);
            d.zone = zone;
            d.spot = std::to_string(s + 1);
            // Spots in rows along the street, 2.5 m apart.
            d.position = {place.position.latitude + static_cast<double>(s % 20) * 0.0000225,
                          place.position.longitude + static_cast<double>(s / 20) * 0.00008};
        }
    }
    const auto otaa_count = [&](std::size_t n) {
        return static_cast<std::size_t>(std::llround(static_cast<double>(n) * std::clamp(options.otaa_share, 0.0, 1.0)));
    };
    const std::size_t env_otaa = otaa_count(options.environment);
    for (std::size_t i = 0; i < options.environment; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "ERS-CO2-Room-%03zu", i + 1);
        auto& d = add(DeviceKind::environment, 0x70b3d5499c020000ULL + i + 1, name, i < env_otaa);
        d.position = along_valley(uniform(rng, 0.0, 1.0), uniform(rng, -0.008, 0.008));
    }
    const std::size_t meter_otaa = otaa_count(options.meters);
    for (std::size_t i = 0; i < options.meters; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "CMi4140-Heat-%03zu", i + 1);
        auto& d = add(DeviceKind::meter, 0x70b3d5499c030000ULL + i + 1, name, i < meter_otaa);
        d.position = along_valley(uniform(rng, 0.0, 1.0), uniform(rng, -0.008, 0.008));
    }
    return city;
}

std::string devices_csv(const City& city) {
    std::ostringstream out;
    out << "dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,spot,latitude,"
           "longitude,tags\n";
    const auto hex = [](const auto& bytes) { return lorawan::to_hex(lorawan::ByteView{bytes.data(), bytes.size()}); };
    for (const auto& d : city.devices) {
        char lat[32], lon[32];
        std::snprintf(lat, sizeof lat, "%.6f", d.position.latitude);
        std::snprintf(lon, sizeof lon, "%.6f", d.position.longitude);
        out << d.dev_eui.to_string() << ',' << d.name << ',' << d.application << ',' << d.profile << ',';
        if (d.otaa) {
            out << d.join_eui.to_string() << ',' << hex(d.app_key.bytes()) << ",,,";
        } else {
            out << ",," << d.dev_addr.to_string() << ',' << hex(d.nwk_s_key.bytes()) << ',' << hex(d.app_s_key.bytes());
        }
        out << ',' << d.zone << ',' << d.spot << ',' << lat << ',' << lon << ",kind=" << name_of(d.kind) << '\n';
    }
    return out.str();
}

// ---- behaviour ----

std::uint8_t nps405_duration_code(std::int64_t minutes) {
    if (minutes < 0) minutes = 0;
    if (minutes < 90) return static_cast<std::uint8_t>(minutes);
    if (minutes < 240) return static_cast<std::uint8_t>(90 + std::min<std::int64_t>((minutes - 90) / 5, 29));
    if (minutes < 660) return static_cast<std::uint8_t>(120 + std::min<std::int64_t>((minutes - 240) / 60, 6));
    return 127;
}

DeviceBehaviour::DeviceBehaviour(const DeviceSpec& spec, SimTime start, std::uint64_t seed)
    : kind_(spec.kind), rng_(seed), since_(start) {
    // Switched on (or rejoined) in the first minutes of the run, in no particular order.
    next_ = start + milliseconds{static_cast<std::int64_t>(uniform(rng_, 5'000, 600'000))};
    switch (kind_) {
        case DeviceKind::parking: {
            occupied_ = uniform(rng_, 0, 1) < 0.35;  // residents' cars overnight
            since_ = start - from_minutes(uniform(rng_, 0, 300));
            const double h = hour_of_day(next_);
            next_change_ = next_ + from_minutes(occupied_ ? std::exponential_distribution<double>(1.0 / 420)(rng_)
                                                          : std::exponential_distribution<double>(arrival_rate_per_h(h))(rng_) * 60);
            next_heartbeat_ = next_ + hours{6};
            break;
        }
        case DeviceKind::environment:
            co2_ppm_ = uniform(rng_, 420, 480);
            break;
        case DeviceKind::meter:
            energy_raw_ = static_cast<std::uint32_t>(uniform(rng_, 1e5, 5e6));
            volume_raw_ = static_cast<std::uint32_t>(uniform(rng_, 1e5, 5e7));
            base_kw_ = uniform(rng_, 15, 90);
            serial_ = static_cast<std::uint32_t>(uniform(rng_, 6e7, 9.9e7));
            break;
    }
}

Payload DeviceBehaviour::produce() {
    switch (kind_) {
        case DeviceKind::parking: return parking();
        case DeviceKind::environment: return environment();
        case DeviceKind::meter: return meter();
    }
    return {};
}

Payload DeviceBehaviour::parking() {
    const SimTime now = next_;
    Payload p;
    if (!started_) {
        // Startup: firmware 2.4.9, reset cause power_on, occupancy.
        started_ = true;
        p.f_port = 3;
        p.bytes = {2, 4, 9, 2, static_cast<std::uint8_t>(occupied_ ? 1 : 0)};
    } else if (next_change_ <= next_heartbeat_) {
        const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(now - since_).count();
        occupied_ = !occupied_;
        since_ = now;
        const double h = hour_of_day(now);
        const double wait_min = occupied_ ? std::exponential_distribution<double>(1.0 / mean_dwell_min(h))(rng_)
                                          : std::exponential_distribution<double>(arrival_rate_per_h(h))(rng_) * 60;
        next_change_ = now + from_minutes(std::max(2.0, wait_min));
        p.f_port = 1;
        p.bytes = {static_cast<std::uint8_t>((nps405_duration_code(minutes) << 1) | (occupied_ ? 1 : 0))};
    } else {
        // Heartbeat: occupancy (and hardware health 0), battery 2500 + 4·b1 mV, temperature int8 / 2 + 10 °C.
        next_heartbeat_ = now + hours{6};
        const double h = hour_of_day(now);
        const double celsius = 6 + 4 * std::sin(2 * std::numbers::pi * (h - 9) / 24) + normal(rng_, 0, 0.5);
        const auto t8 = static_cast<std::int8_t>(std::clamp(std::lround((celsius - 10) * 2), -128L, 127L));
        const std::uint8_t battery = static_cast<std::uint8_t>(std::lround(uniform(rng_, 195, 205)));
        p.f_port = 2;
        p.bytes = {static_cast<std::uint8_t>(occupied_ ? 1 : 0), battery, static_cast<std::uint8_t>(t8), 0, 0, 0};
        p.readings.push_back({"temperature", t8 / 2.0 + 10});
        p.readings.push_back({"battery_voltage", (2500 + 4 * battery) / 1000.0});
    }
    p.readings.insert(p.readings.begin(), ExpectedReading{"occupancy", occupied_ ? 1.0 : 0.0});
    p.occupied = occupied_;
    next_ = std::min(next_change_, next_heartbeat_);
    return p;
}

Payload DeviceBehaviour::environment() {
    const SimTime now = next_;
    const double h = hour_of_day(now);
    const bool office_hours = weekday(now) && h >= 7.5 && h < 17.5;
    const bool lunch = h >= 12 && h < 13;
    occupants_ = office_hours ? std::max(0, static_cast<int>(std::lround(normal(rng_, lunch ? 1.5 : 5, 1.5)))) : 0;
    // A room of 60 m³ with some ventilation: each person adds about 30 ppm per 10 minutes; air exchange pulls it
    // back towards the outside air.
    co2_ppm_ = 420 + (co2_ppm_ - 420) * 0.85 + occupants_ * 30 + normal(rng_, 0, 4);
    co2_ppm_ = std::clamp(co2_ppm_, 400.0, 5000.0);
    const double celsius = 19.0 + (occupants_ > 0 ? 2.0 : 0.0) + 1.2 * std::sin(2 * std::numbers::pi * (h - 9) / 24) +
                           normal(rng_, 0, 0.15);
    const double humidity = 42 + 6 * std::sin(2 * std::numbers::pi * (h - 3) / 24) + normal(rng_, 0, 1);
    const double daylight = std::max(0.0, std::sin(std::numbers::pi * (h - 7.5) / 9.5));  // 07:30..17:00
    const double lux = daylight * 350 + (occupants_ > 0 ? 300 : 0) + uniform(rng_, 0, 5);
    const int motions = occupants_ > 0 ? static_cast<int>(std::poisson_distribution<int>(3.0 * occupants_)(rng_)) : 0;

    Payload p;
    p.f_port = 5;  // the port is configurable on the device; the format is the same on any
    const auto t = static_cast<std::int16_t>(std::lround(celsius * 10));
    const auto rh = static_cast<std::uint8_t>(std::clamp(std::lround(humidity), 0L, 100L));
    const auto light = static_cast<std::uint16_t>(std::clamp(std::lround(lux), 0L, 65535L));
    const auto motion = static_cast<std::uint8_t>(std::min(motions, 255));
    const auto co2 = static_cast<std::uint16_t>(std::lround(co2_ppm_));
    p.bytes.push_back(0x01);
    be16(p.bytes, static_cast<std::uint16_t>(t));
    p.bytes.push_back(0x02);
    p.bytes.push_back(rh);
    p.bytes.push_back(0x04);
    be16(p.bytes, light);
    p.bytes.push_back(0x05);
    p.bytes.push_back(motion);
    p.bytes.push_back(0x06);
    be16(p.bytes, co2);
    p.readings = {{"temperature", t / 10.0},
                  {"relative_humidity", static_cast<double>(rh)},
                  {"illuminance", static_cast<double>(light)},
                  {"motion", static_cast<double>(motion)},
                  {"co2", static_cast<double>(co2)}};
    next_ = now + minutes{10} + milliseconds{static_cast<std::int64_t>(uniform(rng_, -3000, 3000))};
    return p;
}

Payload DeviceBehaviour::meter() {
    const SimTime now = next_;
    const double h = hour_of_day(now);
    // Heating demand: highest before dawn, lowest in the afternoon.
    const double kw = std::max(0.0, base_kw_ * (1.0 + 0.45 * std::cos(2 * std::numbers::pi * (h - 5) / 24)) +
                                        normal(rng_, 0, base_kw_ * 0.05));
    const double flow_c = 70 + 12 * kw / (base_kw_ * 1.45) + normal(rng_, 0, 0.3);
    const double return_c = flow_c - 18 - normal(rng_, 0, 0.5);
    const double flow_m3h = kw / (1.163 * std::max(1.0, flow_c - return_c));
    energy_raw_ += static_cast<std::uint32_t>(std::lround(kw * 0.25 * 10));          // 15 minutes, 0.1 kWh
    volume_raw_ += static_cast<std::uint32_t>(std::lround(flow_m3h * 0.25 * 1000));  // litres

    const auto power_kw = static_cast<std::uint16_t>(std::lround(kw));
    const auto flow = static_cast<std::uint16_t>(std::lround(flow_m3h * 100));
    const auto t_flow = static_cast<std::uint16_t>(std::lround(flow_c * 100));
    const auto t_return = static_cast<std::uint16_t>(std::lround(return_c * 100));
    // Standard message (0x15): energy (VIF 05, 0.1 kWh), volume (VIF 13, l), power (VIF 2e, kW), flow (VIF 3c,
    // 0.01 m³/h), flow and return temperature (VIF 59, 5d: 0.01 °C), serial (0c 78, BCD), error flags (04 fd 17).
    Payload p;
    p.f_port = 2;
    p.bytes = {0x15, 0x04, 0x05};
    le(p.bytes, energy_raw_, 4);
    p.bytes.insert(p.bytes.end(), {0x04, 0x13});
    le(p.bytes, volume_raw_, 4);
    p.bytes.insert(p.bytes.end(), {0x02, 0x2e});
    le(p.bytes, power_kw, 2);
    p.bytes.insert(p.bytes.end(), {0x02, 0x3c});
    le(p.bytes, flow, 2);
    p.bytes.insert(p.bytes.end(), {0x02, 0x59});
    le(p.bytes, t_flow, 2);
    p.bytes.insert(p.bytes.end(), {0x02, 0x5d});
    le(p.bytes, t_return, 2);
    p.bytes.insert(p.bytes.end(), {0x0c, 0x78});
    bcd_le(p.bytes, serial_, 4);
    p.bytes.insert(p.bytes.end(), {0x04, 0xfd, 0x17, 0, 0, 0, 0});
    p.readings = {{"heat_energy", energy_raw_ / 10.0},  {"volume", volume_raw_ / 1000.0},
                  {"power", power_kw * 1000.0},         {"flow", flow / 100.0},
                  {"flow_temperature", t_flow / 100.0}, {"return_temperature", t_return / 100.0}};
    next_ = now + minutes{15} + milliseconds{static_cast<std::int64_t>(uniform(rng_, -3000, 3000))};
    return p;
}

// ---- radio ----

namespace {
constexpr double noise_floor_dbm = -117.0;  // -174 dBm/Hz + 10·log10(125 kHz) + 6 dB noise figure
constexpr double gateway_gain_db = 3.0;
constexpr double shadowing_sigma_db = 6.0;
constexpr double fading_sigma_db = 2.0;

double penetration_db(DeviceKind kind) {
    switch (kind) {
        case DeviceKind::parking: return 8;       // in the asphalt, often under a car
        case DeviceKind::environment: return 12;  // indoors
        case DeviceKind::meter: return 18;        // in the basement
    }
    return 0;
}
}  // namespace

Radio::Radio(const City& city, std::uint64_t seed) : gateways_(city.gateways.size()) {
    Rng rng(seed ^ 0x5ad10ULL);
    path_loss_db_.reserve(city.devices.size() * gateways_);
    for (const auto& d : city.devices) {
        for (const auto& g : city.gateways) {
            const double km = std::max(0.05, distance_m(d.position, g.position) / 1000.0);
            path_loss_db_.push_back(128.1 + 37.6 * std::log10(km) + penetration_db(d.kind) +
                                    normal(rng, 0, shadowing_sigma_db));
        }
    }
}

double Radio::mean_snr(std::size_t device, std::size_t gateway, int tx_power_dbm) const {
    return tx_power_dbm + gateway_gain_db - path_loss_db_[device * gateways_ + gateway] - noise_floor_dbm;
}

std::optional<Reception> Radio::receive(std::size_t device, std::size_t gateway, int tx_power_dbm, std::uint8_t dr,
                                        Rng& rng) const {
    const double snr = mean_snr(device, gateway, tx_power_dbm) + normal(rng, 0, fading_sigma_db);
    const auto floor = lorawan::eu868::required_snr_db(dr);
    if (!floor || snr < *floor) return std::nullopt;
    Reception r;
    // Above about +10 dB the concentrator's SNR estimate saturates; the RSSI goes on rising.
    r.snr = std::round(std::min(snr, 13.5) * 4) / 4;
    r.rssi = static_cast<int>(std::lround(snr + noise_floor_dbm));
    return r;
}

std::uint8_t Radio::initial_dr(std::size_t device, int tx_power_dbm, double margin_db) const {
    double best = -1e9;
    for (std::size_t g = 0; g < gateways_; ++g) best = std::max(best, mean_snr(device, g, tx_power_dbm));
    for (int dr = 5; dr > 0; --dr) {
        const auto floor = lorawan::eu868::required_snr_db(static_cast<std::uint8_t>(dr));
        if (floor && best - margin_db >= *floor) return static_cast<std::uint8_t>(dr);
    }
    return 0;
}

// ---- ground truth ----

void GroundTruth::delivered(const DeviceSpec& device, const Payload& payload) {
    ++uplinks_;
    auto& d = devices_[device.dev_eui.to_string()];
    ++d.uplinks;
    for (const auto& r : payload.readings) {
        ++d.readings[r.quantity];
        d.last[r.quantity] = r.value;
    }
    if (payload.occupied && !device.zone.empty()) {
        spots_[device.zone][device.spot] = *payload.occupied ? "occupied" : "free";
    }
}

nlohmann::json GroundTruth::to_json() const {
    nlohmann::json devices = nlohmann::json::object();
    for (const auto& [eui, d] : devices_) {
        devices[eui] = {{"uplinks", d.uplinks}, {"readings", d.readings}, {"last", d.last}};
    }
    nlohmann::json zones = nlohmann::json::object();
    nlohmann::json spots = nlohmann::json::object();
    for (const auto& [zone, by_spot] : spots_) {
        std::uint64_t free = 0, occupied = 0;
        for (const auto& [spot, status] : by_spot) {
            spots[zone][spot] = status;
            (status == "occupied" ? occupied : free) += 1;
        }
        zones[zone] = {{"free", free}, {"occupied", occupied}, {"unknown", 0}, {"total", free + occupied}};
    }
    return {{"uplinks", uplinks_}, {"devices", devices}, {"zones", zones}, {"spots", spots}, {"planted", planted_}};
}

}  // namespace schwebe::sim
