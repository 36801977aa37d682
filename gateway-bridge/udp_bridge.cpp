#include "gateway-bridge/udp_bridge.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>

namespace schwebe::bridge {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
std::string endpoint_text(const udp::endpoint& e) {
    boost::system::error_code ec;
    const auto host = e.address().to_string(ec);
    return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

std::string_view admission_reason(Admission a) {
    switch (a) {
        case Admission::admitted: return "admitted";
        case Admission::not_allowed: return "gateway_not_allowed";
        case Admission::rate_limited: return "rate_limited";
        case Admission::too_many_gateways: return "too_many_gateways";
    }
    return "unknown";
}

std::string_view type_name(PacketType t) {
    switch (t) {
        case PacketType::push_data: return "push_data";
        case PacketType::pull_data: return "pull_data";
        case PacketType::tx_ack: return "tx_ack";
        case PacketType::push_ack: return "push_ack";
        case PacketType::pull_resp: return "pull_resp";
        case PacketType::pull_ack: return "pull_ack";
    }
    return "unknown";
}

common::GatewayStats to_stats(const common::Eui64& gateway_id, const Stat& s, common::SystemTime now) {
    common::GatewayStats g;
    g.gateway_id = gateway_id;
    g.received_at = now;
    g.location = s.location;
    g.rx_received = s.rxnb.value_or(0);
    g.rx_ok = s.rxok.value_or(0);
    g.rx_forwarded = s.rxfw.value_or(0);
    g.ack_ratio = s.ackr.value_or(0);
    g.tx_received = s.dwnb.value_or(0);
    g.tx_emitted = s.txnb.value_or(0);
    return g;
}
}  // namespace

UdpBridge::UdpBridge(asio::io_context& io, UdpBridgeOptions options, GatewayRegistry& registry, GatewayStore* store,
                     common::GatewayEventSink& sink, common::Metrics& metrics, SteadyClock steady_now)
    : io_(io),
      options_(std::move(options)),
      registry_(registry),
      store_(store),
      sink_(sink),
      metrics_(metrics),
      steady_now_(std::move(steady_now)),
      socket_(io),
      housekeeping_timer_(io),
      buffer_(std::make_unique<std::array<std::uint8_t, max_datagram_size + 1>>()),
      uplink_id_counter_(std::random_device{}()),
      rng_(std::random_device{}()),
      uplinks_(metrics.counter("schwebe_bridge_uplinks_total", "uplink frames (rxpk) handed on by the bridge")) {
    for (const PacketType t : {PacketType::push_data, PacketType::pull_data, PacketType::tx_ack}) {
        datagrams_by_type_[static_cast<std::size_t>(t)] =
            &metrics.counter("schwebe_bridge_datagrams_total", "valid datagrams received, by type",
                             {{"type", std::string(type_name(t))}});
    }
}

UdpBridge::~UdpBridge() { stop(); }

void UdpBridge::start() {
    const udp::endpoint local{asio::ip::make_address(options_.bind_host), options_.bind_port};
    socket_.open(local.protocol());
    socket_.set_option(asio::socket_base::reuse_address(true));
    boost::system::error_code ignored;
    // A large receive buffer absorbs bursts (many gateways reporting at once) while the loop works.
    socket_.set_option(asio::socket_base::receive_buffer_size(options_.receive_buffer_bytes), ignored);
    socket_.bind(local);
    socket_.non_blocking(true);
    running_ = true;
    next_flush_ = steady_now_() + options_.store_flush_interval;
    log::info("gateway bridge listening", {{"udp_bind", endpoint_text(socket_.local_endpoint())}});
    do_wait();
    schedule_housekeeping();
}

void UdpBridge::stop() {
    if (!running_) return;
    running_ = false;
    boost::system::error_code ignored;
    housekeeping_timer_.cancel();
    socket_.close(ignored);
    flush_store();
}

UdpBridge::Endpoint UdpBridge::local_endpoint() const { return socket_.local_endpoint(); }

void UdpBridge::do_wait() {
    socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
        if (ec || !running_) return;
        drain();
        do_wait();
    });
}

void UdpBridge::drain() {
    // Read what is queued without a handler per datagram; after a batch, timers and other work get their turn.
    for (std::size_t i = 0; i < options_.receive_batch; ++i) {
        boost::system::error_code ec;
        const std::size_t n = socket_.receive_from(asio::buffer(*buffer_), from_, 0, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec) {
            // ICMP errors of earlier sends surface here on Linux (connection_refused): not our datagram's fault.
            metrics_.counter("schwebe_bridge_socket_errors_total", "errors reading the UDP socket").inc();
            continue;
        }
        const lorawan::ByteView datagram{buffer_->data(), n};
        if (capture_) capture_->record(datagram, endpoint_text(from_), std::chrono::system_clock::now());
        on_datagram(datagram, from_);
    }
    if (capture_ && !capture_->failed() && !capture_->flush()) {
        log::error("capture stopped: the capture file cannot be written", {{"records", capture_->records()}});
    }
}

void UdpBridge::on_datagram(lorawan::ByteView datagram, const Endpoint& from) {
    const auto header = parse_header(datagram);
    if (!header) {
        drop(to_string(header.error()), from, std::nullopt);
        return;
    }
    const Header& h = *header;
    datagrams_by_type_[static_cast<std::size_t>(h.type)]->inc();
    const common::Eui64 gateway_id = *h.gateway_id;  // every gateway→server type carries it
    const Admission admission = registry_.admit(gateway_id, steady_now_());
    if (admission != Admission::admitted) {
        drop(admission_reason(admission), from, gateway_id);
        return;
    }
    registry_.on_version(gateway_id, h.version);
    switch (h.type) {
        case PacketType::push_data: on_push_data(h, from); break;
        case PacketType::pull_data: on_pull_data(h, from); break;
        case PacketType::tx_ack: on_tx_ack(h); break;
        default: break;  // parse_header refuses the server→gateway types
    }
}

void UdpBridge::on_push_data(const Header& h, const Endpoint& from) {
    // Acknowledge first, then process (PROTOCOL.TXT §3 sequence diagram): the gateway measures its link by this.
    const auto ack = make_ack(h);
    send_to(ack, from, "push_ack");

    const common::Eui64& gateway_id = *h.gateway_id;
    const auto now = std::chrono::system_clock::now();
    auto parsed = parser_.parse(h.json, gateway_id, now, uplink_id_counter_);
    if (!parsed) {
        drop(to_string(parsed.error()), from, gateway_id);
        return;
    }
    PushData& data = *parsed;
    for (const RejectedRxPacket& r : data.rejected) drop(to_string(r.reason), from, gateway_id);
    if (!data.rxpk.empty()) {
        const auto location = registry_.location(gateway_id);
        std::uint64_t frames = 0;
        for (RxPacket& p : data.rxpk) {
            p.frame.rx_info.location = location;
            for (common::RxInfo& more : p.more_antennas) {
                more.location = location;
                common::UplinkFrame copy{p.frame.phy_payload, p.frame.tx_info, std::move(more)};
                sink_.on_uplink(std::move(copy));
                ++frames;
            }
            sink_.on_uplink(std::move(p.frame));
            ++frames;
        }
        uplinks_.inc(frames);
        gateway_counter(gateway_id).inc(frames);
        registry_.on_uplinks(gateway_id, frames, now);
    }
    if (data.stat) {
        common::GatewayStats stats = to_stats(gateway_id, *data.stat, now);
        registry_.on_stats(stats);
        sink_.on_stats(std::move(stats));
    }
}

void UdpBridge::on_pull_data(const Header& h, const Endpoint& from) {
    const auto ack = make_ack(h);
    send_to(ack, from, "pull_ack");
    // The latest PULL_DATA address is where downlinks go: the reference forwarder pulls from its second socket,
    // and NAT may move it at any time.
    registry_.on_pull_data(*h.gateway_id, from);
}

void UdpBridge::on_tx_ack(const Header& h) {
    const auto it = pending_.find(h.token);
    if (it == pending_.end() || it->second.frame.gateway_id != *h.gateway_id) {
        metrics_.counter("schwebe_bridge_tx_ack_unmatched_total", "TX_ACK whose token matches no pending downlink")
            .inc();
        return;
    }
    Pending pending = std::move(it->second);
    pending_.erase(it);
    const auto status = parse_tx_ack(h.json);
    // Broken JSON in a TX_ACK says nothing about the transmission: count it and treat the item as failed.
    const common::TxAckStatus s = status ? *status : common::TxAckStatus::internal_error;
    if (!status) drop(to_string(status.error()), Endpoint{}, h.gateway_id);
    pending.statuses[pending.item] = s;
    if (s != common::TxAckStatus::ok && pending.item + 1 < pending.frame.items.size()) {
        log::info("downlink refused by gateway, trying next item",
                  {{"gateway_id", h.gateway_id->to_string()},
                   {"downlink_id", pending.frame.downlink_id},
                   {"status", common::to_string(s)}});
        ++pending.item;
        send_item(fresh_token(), std::move(pending));
        return;
    }
    finish(pending);
}

void UdpBridge::send_downlink(common::DownlinkFrame frame) {
    if (frame.items.empty()) return;
    Pending pending;
    pending.statuses.assign(frame.items.size(), common::TxAckStatus::ignored);
    pending.frame = std::move(frame);
    if (!registry_.downlink_endpoint(pending.frame.gateway_id)) {
        log::warn("no downlink path to gateway (no PULL_DATA yet)",
                  {{"gateway_id", pending.frame.gateway_id.to_string()}, {"downlink_id", pending.frame.downlink_id}});
        pending.statuses[0] = common::TxAckStatus::internal_error;
        finish(pending);
        return;
    }
    send_item(fresh_token(), std::move(pending));
}

void UdpBridge::send_item(Token token, Pending pending) {
    const auto endpoint = registry_.downlink_endpoint(pending.frame.gateway_id);
    const std::uint8_t version = registry_.version(pending.frame.gateway_id);
    const Bytes datagram = make_pull_resp(version, token, pending.frame.items[pending.item]);
    send_to(datagram, *endpoint, "pull_resp");
    if (version == 1) {
        // Protocol v1 has no TX_ACK: the PULL_RESP leaving is all there is to know.
        pending.statuses[pending.item] = common::TxAckStatus::ok;
        finish(pending);
        return;
    }
    pending.deadline = steady_now_() + options_.tx_ack_timeout;
    pending_.emplace(token, std::move(pending));
}

void UdpBridge::finish(Pending& pending) {
    const common::TxAckStatus final_status = pending.statuses[pending.item];
    metrics_.counter("schwebe_bridge_downlinks_total", "downlinks settled, by the status of the last item tried",
                     {{"status", std::string(common::to_string(final_status))}})
        .inc();
    sink_.on_tx_ack(common::DownlinkTxAck{pending.frame.gateway_id, pending.frame.downlink_id, pending.statuses});
}

Token UdpBridge::fresh_token() {
    std::uniform_int_distribution<int> byte(0, 255);
    Token t{};
    do {
        t = {static_cast<std::uint8_t>(byte(rng_)), static_cast<std::uint8_t>(byte(rng_))};
    } while (pending_.contains(t));
    return t;
}

void UdpBridge::send_to(lorawan::ByteView datagram, const Endpoint& to, std::string_view what) {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(datagram.data(), datagram.size()), to, 0, ec);
    if (ec) {
        metrics_.counter("schwebe_bridge_send_errors_total", "datagrams the bridge could not send, by type",
                         {{"type", std::string(what)}})
            .inc();
    }
}

void UdpBridge::drop(std::string_view reason, const Endpoint& from, const std::optional<common::Eui64>& gateway_id) {
    // Reasons are static strings; their counter and log limiter are looked up once, so a flood of refusals costs a
    // map lookup each, no allocation.
    auto it = drops_.find(reason);
    if (it == drops_.end()) {
        Drop d{&metrics_.counter("schwebe_bridge_dropped_total", "datagrams and rxpk refused by the bridge, by reason",
                                 {{"reason", std::string(reason)}}),
               log::RateLimiter{5, std::chrono::seconds{10}}};
        it = drops_.emplace(reason, d).first;
    }
    it->second.counter->inc();
    std::uint64_t suppressed = 0;
    if (!it->second.log.allow(steady_now_(), suppressed)) return;
    log::warn("gateway datagram refused", {{"reason", reason},
                                           {"from", from.port() == 0 ? std::string("-") : endpoint_text(from)},
                                           {"gateway_id", gateway_id ? gateway_id->to_string() : std::string("-")},
                                           {"suppressed_since_last", suppressed}});
}

common::Counter& UdpBridge::gateway_counter(const common::Eui64& gateway_id) {
    const auto it = gateway_counters_.find(gateway_id);
    if (it != gateway_counters_.end()) return *it->second;
    common::Counter& c = metrics_.counter("schwebe_gateway_uplinks_total", "uplink frames received per gateway",
                                          {{"gateway_id", gateway_id.to_string()}});
    gateway_counters_.emplace(gateway_id, &c);
    return c;
}

void UdpBridge::schedule_housekeeping() {
    housekeeping_timer_.expires_after(options_.housekeeping_interval);
    housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !running_) return;
        housekeeping();
        schedule_housekeeping();
    });
}

void UdpBridge::housekeeping() {
    const auto now = steady_now_();
    for (const common::GatewayConnState& change : registry_.update_online(now)) {
        log::info(change.online ? "gateway online" : "gateway offline", {{"gateway_id", change.gateway_id.to_string()}});
        sink_.on_conn_state(change);
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        Pending pending = std::move(it->second);
        it = pending_.erase(it);
        log::warn("no TX_ACK from gateway", {{"gateway_id", pending.frame.gateway_id.to_string()},
                                              {"downlink_id", pending.frame.downlink_id}});
        pending.statuses[pending.item] = common::TxAckStatus::internal_error;
        finish(pending);
    }
    if (now >= next_flush_) {
        next_flush_ = now + options_.store_flush_interval;
        flush_store();
    }
}

void UdpBridge::flush_store() {
    if (store_ == nullptr) return;
    // The store is an adapter over SQLite: its failures are logged here, at the edge, and retried next flush.
    try {
        auto activity = registry_.take_activity();
        if (!activity.empty()) store_->record_activity(activity);
        if (store_->changed_externally()) {
            registry_.reload(store_->load_gateways());
            log::info("gateway registry reloaded", {{"gateways", registry_.size()}});
        }
    } catch (const std::exception& e) {
        log::error("gateway store", {{"error", e.what()}});
    }
}

}  // namespace schwebe::bridge
