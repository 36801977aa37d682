// `schwebe serve` with the network server, as a process that may die at any moment (kill -9: no shutdown code runs).
// A device's frames go in over real UDP; what the store committed must hold after every restart: no replayed
// uplink is accepted again, no downlink counter is used twice.

#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "integrations/sqlite/device_registry.hpp"
#include "lorawan/session.hpp"
#include "network-server/ns_fixture.hpp"
#include "support/schwebe_process.hpp"

using namespace schwebe;
using namespace schwebe::test;
namespace asio = boost::asio;

namespace {

const auto gw_id = *lorawan::Eui64::from_hex("0016c001f153a14c");
const lorawan::Eui64 dev_eui = lorawan::Eui64::from_u64(0x70b3d5000000abcd);
const lorawan::DevAddr dev_addr{0x260b3001};
const auto nwk_s_key = *lorawan::NwkSKey::from_hex("3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c");
const auto app_s_key = *lorawan::AppSKey::from_hex("5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");

/// The device, provisioned with the CLI's code on the store the server will open.
void provision(const std::filesystem::path& db_path) {
    auto db = sqlite::Database::open(db_path);
    sqlite::SqliteDeviceRegistry registry(db);
    const auto app = registry.create_application("city");
    REQUIRE(app.ok());
    ns::DeviceProfile profile;
    profile.name = "abp";
    profile.activation = ns::Activation::abp;
    profile.adr_enabled = false;
    profile.dev_status_interval = std::chrono::seconds{0};
    const auto created = registry.create_device_profile(profile);
    REQUIRE(created.ok());
    ns::Device d;
    d.dev_eui = dev_eui;
    d.name = "crash-test";
    d.application_id = app->id;
    d.device_profile_id = created->id;
    d.dev_addr = dev_addr;
    d.nwk_s_key = nwk_s_key;
    d.app_s_key = app_s_key;
    REQUIRE(registry.add_device(d).ok());
}

std::map<std::string, std::string> environment(const TempDir& dir, std::uint16_t port) {
    return {{"SCHWEBE_BRIDGE_UDP_BIND", "127.0.0.1:" + std::to_string(port)},
            {"SCHWEBE_STORAGE_SQLITE_PATH", dir.db_path().string()},
            {"SCHWEBE_MQTT_ENABLED", "false"},
            {"SCHWEBE_NETWORK_SERVER_DEDUP_WINDOW_MS", "0"},
            {"SCHWEBE_NETWORK_SERVER_DEDUP_COOLDOWN_MS", "0"},
            {"SCHWEBE_LOG_LEVEL", "warn"}};
}

/// The FCntDown of a reply, read as the device does: the 16 bits on the air with the MIC checked under them.
std::uint32_t f_cnt_down_of(lorawan::SessionCrypto& session, const lorawan::Bytes& phy) {
    auto parsed = lorawan::parse_phy_payload(phy);
    REQUIRE(parsed.ok());
    const auto& frame = std::get<lorawan::DataFrame>(parsed->body);
    const auto read = read_downlink(session, phy, frame.f_cnt_16);
    REQUIRE(read.mic_ok);
    REQUIRE(read.frame.f_ctrl.ack);
    return frame.f_cnt_16;
}

}  // namespace

TEST_CASE("kill -9 at any moment never lets a replay through nor reuses an FCntDown", "[integration][serve][crash]") {
    const TempDir dir;
    provision(dir.db_path());
    const std::uint16_t port = free_udp_port();
    asio::io_context io;
    lorawan::SessionCrypto session(nwk_s_key, app_s_key);
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);

    std::vector<lorawan::Bytes> accepted;  // frames the store committed: each must never be accepted again
    std::set<std::uint32_t> f_cnt_downs;
    std::uint32_t next_f_cnt = 0;
    std::uint32_t tmst = 1'000'000;
    auto confirmed_uplink = [&](std::vector<lorawan::Bytes>& into) {
        into.push_back(data_uplink(session, dev_addr, next_f_cnt++, 1, {0x01}, true));
        return into.back();
    };
    auto record_replies = [&](sim::SimulatedGateway& gw, std::size_t from) {
        for (std::size_t i = from; i < gw.downlinks.size(); ++i) {
            const auto f_cnt_down = f_cnt_down_of(session, gw.downlinks[i].phy_payload);
            CHECK(f_cnt_downs.insert(f_cnt_down).second);  // never used before
        }
    };
    auto committed_f_cnt_up = [&]() -> std::optional<std::uint32_t> {
        auto db = sqlite::Database::open(dir.db_path());
        auto q = db.prepare("SELECT f_cnt_up FROM device_sessions WHERE dev_eui = ?1");
        q.bind_text(1, dev_eui.to_string());
        REQUIRE(q.step());
        std::optional<std::uint32_t> value;
        if (!q.column_is_null(0)) value = static_cast<std::uint32_t>(q.column_int64(0));
        q.reset();
        return value;
    };

    for (int round = 0; round < 6; ++round) {
        INFO("round " << round);
        SchwebeProcess schwebe{{"serve", "--components", "bridge,ns"}, environment(dir, port)};
        sim::SimulatedGateway gw{io, gw_id, {asio::ip::make_address("127.0.0.1"), port}};
        REQUIRE(wait_for_server(io, gw));

        // Every frame accepted before a crash, again: none may be accepted twice (no ACK comes back)…
        for (const auto& frame : accepted) gw.push({packet(frame, tmst += 3'000'000)});
        // …which a fresh frame proves: its reply, processed after the replays, is the only one.
        std::vector<lorawan::Bytes> fresh;
        gw.push({packet(confirmed_uplink(fresh), tmst += 3'000'000)});
        REQUIRE(sim::run_until(io, [&] { return !gw.downlinks.empty(); }, std::chrono::seconds{10}));
        CHECK(gw.downlinks.size() == 1);
        record_replies(gw, 0);
        accepted.push_back(fresh.back());

        // A burst, and the kill after a random number of its replies (zero: at once).
        const std::size_t burst = 6;
        const std::size_t replies_before_kill = rng() % (burst + 1);
        const std::uint32_t first_in_burst = next_f_cnt;
        std::vector<lorawan::Bytes> burst_frames;
        for (std::size_t i = 0; i < burst; ++i) gw.push({packet(confirmed_uplink(burst_frames), tmst += 3'000'000)});
        REQUIRE(sim::run_until(io, [&] { return gw.downlinks.size() >= 1 + replies_before_kill; },
                               std::chrono::seconds{10}));
        schwebe.kill9();
        while (io.poll() > 0) {
        }  // replies already in the socket were sent: their counters are used too
        io.restart();
        record_replies(gw, 1);

        // Each reply was sent only after its uplink was committed.
        const std::size_t replies = gw.downlinks.size() - 1;
        const auto committed = committed_f_cnt_up();
        REQUIRE(committed);
        CHECK(*committed + 1 >= first_in_burst + replies);
        for (std::size_t i = 0; i < burst; ++i) {
            if (first_in_burst + i <= *committed) accepted.push_back(burst_frames[i]);
        }
    }

    // The last accepted frame replayed once more after a final restart: refused; the next reply has a new FCntDown.
    SchwebeProcess schwebe{{"serve", "--components", "bridge,ns"}, environment(dir, port)};
    sim::SimulatedGateway gw{io, gw_id, {asio::ip::make_address("127.0.0.1"), port}};
    REQUIRE(wait_for_server(io, gw));
    gw.push({packet(accepted.back(), tmst += 3'000'000)});
    std::vector<lorawan::Bytes> fresh;
    gw.push({packet(confirmed_uplink(fresh), tmst += 3'000'000)});
    REQUIRE(sim::run_until(io, [&] { return !gw.downlinks.empty(); }, std::chrono::seconds{10}));
    CHECK(gw.downlinks.size() == 1);
    const auto last = f_cnt_down_of(session, gw.downlinks[0].phy_payload);
    CHECK(last > *f_cnt_downs.rbegin());
    CHECK(schwebe.terminate() == 0);
}
