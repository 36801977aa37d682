// Capture and replay end to end (README, "Capture and replay"; gateway-bridge/capture.hpp, sim/replay.hpp):
// `schwebe serve` with bridge.capture_file records every datagram it reads, byte for byte and before parsing it,
// the malformed ones too; `schwebe replay` sends a capture to a fresh server, which then stores and publishes the
// same uplinks as the first one did. The datagrams are built here, so that the test knows every byte it sent;
// the decoded values are worked out by hand from the payloads, never taken from the server's output.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "app/serve_process_support.hpp"
#include "app/serve_test_support.hpp"
#include "common/base64.hpp"
#include "common/gateway_json.hpp"
#include "gateway-bridge/capture.hpp"
#include "lorawan/session.hpp"
#include "network-server/ns_fixture.hpp"
#include "support/mosquitto.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

using namespace schwebe;
using namespace schwebe::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using Json = nlohmann::json;

namespace {

const auto gateway_eui = *lorawan::Eui64::from_hex("0016c001f153a14c");
constexpr const char* application_name = "city";

std::string endpoint_text(const asio::ip::udp::endpoint& e) {
    return e.address().to_string() + ":" + std::to_string(e.port());
}

/// The capture file's records (every line after the header must parse), in file order.
std::vector<bridge::CaptureRecord> read_records(const std::filesystem::path& path) {
    const std::string text = read_text(path);
    REQUIRE_FALSE(text.empty());
    CHECK(text.back() == '\n');  // complete lines only
    const auto lines = lines_of(text);
    REQUIRE_FALSE(lines.empty());
    const Json header = Json::parse(lines[0], nullptr, false);
    INFO("header line: " << lines[0]);
    REQUIRE(header.is_object());
    CHECK(header.at("schwebe_capture") == 1);
    CHECK(common::parse_rfc3339(header.at("started").get<std::string>()).has_value());
    const auto parsed_header = bridge::parse_capture_line(lines[0]);
    REQUIRE(parsed_header.ok());
    CHECK_FALSE(parsed_header->has_value());
    std::vector<bridge::CaptureRecord> out;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        INFO("line " << i + 1 << ": " << lines[i]);
        auto record = bridge::parse_capture_line(lines[i]);
        REQUIRE(record.ok());
        REQUIRE(record->has_value());
        out.push_back(std::move(**record));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The traffic: two ABP devices (one without codec, one with the Elsys ERS CO2 codec), one gateway.

struct Device {
    Device(std::string dev_eui_, std::string name_, std::string profile_, std::uint32_t dev_addr_,
           std::string nwk_s_key_, std::string app_s_key_)
        : dev_eui(std::move(dev_eui_)),
          name(std::move(name_)),
          profile(std::move(profile_)),
          dev_addr(dev_addr_),
          nwk_s_key(std::move(nwk_s_key_)),
          app_s_key(std::move(app_s_key_)),
          crypto(*lorawan::NwkSKey::from_hex(nwk_s_key), *lorawan::AppSKey::from_hex(app_s_key)) {}

    std::string dev_eui;
    std::string name;
    std::string profile;
    lorawan::DevAddr dev_addr;
    std::string nwk_s_key;
    std::string app_s_key;
    lorawan::SessionCrypto crypto;
};

/// Elsys ERS CO2 records (decoders/elsys.cpp): 01 00e2 temperature 226 × 0.1 °C = 22.6; 02 29 humidity 41 %;
/// 06 01a5 CO2 421 ppm; 07 0e10 supply 3600 mV.
const lorawan::Bytes elsys_payload{0x01, 0x00, 0xe2, 0x02, 0x29, 0x06, 0x01, 0xa5, 0x07, 0x0e, 0x10};
const Json elsys_object = Json{{"temperature", 22.6}, {"humidity", 41}, {"co2", 421}, {"vdd", 3600}};
const lorawan::Bytes plain_payload_0{0xca, 0xfe, 0x00};
const lorawan::Bytes plain_payload_1{0xca, 0xfe, 0x01};

/// The same profiles and devices, with the CLI as an operator does, in the store of `config`.
void provision(const ServeConfig& config, const Device& plain, const Device& elsys) {
    schwebe_cli(config, {"profile", "add", "--name", plain.profile, "--activation", "abp", "--mac-version", "1.0.3",
                         "--adr", "off", "--dev-status-interval", "0"});
    schwebe_cli(config, {"profile", "add", "--name", elsys.profile, "--activation", "abp", "--mac-version", "1.0.3",
                         "--codec", "elsys-ers-co2", "--adr", "off", "--dev-status-interval", "0"});
    for (const Device* d : {&plain, &elsys}) {
        schwebe_cli(config, {"device", "add", "--dev-eui", d->dev_eui, "--name", d->name, "--profile", d->profile,
                             "--application", application_name, "--dev-addr", d->dev_addr.to_string(), "--nwk-s-key",
                             d->nwk_s_key, "--app-s-key", d->app_s_key});
    }
}

/// A GWMP header as the gateway sends it: version 2, token, type, its EUI.
lorawan::Bytes gwmp_header(std::uint16_t token, std::uint8_t type) {
    lorawan::Bytes out;
    out.reserve(12);
    for (const std::uint8_t b : {std::uint8_t{0x02}, static_cast<std::uint8_t>(token >> 8),
                                 static_cast<std::uint8_t>(token), type}) {
        out.push_back(b);
    }
    for (const std::uint8_t b : gateway_eui.bytes()) out.push_back(b);  // most significant byte first
    return out;
}

lorawan::Bytes push_data(std::uint16_t token, std::string_view json) {
    lorawan::Bytes out = gwmp_header(token, 0x00);
    out.insert(out.end(), json.begin(), json.end());
    return out;
}

/// One datagram the test sent, and from which of the gateway's sockets.
struct Sent {
    std::string what;
    lorawan::Bytes data;
    bool from_down_socket = false;
    bool has_gateway_id = true;
};

/// A broker, one `schwebe serve` (bridge, ns) with a capture file, and a simulated gateway (its two sockets) in
/// front of it; a second server in a directory of its own for the replay.
struct CaptureFixture {
    CaptureFixture()
        : config(write_config(dir, free_udp_port(), broker.uri())),
          gateway(test_io.io, gateway_eui, {asio::ip::make_address("127.0.0.1"), config.udp_port}) {}

    /// `schwebe serve` on `c`, capturing to `capture`; returns once its UDP socket is bound (its log says so), so
    /// that no probe datagram has to be sent (each one would be captured).
    std::optional<ServeProcess>& start(std::optional<ServeProcess>& process, const ServeConfig& c,
                                       const std::filesystem::path& capture, const std::filesystem::path& log) {
        process.emplace(std::vector<std::string>{"--config", c.path.string(), "serve", "--components", "bridge,ns"},
                        std::map<std::string, std::string>{{"SCHWEBE_LOG_LEVEL", "info"},
                                                           {"SCHWEBE_BRIDGE_CAPTURE_FILE", capture.string()}},
                        log);
        const bool listening = wait_until(
            test_io.io, [&] { return process->output().find("gateway bridge listening") != std::string::npos; }, 10s);
        INFO("schwebe's output:\n" << process->output());
        REQUIRE(listening);
        return process;
    }

    /// Waits for `done` on the test's io_context; on a timeout the server's output goes with the failure.
    template <class Pred>
    bool wait_for(const std::optional<ServeProcess>& process, Pred done, std::chrono::milliseconds timeout = 10s) {
        if (wait_until(test_io.io, done, timeout)) return true;
        UNSCOPED_INFO("schwebe's output:\n" << (process ? process->output() : std::string("(not started)")));
        return false;
    }

    /// The traffic of these tests through the first server, each datagram once its predecessor was handled (an
    /// acknowledgement where the protocol has one), so that the order of arrival is the order sent: PULL_DATA;
    /// PUSH_DATA with two uplinks (plain fCnt 0, Elsys fCnt 0); PUSH_DATA with one (plain fCnt 1); 2 bytes that are
    /// no GWMP at all; PUSH_DATA whose JSON is cut short. Returns once the three uplinks are stored and published.
    void record_traffic() {
        provision(config, plain, elsys);
        store.emplace(config.db_path);
        start(first, config, capture, dir.path() / "schwebe.log");

        auto rx = [&](Device& d, std::uint32_t f_cnt, std::uint8_t f_port, const lorawan::Bytes& payload) {
            return packet(data_uplink(d.crypto, d.dev_addr, f_cnt, f_port, payload), tmst += 100'000).to_json();
        };
        sent = {
            {"PULL_DATA", gwmp_header(0x2001, 0x02), true},
            {"PUSH_DATA plain 0 + elsys 0",
             push_data(0x2002,
                       Json{{"rxpk", Json::array({rx(plain, 0, 1, plain_payload_0), rx(elsys, 0, 5, elsys_payload)})}}
                           .dump())},
            {"PUSH_DATA plain 1",
             push_data(0x2003, Json{{"rxpk", Json::array({rx(plain, 1, 1, plain_payload_1)})}}.dump())},
            {"2 bytes", {0x02, 0x20}, false, false},
            {"PUSH_DATA broken JSON", push_data(0x2004, R"({"rxpk":[{"tmst":1234,"data":"QAEQ)")},
        };
        for (const Sent& s : sent) {
            INFO("sending " << s.what);
            const auto push_acks = gateway.push_acks.size();
            const auto pull_acks = gateway.pull_acks.size();
            gateway.send_raw(s.data, s.from_down_socket);
            if (s.data.size() < 12) continue;  // no acknowledgement: the next datagram follows it on loopback
            if (s.from_down_socket) {
                REQUIRE(wait_for(first, [&] { return gateway.pull_acks.size() == pull_acks + 1; }));
            } else {
                REQUIRE(wait_for(first, [&] { return gateway.push_acks.size() == push_acks + 1; }));
            }
        }
        CHECK(gateway.acks_on_wrong_socket == 0);
        CHECK(gateway.downlinks.empty());
        REQUIRE(wait_for(first, [&] {
            return store->count("SELECT count(*) FROM uplinks") == 3 && store->outbox_depth() == 0;
        }));
    }

    /// (dev_eui, f_cnt, data as hex) of every uplinks row, sorted.
    static std::vector<std::tuple<std::string, std::int64_t, std::string>> uplink_rows(StoreReader& s) {
        auto q = s.prepare("SELECT dev_eui, f_cnt, data FROM uplinks ORDER BY dev_eui, f_cnt");
        std::vector<std::tuple<std::string, std::int64_t, std::string>> out;
        while (q.step()) out.emplace_back(q.column_text(0), q.column_int64(1), lorawan::to_hex(q.column_blob(2)));
        return out;
    }

    /// The decoded object of the Elsys uplink in the store.
    Json elsys_stored_object(StoreReader& s) {
        auto q = s.prepare("SELECT object FROM uplinks WHERE dev_eui = ?1 AND f_cnt = 0");
        q.bind_text(1, elsys.dev_eui);
        REQUIRE(q.step());
        REQUIRE_FALSE(q.column_is_null(0));
        const Json object = Json::parse(q.column_text(0));
        REQUIRE_FALSE(q.step());
        q.reset();
        return object;
    }

    TempDir dir;
    Mosquitto broker;  // running from here on
    ServeConfig config;
    TestIo test_io;
    sim::SimulatedGateway gateway;
    Device plain{"70b3d57ed00ca001", "capture-plain-01", "capture-plain", 0x260ca001U,
                 "2b7e151628aed2a6abf7158809cf4f3c", "000102030405060708090a0b0c0d0e0f"};
    Device elsys{"70b3d57ed00ca002", "capture-elsys-01", "capture-elsys", 0x260ca002U,
                 "3c4fcf098815f7aba6d2ae2816157e2b", "0f0e0d0c0b0a09080706050403020100"};
    std::filesystem::path capture = dir.path() / "capture.jsonl";
    std::vector<Sent> sent;
    std::optional<StoreReader> store;
    std::optional<ServeProcess> first;
    std::uint32_t tmst = 1'000'000;
};

/// Records for the capture files written by hand: `count` datagrams, `spacing` apart from `t0`, alternately from
/// two senders, each with bytes of its own.
std::vector<bridge::CaptureRecord> synthesized_records(std::size_t count, std::chrono::milliseconds spacing) {
    const auto t0 = *common::parse_rfc3339("2026-11-21T14:00:00Z");
    std::vector<bridge::CaptureRecord> out;
    for (std::size_t i = 0; i < count; ++i) {
        const bool push = i % 2 == 1;
        lorawan::Bytes data = push ? push_data(static_cast<std::uint16_t>(0x3000 + i), R"({"stat":{}})")
                                   : gwmp_header(static_cast<std::uint16_t>(0x3000 + i), 0x02);
        data.push_back(static_cast<std::uint8_t>(i));  // every datagram differs
        out.push_back(bridge::CaptureRecord{.time = t0 + spacing * static_cast<int>(i),
                                            .gateway_id = gateway_eui,
                                            .from = push ? "10.0.0.7:40001" : "10.0.0.7:40002",
                                            .data = std::move(data)});
    }
    return out;
}

/// A UDP socket of the test's own in place of a server: it answers nothing and keeps what it receives.
struct Receiver {
    Receiver() : socket(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        socket.non_blocking(true);
    }
    [[nodiscard]] std::string address() const { return endpoint_text(socket.local_endpoint()); }
    /// Every datagram waiting in the socket, in order of arrival.
    std::vector<lorawan::Bytes> drain() {
        std::vector<lorawan::Bytes> out;
        std::array<std::uint8_t, 65536> buffer{};
        for (;;) {
            boost::system::error_code ec;
            asio::ip::udp::endpoint from;
            const std::size_t n = socket.receive_from(asio::buffer(buffer), from, 0, ec);
            if (ec) break;
            out.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
        }
        return out;
    }
    asio::io_context io;
    asio::ip::udp::socket socket;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("serve with a capture file records every datagram received, byte for byte, malformed ones too",
          "[capture][integration]") {
    CaptureFixture f;
    const auto test_start = std::chrono::system_clock::now();
    f.record_traffic();
    // The codec ran: the object worked out by hand from the Elsys records.
    CHECK(f.elsys_stored_object(*f.store) == elsys_object);
    CHECK(f.first->terminate() == 0);
    const auto test_end = std::chrono::system_clock::now();

    const std::vector<bridge::CaptureRecord> records = read_records(f.capture);
    REQUIRE(records.size() == f.sent.size());
    // The gateway's sockets are bound to the wildcard address; the server sees them on loopback.
    const std::string up_from = "127.0.0.1:" + std::to_string(f.gateway.up_endpoint().port());
    const std::string down_from = "127.0.0.1:" + std::to_string(f.gateway.down_endpoint().port());
    for (std::size_t i = 0; i < records.size(); ++i) {
        const bridge::CaptureRecord& r = records[i];
        const Sent& s = f.sent[i];
        INFO("record " << i << ": " << s.what << ", " << bridge::capture_line(r));
        CHECK(lorawan::to_hex(r.data) == lorawan::to_hex(s.data));
        if (s.has_gateway_id) {
            REQUIRE(r.gateway_id.has_value());
            CHECK(*r.gateway_id == gateway_eui);
        } else {
            CHECK_FALSE(r.gateway_id.has_value());
        }
        CHECK(r.from == (s.from_down_socket ? down_from : up_from));
        CHECK(r.time >= std::chrono::time_point_cast<std::chrono::seconds>(test_start));
        CHECK(r.time <= test_end);
        if (i > 0) CHECK(r.time >= records[i - 1].time);
    }
    // PULL_DATA and PUSH_DATA came from the gateway's two sockets.
    CHECK(records[0].from != records[1].from);

    // The null of the 2-byte datagram is written as JSON null.
    const auto lines = lines_of(read_text(f.capture));
    REQUIRE(lines.size() == 1 + f.sent.size());
    const Json short_line = Json::parse(lines[4]);
    CHECK(short_line.at("gateway_id").is_null());
    CHECK(short_line.at("data") == "AiA=");  // base64 of 02 20
}

TEST_CASE("schwebe replay of a capture into a fresh server stores and publishes the same uplinks",
          "[capture][integration]") {
    CaptureFixture f;
    f.record_traffic();
    CHECK(f.first->terminate() == 0);
    const std::vector<bridge::CaptureRecord> records = read_records(f.capture);
    REQUIRE(records.size() == f.sent.size());

    // The second server: a store of its own, the same provisioning, the same broker; a capture of its own too.
    TempDir dir2;
    const ServeConfig config2 = write_config(dir2, free_udp_port(), f.broker.uri());
    provision(config2, f.plain, f.elsys);
    StoreReader store2(config2.db_path);
    const std::string application_id = store2.application_id(application_name);
    Observer observer(f.test_io.io, f.broker.uri(), {"application/+/device/+/event/up"});
    REQUIRE(wait_until(
        f.test_io.io, [&] { return observer.subscribed(); }, 10s));
    std::optional<ServeProcess> second;
    const auto capture2 = dir2.path() / "capture.jsonl";
    f.start(second, config2, capture2, dir2.path() / "schwebe.log");

    const ReplayRun run = run_replay(dir2, {f.capture.string(), "--server", "127.0.0.1:" + std::to_string(config2.udp_port),
                                            "--speed", "0", "--linger-ms", "1000"});
    INFO("replay stdout: " << run.out << "\nstderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.err.empty());
    const Json summary = run.summary();
    // What a server answers: every PUSH_DATA is acknowledged before its JSON is read (the broken one too), every
    // PULL_DATA too; the 2-byte datagram gets nothing.
    const auto of_type = [&](std::uint8_t type) {
        return std::count_if(records.begin(), records.end(),
                             [&](const auto& r) { return r.data.size() >= 12 && r.data[3] == type; });
    };
    REQUIRE(of_type(0x00) == 3);
    CHECK(summary.at("records") == records.size());
    CHECK(summary.at("malformed_lines") == 0);
    CHECK(summary.at("datagrams_sent") == records.size());
    CHECK(summary.at("tx_acks_skipped") == 0);
    CHECK(summary.at("senders") == 2);  // the gateway's two sockets
    CHECK(summary.at("push_acks") == of_type(0x00));
    CHECK(summary.at("pull_acks") == 1);
    CHECK(summary.at("pull_resps") == 0);
    CHECK(summary.at("tx_acks_sent") == 0);

    // Each up event once, in FCnt order per device.
    const std::string plain_topic = up_topic(application_id, f.plain.dev_eui);
    const std::string elsys_topic = up_topic(application_id, f.elsys.dev_eui);
    REQUIRE(f.wait_for(second, [&] {
        return observer.messages.size() >= 3 && store2.count("SELECT count(*) FROM uplinks") == 3 &&
               store2.outbox_depth() == 0;
    }));
    CHECK(observer.messages.size() == 3);
    std::vector<std::uint32_t> plain_f_cnts;
    for (const mqtt::Message* m : observer.on(plain_topic)) plain_f_cnts.push_back(json_of(*m).at("fCnt").get<std::uint32_t>());
    CHECK(plain_f_cnts == std::vector<std::uint32_t>{0, 1});
    REQUIRE(observer.on(elsys_topic).size() == 1);
    const Json elsys_up = json_of(*observer.on(elsys_topic)[0]);
    INFO("Elsys up event: " << elsys_up.dump());
    CHECK(elsys_up.at("fCnt") == 0);
    CHECK(elsys_up.at("fPort") == 5);
    CHECK(elsys_up.at("data") == common::base64_encode(elsys_payload));
    CHECK(elsys_up.at("object") == elsys_object);
    CHECK(elsys_up.at("rxInfo").at(0).at("gatewayId") == gateway_eui.to_string());
    CHECK(json_of(*observer.on(plain_topic)[1]).at("data") == common::base64_encode(plain_payload_1));

    // The same rows as the first server's, and the object worked out by hand.
    const auto rows2 = CaptureFixture::uplink_rows(store2);
    CHECK(rows2 == CaptureFixture::uplink_rows(*f.store));
    using Row = std::tuple<std::string, std::int64_t, std::string>;
    CHECK(rows2 == std::vector<Row>{{f.plain.dev_eui, 0, lorawan::to_hex(plain_payload_0)},
                                    {f.plain.dev_eui, 1, lorawan::to_hex(plain_payload_1)},
                                    {f.elsys.dev_eui, 0, lorawan::to_hex(elsys_payload)}});
    CHECK(f.elsys_stored_object(store2) == elsys_object);
    CHECK(second->terminate() == 0);

    // The second server received the very same bytes, PUSH_DATA and PULL_DATA again from two sockets.
    const std::vector<bridge::CaptureRecord> replayed = read_records(capture2);
    REQUIRE(replayed.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        INFO("record " << i);
        CHECK(replayed[i].data == records[i].data);
        CHECK(replayed[i].gateway_id == records[i].gateway_id);
        CHECK(replayed[i].from != records[i].from);  // the replay's sockets, not the gateway's
    }
    CHECK(replayed[0].from != replayed[1].from);
    CHECK(replayed[1].from == replayed[2].from);
}

TEST_CASE("schwebe replay skips a damaged line and a truncated last line, names them, and sends the rest",
          "[capture][integration]") {
    TempDir dir;
    const auto records = synthesized_records(4, 100ms);
    const auto path = dir.path() / "damaged.jsonl";
    {
        const std::string damaged_source = bridge::capture_line(records[1]);
        // Two writers' lines run into each other: the first half of one, the second half of another.
        const std::string damaged = damaged_source.substr(0, damaged_source.size() / 2) +
                                    damaged_source.substr(damaged_source.size() / 3);
        REQUIRE_FALSE(bridge::parse_capture_line(damaged).ok());
        const std::string last = bridge::capture_line(records[0]);
        const std::string truncated = last.substr(0, last.find("\"data\":\"") + 12);  // in the middle of data
        REQUIRE_FALSE(bridge::parse_capture_line(truncated).ok());
        std::ofstream out(path, std::ios::binary);
        out << R"({"schwebe_capture":1,"started":"2026-11-21T14:00:00.000000Z"})" << '\n'  // line 1
            << bridge::capture_line(records[0]) << '\n'                                     // line 2
            << bridge::capture_line(records[1]) << '\n'                                     // line 3
            << damaged << '\n'                                                              // line 4
            << bridge::capture_line(records[2]) << '\n'                                     // line 5
            << bridge::capture_line(records[3]) << '\n'                                     // line 6
            << truncated;                                                                   // line 7, no newline
        out.close();
        REQUIRE(out.good());
    }

    Receiver receiver;
    const ReplayRun run =
        run_replay(dir, {path.string(), "--server", receiver.address(), "--speed", "0", "--linger-ms", "0"});
    INFO("replay stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.exit_code == 0);
    const Json summary = run.summary();
    CHECK(summary.at("records") == 4);
    CHECK(summary.at("malformed_lines") == 2);
    CHECK(summary.at("datagrams_sent") == 4);
    CHECK(summary.at("senders") == 2);
    CHECK(summary.at("push_acks") == 0);  // nobody answers here
    CHECK(summary.at("pull_acks") == 0);

    // One line on stderr per damaged line, naming its number.
    const auto err_lines = lines_of(run.err);
    REQUIRE(err_lines.size() == 2);
    CHECK_THAT(err_lines[0], Catch::Contains("line 4:"));
    CHECK_THAT(err_lines[1], Catch::Contains("line 7:"));
    for (const auto& line : err_lines) CHECK_THAT(line, Catch::Contains(path.string()));

    // Every good record, byte for byte, in order.
    const std::vector<lorawan::Bytes> received = receiver.drain();
    REQUIRE(received.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        INFO("record " << i);
        CHECK(received[i] == records[i].data);
    }
}

TEST_CASE("schwebe replay --speed 10 plays 2 s of capture in about 0.2 s", "[capture][integration]") {
    TempDir dir;
    const auto records = synthesized_records(5, 500ms);  // 0 .. 2 s
    REQUIRE(records.back().time - records.front().time == 2s);
    const auto path = dir.path() / "timed.jsonl";
    {
        std::ofstream out(path, std::ios::binary);
        out << R"({"schwebe_capture":1,"started":"2026-11-21T14:00:00.000000Z"})" << '\n';
        for (const auto& r : records) out << bridge::capture_line(r) << '\n';
        out.close();
        REQUIRE(out.good());
    }

    Receiver receiver;
    const ReplayRun run =
        run_replay(dir, {path.string(), "--server", receiver.address(), "--speed", "10", "--linger-ms", "0"});
    INFO("replay stdout: " << run.out << "\nstderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.summary().at("datagrams_sent") == records.size());
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(run.wall).count();
    INFO("wall time " << wall_ms << " ms");
    // 2 s at ten times the speed: 200 ms of pauses, plus the start of a process. Loose bounds for a loaded machine.
    CHECK(wall_ms >= 150);
    CHECK(wall_ms <= 1500);
    CHECK(receiver.drain().size() == records.size());
}
