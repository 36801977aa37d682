// The simulated city's pure model (sim/city.hpp): the same city for the same seed, payloads that the vendors'
// decoders (the native codecs, written from the vendors' documents) read back as the readings the simulation
// expects, behaviour over a day that looks like a city, a radio that weakens with distance, and ground truth.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>

#include "decoders/codec.hpp"
#include "sim/city.hpp"

using namespace schwebe;
using namespace std::chrono_literals;

namespace {

sim::CityOptions small_options() {
    sim::CityOptions o;
    o.zones = 2;
    o.spots_per_zone = 10;
    o.environment = 6;
    o.meters = 4;
    return o;
}

const sim::ProfileSpec& profile_of(const sim::City& city, const sim::DeviceSpec& d) {
    const auto it = std::find_if(city.profiles.begin(), city.profiles.end(),
                                 [&](const auto& p) { return p.name == d.profile; });
    REQUIRE(it != city.profiles.end());
    return *it;
}

double hour_of(sim::SimTime t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    return std::chrono::duration<double, std::ratio<3600>>(t - day).count();
}

}  // namespace

TEST_CASE("build_city: the issue's city by default, the same for the same seed", "[unit][sim]") {
    const sim::City city = sim::build_city({});
    CHECK(city.gateways.size() == 6);
    std::map<sim::DeviceKind, std::size_t> kinds;
    std::size_t otaa = 0;
    std::set<std::string> euis, addrs, spots;
    for (const auto& d : city.devices) {
        ++kinds[d.kind];
        otaa += d.otaa ? 1 : 0;
        euis.insert(d.dev_eui.to_string());
        if (!d.otaa) addrs.insert(d.dev_addr.to_string());
        if (d.kind == sim::DeviceKind::parking) {
            CHECK_FALSE(d.otaa);
            CHECK_FALSE(d.zone.empty());
            spots.insert(d.zone + "/" + d.spot);
        }
        // In Wuppertal (the valley from Vohwinkel to Oberbarmen).
        CHECK(d.position.latitude > 51.2);
        CHECK(d.position.latitude < 51.3);
        CHECK(d.position.longitude > 7.0);
        CHECK(d.position.longitude < 7.3);
    }
    CHECK(kinds[sim::DeviceKind::parking] == 200);
    CHECK(kinds[sim::DeviceKind::environment] == 30);
    CHECK(kinds[sim::DeviceKind::meter] == 20);
    CHECK(otaa == 25);  // half of the 50 environment sensors and meters
    CHECK(euis.size() == city.devices.size());
    CHECK(addrs.size() == city.devices.size() - otaa);
    CHECK(spots.size() == 200);

    CHECK(sim::devices_csv(sim::build_city({})) == sim::devices_csv(city));
    sim::CityOptions other;
    other.seed = 2;
    CHECK(sim::devices_csv(sim::build_city(other)) != sim::devices_csv(city));
}

TEST_CASE("devices_csv: one row per device in the import format, the keys of its activation only", "[unit][sim]") {
    const sim::City city = sim::build_city(small_options());
    const std::string csv = sim::devices_csv(city);
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < csv.size();) {
        const auto end = csv.find('\n', start);
        lines.push_back(csv.substr(start, end - start));
        start = end + 1;
    }
    REQUIRE(lines.size() == city.devices.size() + 1);
    CHECK(lines[0] ==
          "dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,spot,latitude,"
          "longitude,tags");
    for (std::size_t i = 0; i < city.devices.size(); ++i) {
        const auto& d = city.devices[i];
        INFO(lines[i + 1]);
        std::vector<std::string> f;
        for (std::size_t start = 0;;) {
            const auto end = lines[i + 1].find(',', start);
            f.push_back(lines[i + 1].substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
        REQUIRE(f.size() == 14);
        CHECK(f[0] == d.dev_eui.to_string());
        CHECK(f[3] == d.profile);
        CHECK(profile_of(city, d).otaa == d.otaa);
        CHECK(f[4].empty() == !d.otaa);
        CHECK(f[5].size() == (d.otaa ? 32U : 0U));
        CHECK(f[6].size() == (d.otaa ? 0U : 8U));
        CHECK(f[7].size() == (d.otaa ? 0U : 32U));
        CHECK(f[9] == d.zone);
        CHECK(f[10] == d.spot);
        CHECK(f[13] == std::string("kind=") + sim::name_of(d.kind));
    }
}

TEST_CASE("every payload of a simulated day decodes, with the device's own codec, to the readings expected",
          "[unit][sim]") {
    const sim::City city = sim::build_city(small_options());
    const auto codecs = decoders::CodecRegistry::with_native_codecs();
    const sim::SimTime start = sim::CityOptions{}.start;
    std::map<std::string, std::size_t> payloads_by_codec;
    for (std::size_t i = 0; i < city.devices.size(); ++i) {
        const auto& d = city.devices[i];
        const auto& profile = profile_of(city, d);
        const decoders::Codec* codec = codecs.find(profile.codec);
        REQUIRE(codec != nullptr);
        sim::DeviceBehaviour behaviour(d, start, 1000 + i);
        while (behaviour.next() < start + 24h) {
            const sim::Payload p = behaviour.produce();
            ++payloads_by_codec[profile.codec];
            const auto result = codec->decode({.f_port = p.f_port, .bytes = p.bytes, .recv_time = {}});
            INFO(profile.codec << " FPort " << int(p.f_port) << " payload " << lorawan::to_hex(p.bytes));
            REQUIRE(result.ok());
            std::map<std::string, double> decoded;
            for (const auto& r : result.decoded->readings) decoded[r.quantity] = r.value;
            std::map<std::string, double> expected;
            for (const auto& r : p.readings) expected[r.quantity] = r.value;
            REQUIRE(decoded.size() == expected.size());
            for (const auto& [quantity, value] : expected) {
                INFO(quantity);
                REQUIRE(decoded.contains(quantity));
                CHECK(decoded[quantity] == Approx(value).margin(1e-9));
            }
            if (p.occupied) {
                REQUIRE(decoded.contains("occupancy"));
                CHECK(decoded["occupancy"] == (*p.occupied ? 1.0 : 0.0));
            }
        }
    }
    // Parking every few hours at least (heartbeats), environment every 10 minutes, meters every 15.
    CHECK(payloads_by_codec["nwave-nps405"] >= 20 * 4);
    CHECK(payloads_by_codec["elsys-ers-co2"] >= 6 * 24 * 6 - 6 * 2);
    CHECK(payloads_by_codec["elvaco-cmi4140"] >= 4 * 24 * 4 - 4 * 2);
}

TEST_CASE("a simulated day: parking fills by day, CO2 rises in occupied rooms, meters count up", "[unit][sim]") {
    sim::CityOptions o;
    o.zones = 5;
    o.spots_per_zone = 40;
    const sim::City city = sim::build_city(o);
    const sim::SimTime start = o.start;  // a Monday
    double occupied_at_3 = 0, occupied_at_11 = 0;
    std::vector<double> co2_night, co2_work;
    std::size_t status_changes = 0;
    for (std::size_t i = 0; i < city.devices.size(); ++i) {
        const auto& d = city.devices[i];
        sim::DeviceBehaviour b(d, start, 7 + i);
        bool sampled_3 = false, sampled_11 = false;
        double last_energy = -1, last_volume = -1;
        std::optional<bool> last_state;
        while (b.next() < start + 24h) {
            const double h = hour_of(b.next());
            if (d.kind == sim::DeviceKind::parking) {
                // The state in force at 03:00 and 11:00: the one before the first payload after that hour.
                if (!sampled_3 && h >= 3 && last_state) occupied_at_3 += *last_state ? 1 : 0, sampled_3 = true;
                if (!sampled_11 && h >= 11 && last_state) occupied_at_11 += *last_state ? 1 : 0, sampled_11 = true;
            }
            const sim::Payload p = b.produce();
            for (const auto& r : p.readings) {
                if (r.quantity == "co2" && h >= 10 && h < 12) co2_work.push_back(r.value);
                if (r.quantity == "co2" && h < 5) co2_night.push_back(r.value);
                if (r.quantity == "heat_energy") {
                    CHECK(r.value >= last_energy);
                    last_energy = r.value;
                }
                if (r.quantity == "volume") {
                    CHECK(r.value >= last_volume);
                    last_volume = r.value;
                }
            }
            if (p.occupied && p.f_port == 1) {
                // A status message reports a change.
                if (last_state) CHECK(*p.occupied != *last_state);
                ++status_changes;
            }
            if (p.occupied) last_state = p.occupied;
        }
        if (d.kind == sim::DeviceKind::meter) CHECK(last_energy > 0);
    }
    INFO("occupied at 03:00: " << occupied_at_3 << ", at 11:00: " << occupied_at_11 << " of 200");
    CHECK(occupied_at_11 >= occupied_at_3 + 10);
    CHECK(status_changes > 400);  // spots occupied and freed: two changes a spot on average at least
    const auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) s += x;
        return v.empty() ? 0 : s / static_cast<double>(v.size());
    };
    INFO("CO2 night " << mean(co2_night) << " ppm, working hours " << mean(co2_work) << " ppm");
    CHECK(mean(co2_work) > mean(co2_night) + 150);
    CHECK(mean(co2_night) < 600);
}

TEST_CASE("nps405_duration_code: minutes exact to 89, then 5-minute, then hour steps, 127 beyond", "[unit][sim]") {
    CHECK(sim::nps405_duration_code(0) == 0);
    CHECK(sim::nps405_duration_code(1) == 1);
    CHECK(sim::nps405_duration_code(89) == 89);
    CHECK(sim::nps405_duration_code(90) == 90);
    CHECK(sim::nps405_duration_code(94) == 90);
    CHECK(sim::nps405_duration_code(95) == 91);
    CHECK(sim::nps405_duration_code(235) == 119);
    CHECK(sim::nps405_duration_code(240) == 120);
    CHECK(sim::nps405_duration_code(299) == 120);
    CHECK(sim::nps405_duration_code(300) == 121);
    CHECK(sim::nps405_duration_code(600) == 126);
    CHECK(sim::nps405_duration_code(660) == 127);
    CHECK(sim::nps405_duration_code(5000) == 127);
    CHECK(sim::nps405_duration_code(-3) == 0);
}

TEST_CASE("Radio: the nearer gateway hears a device better, a far one not at all at a fast DR", "[unit][sim]") {
    sim::CityOptions o = small_options();
    const sim::City city = sim::build_city(o);
    const sim::Radio radio(city, 5);
    std::size_t compared = 0;
    for (std::size_t i = 0; i < city.devices.size(); ++i) {
        // The nearest and the farthest gateway of each device: 6 dB of shadowing (σ) cannot undo kilometres.
        std::size_t near = 0, far = 0;
        for (std::size_t g = 0; g < city.gateways.size(); ++g) {
            const double dist = sim::distance_m(city.devices[i].position, city.gateways[g].position);
            if (dist < sim::distance_m(city.devices[i].position, city.gateways[near].position)) near = g;
            if (dist > sim::distance_m(city.devices[i].position, city.gateways[far].position)) far = g;
        }
        const double d_near = sim::distance_m(city.devices[i].position, city.gateways[near].position);
        const double d_far = sim::distance_m(city.devices[i].position, city.gateways[far].position);
        if (d_far < 4 * d_near) continue;
        ++compared;
        CHECK(radio.mean_snr(i, near, 14) > radio.mean_snr(i, far, 14));
        // 14 dBm more power is 14 dB more SNR.
        CHECK(radio.mean_snr(i, near, 14) - radio.mean_snr(i, near, 0) == Approx(14));
    }
    CHECK(compared > 10);

    // Over many frames: the reception varies (fading), and a link far below the DR5 floor never gets through.
    sim::Rng rng(3);
    std::set<int> rssis;
    std::size_t i_far = 0, g_far = 0;
    double worst = 1e9;
    for (std::size_t i = 0; i < city.devices.size(); ++i) {
        for (std::size_t g = 0; g < city.gateways.size(); ++g) {
            if (radio.mean_snr(i, g, 14) < worst) worst = radio.mean_snr(i, g, 14), i_far = i, g_far = g;
        }
    }
    REQUIRE(worst < -7.5 - 10);  // the DR5 (SF7) floor with 10 dB to spare
    for (int k = 0; k < 200; ++k) CHECK_FALSE(radio.receive(i_far, g_far, 14, 5, rng).has_value());
    const std::uint8_t dr = radio.initial_dr(0, 14, 5.0);
    CHECK(dr <= 5);
    std::size_t best = 0;
    for (std::size_t g = 0; g < city.gateways.size(); ++g) {
        if (radio.mean_snr(0, g, 14) > radio.mean_snr(0, best, 14)) best = g;
    }
    for (int k = 0; k < 50; ++k) {
        if (const auto r = radio.receive(0, best, 14, 0, rng)) rssis.insert(r->rssi);
    }
    CHECK(rssis.size() > 1);
    // A larger margin never picks a faster DR.
    for (std::size_t i = 0; i < city.devices.size(); ++i) CHECK(radio.initial_dr(i, 14, 15.0) <= radio.initial_dr(i, 14, 5.0));
}

TEST_CASE("GroundTruth: uplinks and readings per device, the last value, each spot's final status, zone totals",
          "[unit][sim]") {
    sim::DeviceSpec a;
    a.dev_eui = *lorawan::Eui64::from_hex("70b3d5499c010001");
    a.zone = "neumarkt";
    a.spot = "1";
    sim::DeviceSpec b = a;
    b.dev_eui = *lorawan::Eui64::from_hex("70b3d5499c010002");
    b.spot = "2";
    sim::DeviceSpec e;
    e.dev_eui = *lorawan::Eui64::from_hex("70b3d5499c020001");
    sim::GroundTruth truth;
    truth.delivered(a, {.f_port = 1, .bytes = {1}, .readings = {{"occupancy", 1}}, .occupied = true});
    truth.delivered(a, {.f_port = 1, .bytes = {0}, .readings = {{"occupancy", 0}}, .occupied = false});
    truth.delivered(b, {.f_port = 1, .bytes = {1}, .readings = {{"occupancy", 1}}, .occupied = true});
    truth.delivered(e, {.f_port = 5, .bytes = {}, .readings = {{"temperature", 21.5}, {"co2", 600}}, .occupied = std::nullopt});
    truth.delivered(e, {.f_port = 5, .bytes = {}, .readings = {{"temperature", 22}, {"co2", 640}}, .occupied = std::nullopt});
    truth.planted("mic_mismatch");
    const nlohmann::json j = truth.to_json();
    CHECK(j.at("uplinks") == 5);
    CHECK(j.at("devices").at("70b3d5499c010001").at("uplinks") == 2);
    CHECK(j.at("devices").at("70b3d5499c010001").at("readings").at("occupancy") == 2);
    CHECK(j.at("devices").at("70b3d5499c020001").at("readings").at("co2") == 2);
    CHECK(j.at("devices").at("70b3d5499c020001").at("last").at("temperature") == 22.0);
    CHECK(j.at("spots").at("neumarkt").at("1") == "free");
    CHECK(j.at("spots").at("neumarkt").at("2") == "occupied");
    CHECK(j.at("zones").at("neumarkt") ==
          nlohmann::json{{"free", 1}, {"occupied", 1}, {"unknown", 0}, {"total", 2}});
    CHECK(j.at("planted").at("mic_mismatch") == 1);
}
