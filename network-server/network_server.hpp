#pragma once
// The network server (DESIGN.md, Data flow): gateway copies in, deduplicated uplink sets through the data and join
// pipelines, events out, Class A downlinks back to the gateways. It reaches I/O only through interfaces: NsStore
// (devices, sessions, queue), common::DownlinkSender (gateways), EventSink (applications), and the injected clock.
//
// Each uplink set goes through named steps, one screen top to bottom (network_server.cpp):
//   data:  resolve candidates by DevAddr → authenticate (MIC over the candidates, 32-bit FCnt, replay, reset) →
//          decrypt → MAC commands → ADR → commit → events → Class A reply
//   join:  resolve device by DevEUI → check MIC with AppKey → DevNonce → allocate DevAddr → derive keys → commit →
//          join event → join-accept in RX1 (5 s) / RX2 (6 s)
// The sets ready at one moment form a batch: their counter changes and FCntDown reservations are committed in one
// transaction before any of their events or downlinks leave (crash safety: a kill -9 loses at most frames that
// nobody was told about; it never lets a replay through nor reuses an FCntDown).
//
// Threads: everything runs on the io_context's thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"
#include "common/messages.hpp"
#include "common/metrics.hpp"
#include "lorawan/join.hpp"
#include "lorawan/session.hpp"
#include "network-server/deduplicator.hpp"
#include "network-server/events.hpp"
#include "network-server/store.hpp"

namespace schwebe::ns {

struct NetworkServerOptions {
    Deduplicator::Options dedup;
    lorawan::NetId net_id;  ///< DevAddrs of joining devices are allocated under it
    /// Channels 3..7 announced in the join-accept's CFList (RP002 §2.4.4); 0: none. The city's usual plan.
    std::array<std::uint32_t, 5> cf_list_hz = {867'100'000, 867'300'000, 867'500'000, 867'700'000, 867'900'000};
    std::int32_t rx1_tx_power_dbm = 14;
    std::int32_t rx2_tx_power_dbm = 14;
    /// A confirmed downlink goes out at most 1 + this many times before `ack` reports acknowledged: false.
    std::uint8_t confirmed_downlink_retries = 2;
    /// How long a downlink waits for its TX_ACK before the server forgets it.
    std::chrono::seconds tx_ack_expiry{30};
    std::size_t max_cached_devices = 1'000'000;
    std::size_t max_unknown_dev_addrs = 100'000;  ///< remembered unknown DevAddrs (a flood of them costs no queries)
};

struct Clock {
    std::function<std::chrono::steady_clock::time_point()> steady_now = [] { return std::chrono::steady_clock::now(); };
    std::function<std::chrono::system_clock::time_point()> system_now = [] { return std::chrono::system_clock::now(); };
};

class NetworkServer final : public common::GatewayEventSink {
public:
    NetworkServer(boost::asio::io_context& io, NetworkServerOptions options, NsStore& store,
                  common::DownlinkSender& gateways, EventSink& events, common::Metrics& metrics, Clock clock = {});
    ~NetworkServer() override;
    NetworkServer(const NetworkServer&) = delete;
    NetworkServer& operator=(const NetworkServer&) = delete;

    // From the gateways (the bridge in-process, or MQTT).
    void on_uplink(common::UplinkFrame frame) override;
    void on_stats(common::GatewayStats stats) override;
    void on_tx_ack(common::DownlinkTxAck ack) override;
    void on_conn_state(common::GatewayConnState state) override;

    /// Processes every set whose dedup window has closed by the clock's now. The timer calls it; tests with a fake
    /// clock call it after moving time.
    void process_ready();

    /// The downlink queue's internal API (MQTT command/down, the REST API and the CLI use it).
    lorawan::Result<QueueItem, QueueError> enqueue_downlink(const lorawan::Eui64& dev_eui, std::uint8_t f_port,
                                                           lorawan::ByteView data, bool confirmed);

    /// Stops the timer; pending sets are dropped.
    void stop();

    struct Stats {
        std::uint64_t uplinks = 0;  ///< data uplinks accepted
        std::uint64_t joins = 0;
        std::uint64_t dropped = 0;  ///< uplink sets refused, every reason
        std::uint64_t downlinks_scheduled = 0;
        std::uint64_t batches = 0;
    };
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t cached_devices() const noexcept { return devices_.size(); }

private:
    struct CachedDevice;
    struct UplinkContext;
    struct Batch;
    struct PendingDownlink;

    // data uplink steps
    void handle_set(UplinkFrameSet& set, Batch& batch);
    void handle_data_uplink(UplinkContext& ctx, Batch& batch);
    bool resolve_candidates(UplinkContext& ctx);
    bool authenticate(UplinkContext& ctx);
    void decrypt(UplinkContext& ctx);
    void handle_mac_commands(UplinkContext& ctx, Batch& batch);
    void run_adr(UplinkContext& ctx);
    void commit_uplink(UplinkContext& ctx, Batch& batch);
    void schedule_class_a_reply(UplinkContext& ctx, Batch& batch);
    // join steps
    void handle_join_request(UplinkContext& ctx, Batch& batch);
    std::optional<lorawan::DevAddr> allocate_dev_addr(const lorawan::NwkSKey& nwk_s_key);
    // batch
    void finish(Batch& batch);
    void drop(const UplinkContext& ctx, std::string_view reason, std::string_view detail = {});
    void count_drop(std::string_view reason);

    CachedDevice* device_by_eui(const lorawan::Eui64& dev_eui);
    const std::vector<CachedDevice*>& devices_by_dev_addr(lorawan::DevAddr dev_addr);
    CachedDevice* adopt(DeviceRecord record);
    void forget(const lorawan::Eui64& dev_eui);
    void forget_all();
    void check_external_changes();

    void arm_timer();
    void expire_pending_downlinks();
    common::DownlinkItem downlink_item(std::uint32_t frequency_hz, std::uint8_t dr, std::int32_t power_dbm,
                                       std::chrono::seconds delay, std::uint32_t tmst) const;

    NetworkServerOptions options_;
    NsStore& store_;
    common::DownlinkSender& gateways_;
    EventSink& events_;
    common::Metrics& metrics_;
    Clock clock_;
    Deduplicator dedup_;
    boost::asio::steady_timer timer_;
    std::optional<std::chrono::steady_clock::time_point> timer_deadline_;

    std::unordered_map<std::uint64_t, std::unique_ptr<CachedDevice>> devices_;  // by DevEUI
    std::unordered_map<std::uint32_t, std::vector<CachedDevice*>> by_dev_addr_;  // empty vector: known unknown
    std::unordered_map<std::uint32_t, PendingDownlink> pending_downlinks_;        // by downlink_id, awaiting TX_ACK
    std::mt19937_64 rng_;
    Stats stats_;

    common::Counter& uplinks_total_;
    common::Counter& joins_total_;
    common::Counter& downlinks_total_;
    common::Counter& storage_errors_total_;
    std::map<std::string, common::Counter*, std::less<>> drops_;
    std::map<std::string, log::RateLimiter, std::less<>> drop_log_limits_;
    std::map<std::string, common::Counter*, std::less<>> tx_ack_results_;
    std::array<common::Counter*, 4> dedup_outcomes_{};  // by Deduplicator::Outcome
};

}  // namespace schwebe::ns
