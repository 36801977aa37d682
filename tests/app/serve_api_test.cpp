// The HTTP API of `schwebe serve` over real loopback HTTP: tokens (refusals without, with a wrong and with a
// revoked one), bodies refused with the field at fault, keys never returned, the CSV import with broken rows, what
// traffic from a simulated gateway stored (readings, buckets, parking, device state, uplinks, the live stream),
// /metrics, every path of the OpenAPI document routed, the request limits, and a graceful stop with a stream open.
// Expected values come from the frames the test sends and the shared vectors, never from the server's output.

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "app/serve_process_support.hpp"
#include "app/serve_test_support.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/migrations.hpp"
#include "integrations/sqlite/token_store.hpp"
#include "lorawan/session.hpp"
#include "network-server/ns_fixture.hpp"
#include "sim/simulated_gateway.hpp"
#include "support/http_client.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

using namespace schwebe;
using namespace schwebe::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using Json = nlohmann::json;

namespace {

const auto gateway_eui = *lorawan::Eui64::from_hex("0016c001f153a14d");

/// `schwebe serve` with the API on a port of the kernel's choosing, no broker, a store with one token in it.
struct ApiServer {
    explicit ApiServer(std::size_t max_body_bytes = 1 << 20) : udp_port(free_udp_port()) {
        config_path = dir.path() / "schwebe.toml";
        std::ofstream out(config_path);
        out << "[storage]\nsqlite_path = \"" << dir.db_path().string() << "\"\nretention_days = 0\n"
            << "[bridge]\nudp_bind = \"127.0.0.1:" << udp_port << "\"\nstore_flush_interval_s = 1\n"
            << "[mqtt]\nenabled = false\n"
            << "[api]\nbind = \"127.0.0.1:0\"\nmax_body_bytes = " << max_body_bytes << "\n"
            << "request_timeout_ms = 2000\n"
            << "[parking]\nunknown_after_s = 86400\n"
            << "[network_server]\ndedup_window_ms = 20\n"
            << "[log]\nlevel = \"info\"\n";
        REQUIRE(out.good());
        out.close();
        // The token a test holds: made in the store as `schwebe token create` does.
        {
            auto db = sqlite::Database::open(dir.db_path());
            sqlite::SqliteTokenStore tokens(db);
            std::string error;
            auto created = tokens.create("test", error);
            REQUIRE(created);
            token = created->secret;
        }
        serve.emplace(std::vector<std::string>{"--config", config_path.string(), "serve", "--components",
                                               "bridge,ns,api"},
                      std::map<std::string, std::string>{}, dir.path() / "serve.log");
        const std::regex listening(R"(HTTP API and dashboard listening"? api_bind="?127\.0\.0\.1:(\d+))");
        std::smatch m;
        const bool listening_seen = wait_until(
            test_io.io,
            [&] {
                const std::string text = serve->output();
                if (!std::regex_search(text, m, listening)) return false;
                port = static_cast<std::uint16_t>(std::stoul(m[1].str()));
                return true;
            },
            10s);
        INFO(serve->output());
        REQUIRE(listening_seen);
        REQUIRE(port != 0);
    }

    [[nodiscard]] ServeConfig cli_config() const { return ServeConfig{config_path, dir.db_path(), udp_port}; }

    HttpReply get(const std::string& target) const { return http(port, "GET", target); }
    HttpReply write(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& bearer) const {
        std::vector<std::string> headers{"Content-Type: application/json"};
        if (!bearer.empty()) headers.push_back("Authorization: Bearer " + bearer);
        return http(port, method, target, body, headers);
    }
    HttpReply write(const std::string& method, const std::string& target, const std::string& body = "{}") const {
        return write(method, target, body, token);
    }

    TempDir dir;
    std::uint16_t udp_port;
    std::filesystem::path config_path;
    std::string token;
    TestIo test_io;
    std::optional<ServeProcess> serve;
    std::uint16_t port = 0;
};

/// The error object of a refusal: {"error": {"code", "message", "field"}}.
Json error_of(const HttpReply& r) {
    INFO(r.status << " " << r.body);
    const Json j = r.json();
    REQUIRE(j.contains("error"));
    return j.at("error");
}

std::string field_of(const HttpReply& r) {
    const Json e = error_of(r);
    return e.contains("field") && e.at("field").is_string() ? e.at("field").get<std::string>() : std::string();
}

constexpr const char* abp_profile = R"({"name": "parking-abp", "activation": "abp", "mac_version": "1.0.3",
                                       "codec": "nwave-nps405", "dev_status_interval_s": 0, "adr_enabled": false})";

}  // namespace

TEST_CASE("API writes need a valid token: none is 401, a wrong or revoked one 403, and reads need none",
          "[api][integration]") {
    ApiServer api;
    const std::string body = R"({"name": "parking"})";

    const auto none = api.write("POST", "/api/applications", body, "");
    CHECK(none.status == 401);
    CHECK(error_of(none).at("message").get<std::string>().find("token") != std::string::npos);
    CHECK(api.write("POST", "/api/applications", body, "schwebe_not-a-token").status == 403);
    const auto basic = http(api.port, "POST", "/api/applications", body, {"Authorization: Basic dGVzdDp0ZXN0"});
    CHECK(basic.status == 401);
    // Nothing was created by the refused requests.
    CHECK(api.get("/api/applications").json().at("applications").empty());

    const auto created = api.write("POST", "/api/applications", body);
    REQUIRE(created.status == 201);
    CHECK(created.json().at("name") == "parking");
    CHECK(api.write("POST", "/api/applications", body).status == 409);
    CHECK(api.get("/api/applications").json().at("applications").size() == 1);

    // The token list is for token holders only; it never shows a secret.
    CHECK(api.get("/api/tokens").status == 401);
    const auto tokens = api.write("GET", "/api/tokens", "");
    REQUIRE(tokens.status == 200);
    REQUIRE(tokens.json().at("tokens").size() == 1);
    CHECK(tokens.body.find(api.token) == std::string::npos);

    // A token made through the API works, and once revoked is refused.
    const auto second = api.write("POST", "/api/tokens", R"({"name": "import"})");
    REQUIRE(second.status == 201);
    const std::string secret = second.json().at("token").get<std::string>();
    CHECK(secret.starts_with("schwebe_"));
    CHECK(api.write("POST", "/api/applications", R"({"name": "energy"})", secret).status == 201);
    CHECK(api.write("DELETE", "/api/tokens/import", "").status == 204);
    CHECK(api.write("POST", "/api/applications", R"({"name": "air"})", secret).status == 403);
    CHECK(api.write("DELETE", "/api/tokens/import", "").status == 404);

    // Refusals are counted in /metrics.
    const auto metrics = api.get("/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.header("content-type").starts_with("text/plain"));
    const std::regex unauthorized(R"(schwebe_api_unauthorized_total (\d+))");
    std::smatch m;
    REQUIRE(std::regex_search(metrics.body, m, unauthorized));
    CHECK(std::stoi(m[1].str()) == 5);  // none, wrong, Basic, the token list without one, the revoked one
}

TEST_CASE("API bodies that are not what a route takes are refused with the field at fault, and keys never come back",
          "[api][integration]") {
    ApiServer api;
    CHECK(field_of(api.write("POST", "/api/device-profiles", "not json")) == "body");
    CHECK(field_of(api.write("POST", "/api/device-profiles", "[1, 2]")) == "body");
    CHECK(field_of(api.write("POST", "/api/device-profiles", "")) == "body");
    CHECK(field_of(api.write("POST", "/api/device-profiles", R"({"name": "p", "activaton": "abp"})")) ==
          "activaton");
    CHECK(field_of(api.write("POST", "/api/device-profiles", R"({"name": "p", "activation": "radio"})")) ==
          "activation");
    CHECK(field_of(api.write("POST", "/api/device-profiles",
                             R"({"name": "p", "activation": "abp", "codec": "no-such-codec"})")) == "codec");
    CHECK(field_of(api.write("POST", "/api/device-profiles", R"({"name": 5, "activation": "abp"})")) == "name");
    REQUIRE(api.write("POST", "/api/device-profiles", abp_profile).status == 201);
    CHECK(api.write("POST", "/api/device-profiles", abp_profile).status == 409);

    const std::string nwk = "2b7e151628aed2a6abf7158809cf4f3c";
    const std::string app = "3c4fcf098815f7aba6d2ae2816157e2b";
    const auto device = [&](const std::string& extra) {
        return R"({"dev_eui": "70b3d57ed0000001", "name": "spot-1", "profile": "parking-abp", "application": "parking",
                   "dev_addr": "26011f01", "nwk_s_key": ")" +
               nwk + R"(", "app_s_key": ")" + app + "\"" + extra + "}";
    };
    const auto bad_key = api.write("POST", "/api/devices",
                                   R"({"dev_eui": "70b3d57ed0000001", "name": "x", "profile": "parking-abp",
                                       "dev_addr": "26011f01", "nwk_s_key": "2b7e1516zz", "app_s_key": ")" +
                                       app + "\"}");
    CHECK(field_of(bad_key) == "nwk_s_key");
    CHECK(bad_key.body.find("2b7e1516zz") == std::string::npos);  // a key is never echoed, not even a broken one
    CHECK(field_of(api.write("POST", "/api/devices", device(R"(, "zone": 5)"))) == "zone");
    CHECK(field_of(api.write("POST", "/api/devices", device(R"(, "colour": "red")"))) == "colour");
    CHECK(field_of(api.write("POST", "/api/devices",
                             R"({"dev_eui": "70b3d57ed00000", "name": "x", "profile": "parking-abp"})")) == "dev_eui");
    CHECK(field_of(api.write("POST", "/api/devices",
                             R"({"dev_eui": "70b3d57ed0000002", "name": "x", "profile": "nope"})")) == "profile");
    CHECK(api.get("/api/devices").json().at("devices").empty());

    const auto added = api.write("POST", "/api/devices", device(R"(, "zone": "neumarkt", "spot": "7")"));
    REQUIRE(added.status == 201);
    CHECK(api.write("POST", "/api/devices", device("")).status == 409);
    for (const auto& r : {added, api.get("/api/devices/70b3d57ed0000001"), api.get("/api/devices")}) {
        INFO(r.body);
        CHECK(r.body.find(nwk) == std::string::npos);
        CHECK(r.body.find(app) == std::string::npos);
    }
    const Json shown = api.get("/api/devices/70b3d57ed0000001").json();
    CHECK(shown.at("name") == "spot-1");
    CHECK(shown.at("tags").at("zone") == "neumarkt");
    CHECK(shown.at("dev_addr") == "26011f01");

    // What a GET returns, sent back with a change, updates the device and keeps its keys.
    Json changed = shown;
    changed["name"] = "spot-7";
    const auto put = api.write("PUT", "/api/devices/70b3d57ed0000001", changed.dump());
    INFO(put.body);
    REQUIRE(put.status == 200);
    CHECK(put.json().at("name") == "spot-7");
    CHECK(put.json().at("nwk_s_key") == shown.at("nwk_s_key"));

    CHECK(api.get("/api/devices/70b3d57ed0000009").status == 404);
    CHECK(field_of(api.get("/api/devices/not-an-eui")) == "dev_eui");
    CHECK(api.write("PATCH", "/api/devices/70b3d57ed0000001", "{}").status == 405);
    CHECK(field_of(api.get("/api/readings?from=yesterday")) == "from");
    CHECK(field_of(api.get("/api/readings?limit=0")) == "limit");

    // The downlink queue: refused bodies name their field and queue nothing; a good one is queued and listed.
    CHECK(field_of(api.write("POST", "/api/devices/70b3d57ed0000001/queue", R"({"f_port": 0, "hex": "01"})")) ==
          "f_port");
    CHECK(field_of(api.write("POST", "/api/devices/70b3d57ed0000001/queue", R"({"f_port": 2, "hex": "0g"})")) ==
          "hex");
    CHECK(api.get("/api/devices/70b3d57ed0000001/queue").json().at("queue").empty());
    const auto queued = api.write("POST", "/api/devices/70b3d57ed0000001/queue", R"({"f_port": 2, "hex": "0102"})");
    INFO(queued.body);
    REQUIRE(queued.status == 201);
    const Json queue = api.get("/api/devices/70b3d57ed0000001/queue").json().at("queue");
    REQUIRE(queue.size() == 1);
    CHECK(queue[0].at("data") == "0102");
    CHECK(queue[0].at("f_port") == 2);
    CHECK(api.write("DELETE", "/api/devices/70b3d57ed0000001/queue", "").json().at("removed") == 1);

    CHECK(api.write("DELETE", "/api/devices/70b3d57ed0000001", "").status == 204);
    CHECK(api.get("/api/devices/70b3d57ed0000001").status == 404);
}

TEST_CASE("CSV import over the API: broken rows are reported by line and column, the good rows are imported, and "
          "importing the same file again changes nothing",
          "[api][integration]") {
    ApiServer api;
    REQUIRE(api.write("POST", "/api/device-profiles", abp_profile).status == 201);
    const std::string header = "dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,"
                               "spot,latitude,longitude,tags\n";
    const std::string keys = "2b7e151628aed2a6abf7158809cf4f3c,3c4fcf098815f7aba6d2ae2816157e2b";
    const std::string csv = header +                                                                      // line 1
                            "70b3d57ed0000011,P-1,parking,parking-abp,,,26011f11," + keys + ",mitte,1,51.25,7.15,\n" +  // 2
                            "70b3d57ed00000zz,P-2,parking,parking-abp,,,26011f12," + keys + ",mitte,2,,,\n" +  // 3: EUI
                            "70b3d57ed0000013,P-3,parking,parking-abp,,,26011f13," + keys + ",mitte,3,,,\n" +  // 4
                            "70b3d57ed0000014,P-4,parking,parking-abp,,,26011f14," + keys + ",mitte,4,95.5,7.15,\n" +  // 5
                            "70b3d57ed0000015,P-5,parking,no-profile,,,26011f15," + keys + ",mitte,5,,,\n";  // 6

    const auto first = api.write("POST", "/api/devices/import", csv);
    INFO(first.body);
    REQUIRE(first.status == 422);
    const Json result = first.json();
    CHECK(result.at("rows") == 5);
    CHECK(result.at("added") == 2);
    CHECK(result.at("refused") == 3);
    const Json& errors = result.at("errors");
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].at("line") == 3);
    CHECK(errors[0].at("column") == "dev_eui");
    CHECK(errors[1].at("line") == 5);
    CHECK(errors[1].at("column") == "latitude");
    CHECK(errors[2].at("line") == 6);
    CHECK(errors[2].at("column") == "profile");
    Json devices = api.get("/api/devices").json().at("devices");
    REQUIRE(devices.size() == 2);
    CHECK(devices[0].at("dev_eui") == "70b3d57ed0000011");
    CHECK(devices[1].at("dev_eui") == "70b3d57ed0000013");

    const Json again = api.write("POST", "/api/devices/import", csv).json();
    CHECK(again.at("added") == 0);
    CHECK(again.at("updated") == 0);
    CHECK(again.at("unchanged") == 2);
    CHECK(api.get("/api/devices").json().at("devices") == devices);

    // All or nothing: one broken row keeps every row out.
    const std::string mixed = header + "70b3d57ed0000021,P-21,parking,parking-abp,,,26011f21," + keys + ",mitte,21,,,\n" +
                              "70b3d57ed0000022,P-22,parking,parking-abp,,,26011f22,00," + "3c4fcf098815f7aba6d2ae2816157e2b" +
                              ",mitte,22,,,\n";
    const auto atomic = api.write("POST", "/api/devices/import?all_or_nothing=true", mixed);
    CHECK(atomic.status == 422);
    CHECK(atomic.json().at("committed") == false);
    CHECK(api.get("/api/devices").json().at("devices").size() == 2);

    // Not a device CSV at all.
    const auto not_csv = api.write("POST", "/api/devices/import", "name;zone\nx;y\n");
    CHECK(not_csv.status == 400);
    CHECK(api.write("POST", "/api/devices/import", csv, "").status == 401);

    // The export is the import's format, without keys.
    const auto exported = api.get("/api/devices/export");
    REQUIRE(exported.status == 200);
    CHECK(exported.header("content-type").starts_with("text/csv"));
    // The documented columns (app/device_csv.hpp), altitude included.
    CHECK(exported.body.starts_with("dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,"
                                    "zone,spot,latitude,longitude,altitude,tags\n"));
    CHECK(exported.body.find("2b7e151628aed2a6abf7158809cf4f3c") == std::string::npos);
    CHECK(exported.body.find("70b3d57ed0000013,P-3,parking,parking-abp") != std::string::npos);
    // Imported again, the export changes nothing (the keys it leaves out are kept).
    const auto round_trip = api.write("POST", "/api/devices/import", exported.body);
    INFO(round_trip.body);
    REQUIRE(round_trip.status == 200);
    CHECK(round_trip.json().at("unchanged") == 2);
}

namespace {

/// A live stream (`GET /api/stream`) read on a connection of its own.
class StreamReader {
public:
    explicit StreamReader(std::uint16_t port) : socket_(io_) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        timeval tv{0, 100'000};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const std::string request = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
        asio::write(socket_, asio::buffer(request));
    }
    /// Reads until `text` has arrived or `timeout` passed; everything read so far stays in `received`.
    bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (received.find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            char buf[4096];
            boost::system::error_code ec;
            const auto n = socket_.read_some(asio::buffer(buf), ec);
            received.append(buf, n);
            if (ec && ec != asio::error::would_block && ec != asio::error::try_again &&
                ec.value() != EAGAIN) {
                return received.find(text) != std::string::npos;
            }
        }
        return true;
    }
    std::string received;

private:
    asio::io_context io_;
    asio::ip::tcp::socket socket_;
};

}  // namespace

TEST_CASE("what traffic stored is served: parking counts, readings and their per-interval statistics, device "
          "state, uplinks, the live stream and /metrics",
          "[api][integration]") {
    ApiServer api;
    REQUIRE(api.write("POST", "/api/device-profiles", abp_profile).status == 201);
    const std::string nwk = "2b7e151628aed2a6abf7158809cf4f3c";
    const std::string app = "3c4fcf098815f7aba6d2ae2816157e2b";
    const auto add = [&](const std::string& eui, const std::string& addr, const std::string& spot) {
        const auto r = api.write("POST", "/api/devices",
                                 R"({"dev_eui": ")" + eui + R"(", "name": "P-)" + spot +
                                     R"(", "profile": "parking-abp", "application": "parking", "dev_addr": ")" + addr +
                                     R"(", "nwk_s_key": ")" + nwk + R"(", "app_s_key": ")" + app +
                                     R"(", "zone": "mitte", "spot": ")" + spot + R"("})");
        INFO(r.body);
        REQUIRE(r.status == 201);
    };
    add("70b3d57ed0000031", "26011f31", "2");
    add("70b3d57ed0000032", "26011f32", "10");
    CHECK(api.get("/api/parking/zones").json().at("zones").empty());

    StreamReader stream(api.port);
    REQUIRE(stream.wait_for("\r\n\r\n", 5s));
    CHECK(stream.received.starts_with("HTTP/1.1 200"));
    CHECK(stream.received.find("text/event-stream") != std::string::npos);

    sim::SimulatedGateway gateway(api.test_io.io, gateway_eui, {asio::ip::make_address("127.0.0.1"), api.udp_port});
    REQUIRE(wait_for_server(api.test_io.io, gateway));
    lorawan::SessionCrypto crypto(*lorawan::NwkSKey::from_hex(nwk), *lorawan::AppSKey::from_hex(app));
    // NPS405 (shared vectors, codec-examples/nwave-nps405.json): port 1 "95" is a parking status "occupied"; port
    // 2 "00d3d800590b" a heartbeat "free".
    const auto occupied = *lorawan::from_hex("95");
    const auto free_heartbeat = *lorawan::from_hex("00d3d800590b");
    std::uint32_t tmst = 1'000'000;
    const auto send = [&](const std::string& addr, std::uint32_t f_cnt, std::uint8_t port, const lorawan::Bytes& data,
                          int rssi) {
        gateway.push({packet(data_uplink(crypto, *lorawan::DevAddr::from_hex(addr), f_cnt, port, data), tmst += 100'000,
                             rssi, 7.5)});
    };
    send("26011f31", 1, 1, occupied, -90);
    send("26011f32", 1, 2, free_heartbeat, -70);
    REQUIRE(wait_until(
        api.test_io.io, [&] { return api.get("/api/uplinks").json().at("uplinks").size() == 2; }, 10s));
    send("26011f31", 2, 2, free_heartbeat, -95);
    REQUIRE(wait_until(
        api.test_io.io, [&] { return api.get("/api/uplinks").json().at("uplinks").size() == 3; }, 10s));

    // The stream told of each uplink.
    CHECK(stream.wait_for("\"f_cnt\":2", 5s));
    std::size_t events = 0;
    for (std::size_t pos = 0; (pos = stream.received.find("data: ", pos)) != std::string::npos; ++pos) ++events;
    CHECK(events == 3);
    CHECK(stream.received.find("\"device_name\":\"P-10\"") != std::string::npos);

    // Parking: spot 2 was occupied, then free; spot 10 free.
    const Json zones = api.get("/api/parking/zones").json().at("zones");
    REQUIRE(zones.size() == 1);
    CHECK(zones[0].at("zone") == "mitte");
    CHECK(zones[0].at("free") == 2);
    CHECK(zones[0].at("occupied") == 0);
    CHECK(zones[0].at("total") == 2);
    const Json zone = api.get("/api/parking/zones/mitte").json();
    REQUIRE(zone.at("spots").size() == 2);
    CHECK(zone.at("spots")[0].at("spot") == "2");  // numeric order: 2 before 10
    CHECK(zone.at("spots")[1].at("spot") == "10");
    CHECK(api.get("/api/parking/zones/nowhere").status == 404);

    // Readings of occupancy for spot 2: 1 then 0.
    const Json points =
        api.get("/api/readings?dev_eui=70b3d57ed0000031&quantity=occupancy").json().at("points");
    REQUIRE(points.size() == 2);
    CHECK(points[0].at("value") == 1.0);
    CHECK(points[1].at("value") == 0.0);
    const Json buckets =
        api.get("/api/readings?dev_eui=70b3d57ed0000031&quantity=occupancy&interval=86400").json().at("buckets");
    REQUIRE(buckets.size() == 1);
    CHECK(buckets[0].at("count") == 2);
    CHECK(buckets[0].at("min") == 0.0);
    CHECK(buckets[0].at("max") == 1.0);
    CHECK(buckets[0].at("mean") == 0.5);
    CHECK(buckets[0].at("start").get<std::string>().ends_with("T00:00:00.000Z"));
    CHECK(api.get("/api/readings?quantity=occupancy&to=2000-01-01T00:00:00Z").json().at("points").empty());

    // Device state: the latest uplink of each.
    const Json states = api.get("/api/devices/status").json().at("devices");
    REQUIRE(states.size() == 2);
    CHECK(states[0].at("dev_eui") == "70b3d57ed0000031");
    CHECK(states[0].at("f_cnt") == 2);
    CHECK(states[0].at("rssi") == -95.0);
    CHECK(states[0].at("snr") == 7.5);
    CHECK(states[0].at("uplinks") == 2);
    CHECK(states[0].at("codec_errors") == 0);
    CHECK(states[1].at("f_cnt") == 1);
    CHECK(states[1].at("rssi") == -70.0);

    const Json uplinks = api.get("/api/uplinks?dev_eui=70b3d57ed0000031").json().at("uplinks");
    REQUIRE(uplinks.size() == 2);
    CHECK(uplinks[0].at("f_cnt") == 2);  // newest first
    CHECK(uplinks[0].at("device_name") == "P-2");
    CHECK(uplinks[0].at("object").at("type") == "heartbeat");
    CHECK(uplinks[1].at("object").at("occupied") == true);

    // Gateway activity reaches the store at the bridge's flush interval (1 s here).
    Json gateways;
    REQUIRE(wait_until(
        api.test_io.io,
        [&] {
            gateways = api.get("/api/gateways").json().at("gateways");
            return !gateways.empty();
        },
        10s));
    REQUIRE(gateways.size() == 1);
    CHECK(gateways[0].at("gateway_id") == gateway_eui.to_string());

    const auto metrics = api.get("/metrics").body;
    CHECK(metrics.find("# TYPE") != std::string::npos);
    const std::regex uplinks_total(R"(schwebe_ns_uplinks_total(\{[^}]*\})? (\d+))");
    std::smatch m;
    REQUIRE(std::regex_search(metrics, m, uplinks_total));
    CHECK(std::stoi(m[2].str()) == 3);
    // Per gateway: the three frames came through the one gateway.
    const std::regex per_gateway("schwebe_gateway_uplinks_total\\{gateway_id=\"" + gateway_eui.to_string() +
                                 "\"\\} (\\d+)");
    REQUIRE(std::regex_search(metrics, m, per_gateway));
    CHECK(std::stoi(m[1].str()) == 3);

    // A graceful stop ends the open stream and the server exits 0.
    CHECK(api.serve->terminate() == 0);
    api.serve.reset();
}

TEST_CASE("every path of the OpenAPI document is routed, and the dashboard is served from the binary",
          "[api][integration]") {
    ApiServer api;
    const auto doc = api.get("/api/openapi.json");
    REQUIRE(doc.status == 200);
    const Json openapi = doc.json();
    CHECK(openapi.at("openapi").get<std::string>().starts_with("3."));
    const Json& paths = openapi.at("paths");
    REQUIRE(paths.size() >= 20);
    const std::map<std::string, std::string> example{{"{dev_eui}", "70b3d57ed0000041"},
                                                     {"{gateway_id}", "0016c001f153a14d"},
                                                     {"{zone}", "mitte"},
                                                     {"{id}", "x"},
                                                     {"{name}", "x"},
                                                     {"{id_or_name}", "x"},
                                                     {"{application}", "parking"},
                                                     {"{profile}", "parking-abp"},
                                                     {"{token}", "x"}};
    for (const auto& [path, item] : paths.items()) {
        std::string target = path;
        for (const auto& [placeholder, value] : example) {
            for (auto at = target.find(placeholder); at != std::string::npos; at = target.find(placeholder)) {
                target.replace(at, placeholder.size(), value);
            }
        }
        REQUIRE(target.find('{') == std::string::npos);
        for (const auto& [method, operation] : item.items()) {
            if (method == "parameters") continue;
            std::string upper = method;
            for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (target == "/api/stream") continue;  // never ends: the stream test reads it
            const auto r = http(api.port, upper, target, upper == "GET" ? "" : "{}");
            INFO(upper << " " << target << " -> " << r.status << " " << r.body.substr(0, 200));
            CHECK(r.status != 405);
            if (r.status == 404) CHECK(r.body.find("no such resource") == std::string::npos);
            CHECK(r.status < 500);
        }
    }

    const auto index = api.get("/");
    CHECK(index.status == 200);
    CHECK(index.header("content-type").starts_with("text/html"));
    CHECK(api.get("/no-such-page.html").status == 404);
}

TEST_CASE("the HTTP server's limits: an oversized body is 413, oversized headers 431, a malformed request 400, and "
          "the server goes on serving",
          "[api][integration]") {
    ApiServer api(4096);
    const std::string big(5000, 'x');
    CHECK(api.write("POST", "/api/applications", big).status == 413);
    const std::string long_header = "X-Filler: " + std::string(64 * 1024, 'y');
    CHECK(http(api.port, "GET", "/api/health", "", {long_header}).status == 431);
    CHECK(http_raw(api.port, "THIS IS NOT HTTP\r\n\r\n").status == 400);
    CHECK(http(api.port, "GET", "/api/devices/%zz").status == 400);
    const auto health = api.get("/api/health");
    CHECK(health.status == 200);
    CHECK(health.json().at("status") == "ok");
}
