// The application path over loopback: uplink events become SQLite rows and outbox messages (in the transactions a
// network server batch would use), and the outbox publisher delivers them to a real Mosquitto on 127.0.0.1 through
// Paho. Beside it, in the same run and against the same broker, a bare Paho publish loop sends the same messages
// with nothing else to do: MQTT sets the ceiling, and the figure to read is the ratio.
//
//   - bare Paho: async_client, the same topics, payloads, QoS, window and max-in-flight; no SQLite, no JSON.
//   - schwebe, raw: events of a device without codec: one `up` message per event (rows, outbox write, JSON,
//     publish, broker acknowledgement, outbox removal).
//   - schwebe, decoded: Elsys ERS CO2 events: decode, 5 readings, `up` + 5 city reading messages per event.
// Throughput counts messages acknowledged by the broker (QoS 1) or written (QoS 0) per second of wall time; CPU is
// this process's user + system time (Paho's threads included; the broker's not) per message.
//
//   build/bench/bench_app [events, default 20000]

#include <sys/resource.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "decoders/codec.hpp"
#include "integrations/application/application_sink.hpp"
#include "integrations/mqtt/mqtt_client.hpp"
#include "integrations/mqtt/outbox_publisher.hpp"
#include "integrations/sqlite/app_store.hpp"
#include "integrations/sqlite/database.hpp"
#include "lorawan/bytes.hpp"
#include "tests/support/mosquitto.hpp"

using namespace schwebe;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::size_t env_or(const char* name, std::size_t fallback) {
    const char* v = std::getenv(name);
    return v ? std::strtoul(v, nullptr, 10) : fallback;
}
const std::size_t window = env_or("WINDOW", 100);  // unacknowledged messages, both paths
const std::size_t bare_window = window;
const int max_inflight = static_cast<int>(env_or("MAX_INFLIGHT", 100));  // Paho's own limit, both paths
constexpr std::size_t batch_size = 64;       // events per transaction (a network server batch)

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Figures {
    std::size_t messages = 0;
    double seconds = 0;
    double cpu = 0;
    [[nodiscard]] double rate() const { return static_cast<double>(messages) / seconds; }
    [[nodiscard]] double cpu_us() const { return cpu / static_cast<double>(messages) * 1e6; }
};

ns::DeviceInfo device(std::uint64_t n, const std::string& codec) {
    ns::DeviceInfo info;
    info.application_id = "0b1f2f3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    info.application_name = "environment";
    info.device_profile_id = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    info.device_profile_name = codec.empty() ? "raw" : codec;
    info.device_name = "sensor-" + std::to_string(n);
    info.dev_eui = lorawan::Eui64::from_u64(0x70b3d57ed0000000ULL + n);
    info.codec = codec;
    info.tags = {{"building", "rathaus"}};
    return info;
}

ns::UplinkEvent uplink(const ns::DeviceInfo& info, std::uint32_t f_cnt, const lorawan::Bytes& data,
                       std::uint64_t sequence) {
    ns::UplinkEvent up;
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(sequence));
    up.deduplication_id = id;
    up.time = std::chrono::system_clock::now();
    up.device_info = info;
    up.dev_addr = lorawan::DevAddr(0x26010000u + static_cast<std::uint32_t>(sequence % 1000));
    up.f_cnt = f_cnt;
    up.f_port = 1;
    up.dr = 5;
    up.data = data;
    common::RxInfo rx;
    rx.gateway_id = lorawan::Eui64::from_u64(0x0016c001f153a14cULL);
    rx.rssi = -87;
    rx.snr = 6.5;
    rx.tmst = 3512348611u;
    rx.received_at = up.time;
    up.rx_info = {rx, rx};
    up.rx_info[1].gateway_id = lorawan::Eui64::from_u64(0x0016c001f153a14dULL);
    up.tx_info.frequency_hz = 868300000;
    return up;
}

/// Paho alone: publish `messages` (topic, payload) with at most `window` unacknowledged.
Figures bare_paho(const std::string& uri, int qos, const std::vector<common::OutboxMessage>& messages) {
    // Configured as schwebe::mqtt::Client configures Paho for the outbox (integrations/mqtt/mqtt_client.cpp).
    ::mqtt::create_options create(MQTTVERSION_3_1_1);
    create.set_send_while_disconnected(false, false);
    create.set_max_buffered_messages(10'000);
    ::mqtt::async_client client(uri, "bench-bare-" + std::to_string(qos), create);
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t done = 0;
    // Completion through an action listener: called for QoS 0 once written, for QoS 1 on PUBACK.
    struct Listener : ::mqtt::iaction_listener {
        std::mutex* m;
        std::condition_variable* cv;
        std::size_t* done;
        void count() {
            std::lock_guard lock(*m);
            ++*done;
            cv->notify_one();
        }
        void on_success(const ::mqtt::token&) override { count(); }
        void on_failure(const ::mqtt::token&) override { count(); }
    } listener;
    listener.m = &mutex;
    listener.cv = &cv;
    listener.done = &done;
    ::mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_3_1_1);
    options.set_keep_alive_interval(std::chrono::seconds{30});
    options.set_clean_session(true);
    options.set_max_inflight(max_inflight);
    client.connect(options)->wait();

    const auto cpu0 = cpu_seconds();
    const auto t0 = SteadyClock::now();
    for (std::size_t i = 0; i < messages.size(); ++i) {
        {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return i - done < bare_window; });
        }
        const auto& m = messages[i];
        client.publish(::mqtt::make_message(m.topic, m.payload, qos, m.retained), nullptr, listener);
    }
    {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done == messages.size(); });
    }
    Figures f{messages.size(), std::chrono::duration<double>(SteadyClock::now() - t0).count(), cpu_seconds() - cpu0};
    client.disconnect()->wait();
    return f;
}

/// Schwebe's path: stage events in transactions, commit, offer, publish, remove on acknowledgement.
Figures schwebe_path(const std::string& uri, int qos, const std::string& codec, const lorawan::Bytes& payload,
                     std::size_t events, std::size_t& messages_per_event) {
    const auto dir = std::filesystem::temp_directory_path() / ("schwebe-bench-app-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    Figures figures;
    {
        auto db = sqlite::Database::open(dir / "schwebe.db");
        sqlite::SqliteAppStore store(db);
        const auto codecs = decoders::CodecRegistry::with_native_codecs();
        common::Metrics metrics;
        application::ApplicationOptions options;
        options.qos = qos;
        application::ApplicationSink sink(store, codecs, metrics, options);

        // The publisher on a thread of its own, with its own connection to the file, as `schwebe serve` runs it.
        auto publisher_db = sqlite::Database::open(dir / "schwebe.db");
        sqlite::SqliteAppStore publisher_store(publisher_db);
        boost::asio::io_context publisher_io;
        auto guard = boost::asio::make_work_guard(publisher_io);
        schwebe::mqtt::Options client_options;
        client_options.server_uri = uri;
        client_options.client_id = "bench-schwebe-" + std::to_string(qos) + codec;
        client_options.buffer_while_disconnected = false;
        client_options.max_inflight = max_inflight;
        client_options.max_buffered_messages = 10'000;
        schwebe::mqtt::Client client(publisher_io, client_options);
        schwebe::mqtt::OutboxPublisher publisher(publisher_io, client, publisher_store, metrics, {.window = window});
        auto& acknowledged = metrics.counter("schwebe_mqtt_outbox_acknowledged_total", "");
        std::atomic<bool> connected{false};
        boost::asio::steady_timer connect_check(publisher_io);
        std::function<void()> check = [&] {
            if (client.connected()) {
                connected = true;
                return;
            }
            connect_check.expires_after(5ms);
            connect_check.async_wait([&](const boost::system::error_code&) { check(); });
        };
        boost::asio::post(publisher_io, [&] {
            client.start();
            check();
        });
        std::thread publisher_thread([&] { publisher_io.run(); });
        std::size_t written = 0;  // messages committed to the outbox
        sink.set_committed_handler([&](std::vector<common::OutboxMessage> m) {
            written += m.size();
            boost::asio::post(publisher_io, [&publisher, m = std::move(m)]() mutable { publisher.offer(std::move(m)); });
        });
        while (!connected) std::this_thread::sleep_for(1ms);

        std::vector<ns::DeviceInfo> devices;
        for (std::uint64_t d = 0; d < 100; ++d) devices.push_back(device(d, codec));
        const auto cpu0 = cpu_seconds();
        const auto t0 = SteadyClock::now();
        std::size_t produced = 0;
        while (produced < events) {
            // Keep the producer at most a few windows ahead of the broker (a benchmark may poll).
            while (written - acknowledged.value() > 4 * window) std::this_thread::sleep_for(50us);
            std::vector<ns::Event> batch;
            for (std::size_t i = 0; i < batch_size && produced < events; ++i, ++produced) {
                batch.push_back(uplink(devices[produced % devices.size()], static_cast<std::uint32_t>(produced / 100),
                                       payload, produced));
            }
            {
                sqlite::Transaction transaction(db);
                sink.stage(batch);
                transaction.commit();
            }
            sink.staged_done(true);
        }
        while (acknowledged.value() < written) std::this_thread::sleep_for(100us);
        figures.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
        figures.cpu = cpu_seconds() - cpu0;
        figures.messages = acknowledged.value();
        messages_per_event = figures.messages / events;
        boost::asio::post(publisher_io, [&] {
            publisher.stop();
            client.stop();
            boost::asio::post(publisher_io, [&] { publisher_io.stop(); });
        });
        publisher_thread.join();
    }
    std::filesystem::remove_all(dir);
    return figures;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t events = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20'000;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    log::set_level(log::Level::warn);
    test::Mosquitto broker;
    const std::string uri = broker.uri();

    // The messages the raw path publishes, for the bare loop: same topics, same payload sizes.
    const auto raw_payload = *lorawan::from_hex("0a0b0c0d0e0f1011");
    const auto elsys_payload = *lorawan::from_hex("0100e202290400270506060308");
    std::vector<common::OutboxMessage> bare_messages;
    {
        const auto dir = std::filesystem::temp_directory_path() / ("schwebe-bench-app-m-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir);
        auto db = sqlite::Database::open(dir / "schwebe.db");
        sqlite::SqliteAppStore store(db);
        const auto codecs = decoders::CodecRegistry::with_native_codecs();
        common::Metrics metrics;
        application::ApplicationSink sink(store, codecs, metrics, {});
        sink.set_committed_handler([&](std::vector<common::OutboxMessage> m) {
            for (auto& x : m) bare_messages.push_back(std::move(x));
        });
        const auto info = device(1, "");
        for (std::size_t i = 0; i < events; i += batch_size) {
            std::vector<ns::Event> batch;
            for (std::size_t j = i; j < std::min(events, i + batch_size); ++j) {
                batch.push_back(uplink(info, static_cast<std::uint32_t>(j), raw_payload, j));
            }
            sqlite::Transaction t(db);
            sink.stage(batch);
            t.commit();
            sink.staged_done(true);
        }
        std::filesystem::remove_all(dir);
    }
    std::printf("bench_app: %zu events per run, window %zu, Paho max in flight %d, %zu events per transaction\n",
                events, window, max_inflight, batch_size);
    std::printf("  up message: %zu bytes of JSON\n", bare_messages.front().payload.size());
    for (const int qos : {0, 1}) {
        const auto bare = bare_paho(uri, qos, bare_messages);
        std::size_t per_event = 0;
        const auto raw = schwebe_path(uri, qos, "", raw_payload, events, per_event);
        std::size_t per_decoded = 0;
        const auto decoded = schwebe_path(uri, qos, "elsys-ers-co2", elsys_payload, events, per_decoded);
        std::printf("QoS %d\n", qos);
        std::printf("  bare Paho publish loop   %9.0f messages/s  %6.1f us CPU/message\n", bare.rate(), bare.cpu_us());
        std::printf("  schwebe, raw uplinks     %9.0f messages/s  %6.1f us CPU/message  (%zu per event; %.0f events/s)"
                    "  = %.0f %% of bare\n",
                    raw.rate(), raw.cpu_us(), per_event, raw.rate() / static_cast<double>(per_event),
                    100.0 * raw.rate() / bare.rate());
        std::printf("  schwebe, decoded Elsys   %9.0f messages/s  %6.1f us CPU/message  (%zu per event; %.0f events/s)"
                    "  = %.0f %% of bare\n",
                    decoded.rate(), decoded.cpu_us(), per_decoded, decoded.rate() / static_cast<double>(per_decoded),
                    100.0 * decoded.rate() / bare.rate());
    }
    return 0;
}
