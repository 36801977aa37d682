// The outbox publisher (integrations/mqtt/outbox_publisher.hpp) on a real SQLite outbox and a real Mosquitto:
// what waits in the store goes out first, in id order, what is offered after it follows, and each message leaves the
// store once the broker has it. Every wait runs the io_context until a condition holds; nothing sleeps for timing.

#include "integrations/mqtt/outbox_publisher.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/sqlite/app_store.hpp"
#include "integrations/sqlite/database.hpp"
#include "support/mosquitto.hpp"
#include "support/sqlite_files.hpp"

using namespace std::chrono_literals;

namespace {

struct Io {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
    template <class Done>
    bool run_until(Done done, std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io.run_one_for(20ms);
        }
        return true;
    }
};

class Store final : public schwebe::mqtt::OutboxStore {
public:
    explicit Store(schwebe::sqlite::SqliteAppStore& store) : store_(store) {}
    std::vector<schwebe::common::OutboxMessage> read_outbox(std::int64_t from, std::size_t limit) override {
        ++reads;
        return store_.read_outbox(from, limit);
    }
    void remove_outbox(std::span<const std::int64_t> ids) override { store_.remove_outbox(ids); }
    int reads = 0;

private:
    schwebe::sqlite::SqliteAppStore& store_;
};

schwebe::mqtt::Options options(const std::string& uri, const std::string& id, bool buffer) {
    schwebe::mqtt::Options o;
    o.server_uri = uri;
    o.client_id = id;
    o.stop_timeout = 1s;
    o.buffer_while_disconnected = buffer;
    return o;
}

/// Writes `count` messages numbered from `first` to the outbox in one transaction, as a commit would.
std::vector<schwebe::common::OutboxMessage> write(schwebe::sqlite::Database& db, schwebe::sqlite::SqliteAppStore& store,
                                                  int first, int count) {
    std::vector<schwebe::common::OutboxMessage> out;
    schwebe::sqlite::Transaction transaction(db);
    for (int i = first; i < first + count; ++i) {
        schwebe::common::OutboxMessage m{.id = 0,
                                         .dev_eui = "0101010101010101",
                                         .topic = "test/outbox/" + std::to_string(i % 3),
                                         .payload = std::to_string(i),
                                         .qos = 1,
                                         .retained = false};
        store.add_outbox(m, std::chrono::system_clock::now());
        out.push_back(m);
    }
    transaction.commit();
    return out;
}

}  // namespace

TEST_CASE("outbox publisher: stored messages go out first, offered ones follow, in order, once each, and leave the store",
          "[integration][mqtt][outbox]") {
    schwebe::test::Mosquitto broker;
    schwebe::test::TempDir dir;
    auto db = schwebe::sqlite::Database::open(dir.db_path());
    schwebe::sqlite::SqliteAppStore app_store(db);
    Store store(app_store);
    Io io;
    schwebe::common::Metrics metrics;

    // A subscriber first, so that it sees everything.
    schwebe::mqtt::Client subscriber(io.io, options(broker.uri(), "subscriber", true));
    std::vector<int> received;
    bool subscribed = false;
    subscriber.subscribe(
        "test/outbox/#", 1, [&](const schwebe::mqtt::Message& m) { received.push_back(std::stoi(m.payload)); },
        [&](bool ok) { subscribed = ok; });
    subscriber.start();
    REQUIRE(io.run_until([&] { return subscribed; }));

    // 1,200 messages wait in the store (a restart after an outage), more than one read and one window.
    write(db, app_store, 0, 1200);
    schwebe::mqtt::Client client(io.io, options(broker.uri(), "publisher", false));
    schwebe::mqtt::OutboxPublisher publisher(io.io, client, store, metrics, {.window = 100, .read_batch = 500});
    client.start();
    // Committed while the backlog drains: offered, but the backlog comes first.
    REQUIRE(io.run_until([&] { return publisher.stats().published > 0; }));
    publisher.offer(write(db, app_store, 1200, 300));
    // Apart, so that a failure says which: the publisher's side (acknowledged, removed) or the subscriber's.
    REQUIRE(io.run_until([&] { return app_store.outbox_depth() == 0; }));
    REQUIRE(io.run_until([&] { return received.size() >= 1500; }));
    // Caught up: now offers are published from memory, without reading the store.
    const int reads = store.reads;
    for (int batch = 0; batch < 10; ++batch) publisher.offer(write(db, app_store, 1500 + batch * 50, 50));
    REQUIRE(io.run_until([&] { return app_store.outbox_depth() == 0; }));
    REQUIRE(io.run_until([&] { return received.size() >= 2000; }));
    CHECK(store.reads == reads);

    std::vector<int> expected(2000);
    for (int i = 0; i < 2000; ++i) expected[static_cast<std::size_t>(i)] = i;
    CHECK(received == expected);
    CHECK(publisher.stats().acknowledged == 2000);
    CHECK(publisher.stats().failed == 0);
    CHECK(metrics.value("schwebe_mqtt_outbox_acknowledged_total") == 2000);
    publisher.stop();
    client.stop();
    subscriber.stop();
}

TEST_CASE("outbox publisher: nothing is removed while the broker is away, and all of it goes out when it is back",
          "[integration][mqtt][outbox]") {
    schwebe::test::Mosquitto broker{schwebe::test::Mosquitto::Deferred{}};
    schwebe::test::TempDir dir;
    auto db = schwebe::sqlite::Database::open(dir.db_path());
    schwebe::sqlite::SqliteAppStore app_store(db);
    Store store(app_store);
    Io io;
    schwebe::common::Metrics metrics;

    auto publisher_options = options(broker.uri(), "publisher", false);
    publisher_options.reconnect_max = 1s;
    schwebe::mqtt::Client client(io.io, publisher_options);
    schwebe::mqtt::OutboxPublisher publisher(io.io, client, store, metrics);
    client.start();
    publisher.offer(write(db, app_store, 0, 200));
    // The broker is down: a connection attempt fails, nothing is published or removed.
    REQUIRE(io.run_until([&] { return client.stats().connect_failures >= 1; }));
    CHECK(publisher.stats().published == 0);
    CHECK(app_store.outbox_depth() == 200);

    broker.start();
    REQUIRE(io.run_until([&] { return app_store.outbox_depth() == 0; }));
    CHECK(publisher.stats().acknowledged == 200);
    publisher.stop();
    client.stop();
}
