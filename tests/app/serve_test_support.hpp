#pragma once
// What the tests of `schwebe serve` seen from the application side share (serve_application_test.cpp,
// serve_js_codec_test.cpp): the test's io_context and waiting on it, the configuration file, provisioning with the
// CLI, an MQTT observer, and a read connection of the test's own on the server's SQLite file.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/sqlite/database.hpp"
#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

namespace schwebe::test {

/// The io_context of the test side (simulated gateway, MQTT observers), kept busy by a work guard so that a wait
/// blocks on it instead of spinning when nothing is pending.
struct TestIo {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
};

/// Runs `io` until `done()` holds, checking it at least every 20 ms (also when no handler ran: SQLite is read from
/// outside the io_context); false when `timeout` passes first. A deadline, never a guess at how long things take.
template <class Pred>
bool wait_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        io.run_for(std::chrono::milliseconds{20});
        if (io.stopped()) io.restart();
    }
    return true;
}

/// `schwebe serve` reads this file (`--config`), and so do the provisioning commands.
struct ServeConfig {
    std::filesystem::path path;
    std::filesystem::path db_path;
    std::uint16_t udp_port = 0;
};

inline ServeConfig write_config(const TempDir& dir, std::uint16_t udp_port, const std::string& mqtt_uri) {
    ServeConfig c{dir.path() / "schwebe.toml", dir.db_path(), udp_port};
    std::ofstream out(c.path);
    out << "[storage]\n"
        << "sqlite_path = \"" << c.db_path.string() << "\"\n"
        << "retention_days = 0\n"
        << "[bridge]\n"
        << "udp_bind = \"127.0.0.1:" << udp_port << "\"\n"
        << "[mqtt]\n"
        << "enabled = true\n"
        << "server = \"" << mqtt_uri << "\"\n"
        << "qos = 1\n"
        << "client_id = \"schwebe-under-test\"\n"
        << "city_topic_prefix = \"city\"\n"
        << "reconnect_max_s = 1\n"  // back within a second of the broker's return
        << "[parking]\n"
        << "unknown_after_s = 86400\n"
        << "[network_server]\n"
        << "dedup_window_ms = 20\n"
        << "[log]\n"
        << "level = \"warn\"\n";
    REQUIRE(out.good());
    return c;
}

/// A provisioning command (`profile add …`, `device add …`) on the configured store; it must succeed.
inline void schwebe_cli(const ServeConfig& config, std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config.path.string()});
    const CommandResult result = run_schwebe(args);
    INFO("schwebe " << Catch::Detail::stringify(args) << ":\n" << result.output);
    REQUIRE(result.exit_code == 0);
}

/// An MQTT client of the test's own, recording every message it receives in order.
class Observer {
public:
    Observer(boost::asio::io_context& io, const std::string& uri, const std::vector<std::string>& filters,
             std::string client_id = {}, bool persistent_session = false)
        : client_(io, options(uri, std::move(client_id), persistent_session)), filters_(filters.size()) {
        for (const auto& filter : filters) {
            client_.subscribe(
                filter, 1, [this](const mqtt::Message& m) { messages.push_back(m); },
                [this](bool ok) {
                    if (ok) ++subscribed_;
                });
        }
        client_.start();
    }
    ~Observer() { client_.stop(); }

    /// True once the broker has acknowledged every subscription (SUBACK).
    [[nodiscard]] bool subscribed() const { return subscribed_ == filters_; }

    [[nodiscard]] std::vector<const mqtt::Message*> on(const std::string& topic) const {
        std::vector<const mqtt::Message*> out;
        for (const auto& m : messages) {
            if (m.topic == topic) out.push_back(&m);
        }
        return out;
    }
    [[nodiscard]] const mqtt::Message* last_on(const std::string& topic) const {
        const auto all = on(topic);
        return all.empty() ? nullptr : all.back();
    }

    std::vector<mqtt::Message> messages;

private:
    static mqtt::Options options(const std::string& uri, std::string client_id, bool persistent_session) {
        mqtt::Options o;
        o.server_uri = uri;
        o.client_id = std::move(client_id);
        o.clean_session = !persistent_session;
        o.reconnect_min = std::chrono::seconds{1};
        o.reconnect_max = std::chrono::seconds{1};
        o.stop_timeout = std::chrono::milliseconds{500};
        return o;
    }

    mqtt::Client client_;
    std::size_t filters_;
    std::size_t subscribed_ = 0;
};

inline nlohmann::json json_of(const mqtt::Message& m) {
    const nlohmann::json j = nlohmann::json::parse(m.payload, nullptr, false);
    INFO("topic " << m.topic << " payload " << m.payload);
    REQUIRE(j.is_object());
    return j;
}

/// A read connection of the test's own on the server's SQLite file (WAL: it reads beside the server's writes).
class StoreReader {
public:
    explicit StoreReader(const std::filesystem::path& path) : db_(sqlite::Database::open(path)) {}

    std::int64_t count(const std::string& sql) { return query_int(db_, sql); }
    sqlite::Statement prepare(const std::string& sql) { return db_.prepare(sql); }

    std::string application_id(const std::string& name) {
        auto q = db_.prepare("SELECT id FROM applications WHERE name = ?1");
        q.bind_text(1, name);
        REQUIRE(q.step());
        auto id = q.column_text(0);
        q.reset();
        return id;
    }

    std::int64_t outbox_depth() { return count("SELECT count(*) FROM outbox"); }

    /// The f_cnt of every uplink row of the device, ascending.
    std::vector<std::uint32_t> uplink_f_cnts(const std::string& dev_eui) {
        auto q = db_.prepare("SELECT f_cnt FROM uplinks WHERE dev_eui = ?1 ORDER BY f_cnt");
        q.bind_text(1, dev_eui);
        std::vector<std::uint32_t> out;
        while (q.step()) out.push_back(static_cast<std::uint32_t>(q.column_int64(0)));
        return out;
    }

private:
    sqlite::Database db_;
};

inline std::string up_topic(const std::string& application_id, const std::string& dev_eui) {
    return "application/" + application_id + "/device/" + dev_eui + "/event/up";
}

inline bool is_up_event(const mqtt::Message& m) {
    return m.topic.starts_with("application/") && m.topic.ends_with("/event/up");
}

/// The `up` event of the device with this fCnt, if the observer has it.
inline const mqtt::Message* find_up(const Observer& observer, const std::string& topic, std::uint32_t f_cnt) {
    for (const mqtt::Message* m : observer.on(topic)) {
        const nlohmann::json j = nlohmann::json::parse(m->payload, nullptr, false);
        if (j.is_object() && j.value("fCnt", nlohmann::json()) == f_cnt) return m;
    }
    return nullptr;
}

}  // namespace schwebe::test
