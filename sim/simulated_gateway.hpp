#pragma once
// A gateway as the Semtech reference packet forwarder (lora_pkt_fwd) behaves on the network: two UDP sockets, one
// for PUSH_DATA and one for PULL_DATA (downlinks arrive on the latter), keepalives, rxpk with configurable radio
// metadata, and a TX_ACK for each PULL_RESP (with or without JSON, OK or an error). Tests drive it step by step;
// `schwebe sim` will run many of them.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lorawan/bytes.hpp"
#include "lorawan/types.hpp"

namespace schwebe::sim {

using Token = std::array<std::uint8_t, 2>;

/// One received packet as the gateway reports it.
struct Rxpk {
    lorawan::Bytes phy_payload;
    std::uint32_t tmst = 0;
    double freq_mhz = 868.1;
    std::uint32_t chan = 0;
    std::uint32_t rfch = 0;
    int stat = 1;
    std::uint8_t spreading_factor = 7;
    std::uint32_t bandwidth_khz = 125;
    std::string codr = "4/5";
    int rssi = -60;
    double lsnr = 7.5;
    std::optional<std::string> time;  ///< ISO 8601, GPS gateways only

    [[nodiscard]] nlohmann::json to_json() const;
};

/// A PULL_RESP as the gateway received it.
struct ReceivedDownlink {
    Token token{};
    nlohmann::json txpk;  ///< the "txpk" object
    lorawan::Bytes phy_payload;
    bool on_down_socket = true;
};

class SimulatedGateway {
public:
    using Endpoint = boost::asio::ip::udp::endpoint;

    SimulatedGateway(boost::asio::io_context& io, lorawan::Eui64 id, Endpoint server, std::uint8_t version = 2);

    [[nodiscard]] const lorawan::Eui64& id() const { return id_; }

    /// PULL_DATA from the down socket (the keepalive that opens the downlink path).
    Token pull();
    /// A PULL_DATA now and then every `interval`, as lora_pkt_fwd's keepalive_interval does, until stop_keepalive().
    void start_keepalive(std::chrono::milliseconds interval);
    void stop_keepalive();
    /// PUSH_DATA from the up socket with the packets (and a stat object, when given).
    Token push(const std::vector<Rxpk>& packets, const std::optional<nlohmann::json>& stat = std::nullopt);
    /// PUSH_DATA with this JSON text as it stands (malformed on purpose, or odd fields).
    Token push_json(std::string_view json);
    /// A datagram of any bytes, from the up socket (or the down one).
    void send_raw(lorawan::ByteView datagram, bool from_down_socket = false);

    /// Moves the down socket to a new local port, as a NAT rebinding does.
    void rebind_down_socket();
    [[nodiscard]] Endpoint up_endpoint() const { return up_.local_endpoint(); }
    [[nodiscard]] Endpoint down_endpoint() const { return down_.local_endpoint(); }

    /// How the next PULL_RESPs are answered: nullopt = no TX_ACK at all; "NONE"/"" = OK; else the error name.
    /// `with_json` false sends the bare 12-byte TX_ACK (lora_pkt_fwd v4 when all is well).
    void answer_tx_ack(std::optional<std::string> error, bool with_json = true);
    /// Answers for the next PULL_RESPs in order, each as answer_tx_ack would; after them, the default answer.
    void answer_tx_acks_in_order(std::vector<std::string> errors);

    /// When set, decides the answer to each PULL_RESP instead of answer_tx_ack(): "NONE" for OK, else the error
    /// name (TOO_LATE, TX_FREQ, …). The downlink is recorded in `downlinks` only when this is not set.
    std::function<std::string(const ReceivedDownlink&)> on_pull_resp;

    std::vector<Token> push_acks;
    std::vector<Token> pull_acks;
    std::vector<ReceivedDownlink> downlinks;
    std::size_t acks_on_wrong_socket = 0;

private:
    void receive(boost::asio::ip::udp::socket& socket, bool down);
    void schedule_keepalive();
    void on_datagram(lorawan::ByteView data, bool down);
    lorawan::Bytes header(std::uint8_t type, Token token) const;
    Token next_token();

    boost::asio::io_context& io_;
    lorawan::Eui64 id_;
    Endpoint server_;
    std::uint8_t version_;
    boost::asio::ip::udp::socket up_;
    boost::asio::ip::udp::socket down_;
    std::array<std::uint8_t, 65536> up_buffer_{};
    std::array<std::uint8_t, 65536> down_buffer_{};
    Endpoint up_from_;
    Endpoint down_from_;
    std::uint16_t token_counter_ = 0x1000;
    std::optional<std::string> tx_ack_error_ = std::string("NONE");
    bool tx_ack_with_json_ = true;
    std::vector<std::string> queued_answers_;
    boost::asio::steady_timer keepalive_timer_;
    std::chrono::milliseconds keepalive_interval_{0};
};

/// Runs `io` until `done()` holds or `timeout` passes; true when it holds. Tests wait on events this way, never by
/// sleeping.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        io.run_one_for(deadline - now);
        if (io.stopped()) io.restart();
    }
    return true;
}

}  // namespace schwebe::sim
