#pragma once
// The gateway bridge's UDP server: Semtech GWMP v1/v2 on one socket (default 0.0.0.0:1700).
//
// Every datagram: header → admission (policy, gateway limit, per-gateway rate) → acknowledge → process. PUSH_DATA
// becomes UplinkFrames and GatewayStats for the sink; PULL_DATA records where the gateway's downlinks go; TX_ACK
// settles a pending downlink, moving to the next item (RX2) when the gateway refused the first. A bad datagram is
// counted by reason and logged rate-limited; it never stops the loop or delays another gateway's datagram by more
// than the time it takes to refuse it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "common/log.hpp"
#include "common/messages.hpp"
#include "common/metrics.hpp"
#include "gateway-bridge/capture.hpp"
#include "gateway-bridge/gateway_registry.hpp"
#include "gateway-bridge/gateway_store.hpp"
#include "gateway-bridge/semtech_packet.hpp"

namespace schwebe::bridge {

struct UdpBridgeOptions {
    std::string bind_host = "0.0.0.0";
    std::uint16_t bind_port = 1700;
    std::chrono::milliseconds tx_ack_timeout{2000};
    std::chrono::seconds store_flush_interval{10};
    std::chrono::milliseconds housekeeping_interval{1000};
    std::size_t receive_batch = 256;  ///< datagrams handled per wake-up before timers get their turn
    int receive_buffer_bytes = 4 * 1024 * 1024;
};

class UdpBridge : public common::DownlinkSender {
public:
    using Endpoint = boost::asio::ip::udp::endpoint;
    using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

    /// `store` may be null (no persistence). Handlers run on `io`.
    UdpBridge(boost::asio::io_context& io, UdpBridgeOptions options, GatewayRegistry& registry, GatewayStore* store,
              common::GatewayEventSink& sink, common::Metrics& metrics,
              SteadyClock steady_now = [] { return std::chrono::steady_clock::now(); });
    ~UdpBridge() override;

    /// Binds and starts receiving. Throws std::system_error when the address cannot be bound (a start-up error).
    void start();
    /// Stops receiving and timers; flushes gateway activity to the store.
    void stop();
    [[nodiscard]] Endpoint local_endpoint() const;
    /// Records every datagram read, before it is parsed (capture.hpp); null: none. Must outlive the bridge.
    void set_capture(CaptureWriter* capture) { capture_ = capture; }

    /// Sends the first item as PULL_RESP to the gateway's latest PULL_DATA address; the outcome arrives as
    /// GatewayEventSink::on_tx_ack.
    void send_downlink(common::DownlinkFrame frame) override;

    /// One round of timers' work (online/offline, TX_ACK time-outs, store flush and reload), at `now`.
    void housekeeping();

private:
    struct Pending {
        common::DownlinkFrame frame;
        std::size_t item = 0;
        std::vector<common::TxAckStatus> statuses;
        std::chrono::steady_clock::time_point deadline;
    };

    void do_wait();
    void drain();
    void on_datagram(lorawan::ByteView datagram, const Endpoint& from);
    void on_push_data(const Header& h, const Endpoint& from);
    void on_pull_data(const Header& h, const Endpoint& from);
    void on_tx_ack(const Header& h);
    void send_item(Token token, Pending pending);
    void finish(Pending& pending);
    void drop(std::string_view reason, const Endpoint& from, const std::optional<common::Eui64>& gateway_id);
    void send_to(lorawan::ByteView datagram, const Endpoint& to, std::string_view what);
    void flush_store();
    void schedule_housekeeping();
    Token fresh_token();
    common::Counter& gateway_counter(const common::Eui64& gateway_id);

    boost::asio::io_context& io_;
    UdpBridgeOptions options_;
    GatewayRegistry& registry_;
    GatewayStore* store_;
    common::GatewayEventSink& sink_;
    common::Metrics& metrics_;
    SteadyClock steady_now_;

    boost::asio::ip::udp::socket socket_;
    boost::asio::steady_timer housekeeping_timer_;
    std::chrono::steady_clock::time_point next_flush_{};
    Endpoint from_;
    CaptureWriter* capture_ = nullptr;
    std::unique_ptr<std::array<std::uint8_t, max_datagram_size + 1>> buffer_;
    PushDataParser parser_;
    std::uint32_t uplink_id_counter_;
    std::map<Token, Pending> pending_;
    std::mt19937 rng_;
    bool running_ = false;

    struct Drop {
        common::Counter* counter;
        log::RateLimiter log;
    };
    std::map<std::string_view, Drop> drops_;  // keys are the static reason names
    std::map<common::Eui64, common::Counter*> gateway_counters_;
    std::array<common::Counter*, 6> datagrams_by_type_{};
    common::Counter& uplinks_;
};

}  // namespace schwebe::bridge
