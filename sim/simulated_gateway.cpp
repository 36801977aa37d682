#include "sim/simulated_gateway.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

#include "common/base64.hpp"

namespace schwebe::sim {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
constexpr std::uint8_t push_data = 0x00;
constexpr std::uint8_t push_ack = 0x01;
constexpr std::uint8_t pull_data = 0x02;
constexpr std::uint8_t pull_resp = 0x03;
constexpr std::uint8_t pull_ack = 0x04;
constexpr std::uint8_t tx_ack = 0x05;

udp::socket open_socket(asio::io_context& io, const udp::endpoint& server) {
    udp::socket s(io, udp::endpoint(server.address().is_v4() ? udp::v4() : udp::v6(), 0));
    return s;
}
}  // namespace

nlohmann::json Rxpk::to_json() const {
    nlohmann::json j = {{"tmst", tmst},
                        {"chan", chan},
                        {"rfch", rfch},
                        {"freq", freq_mhz},
                        {"stat", stat},
                        {"modu", "LORA"},
                        {"datr", "SF" + std::to_string(spreading_factor) + "BW" + std::to_string(bandwidth_khz)},
                        {"codr", codr},
                        {"rssi", rssi},
                        {"lsnr", lsnr},
                        {"size", phy_payload.size()},
                        {"data", common::base64_encode(phy_payload)}};
    if (time) j["time"] = *time;
    return j;
}

SimulatedGateway::SimulatedGateway(asio::io_context& io, lorawan::Eui64 id, Endpoint server, std::uint8_t version)
    : io_(io),
      id_(id),
      server_(server),
      version_(version),
      up_(open_socket(io, server)),
      down_(open_socket(io, server)),
      keepalive_timer_(io) {
    receive(up_, false);
    receive(down_, true);
}

lorawan::Bytes SimulatedGateway::header(std::uint8_t type, Token token) const {
    lorawan::Bytes out;
    out.reserve(12);
    lorawan::ByteWriter w{out};
    w.u8(version_);
    w.bytes(token);
    w.u8(type);
    w.bytes(id_.bytes());  // the EUI travels most significant byte first in GWMP
    return out;
}

Token SimulatedGateway::next_token() {
    ++token_counter_;
    return {static_cast<std::uint8_t>(token_counter_ >> 8), static_cast<std::uint8_t>(token_counter_)};
}

Token SimulatedGateway::pull() {
    const Token t = next_token();
    const lorawan::Bytes d = header(pull_data, t);
    down_.send_to(asio::buffer(d), server_);
    return t;
}

void SimulatedGateway::start_keepalive(std::chrono::milliseconds interval) {
    keepalive_interval_ = interval;
    pull();
    schedule_keepalive();
}

void SimulatedGateway::stop_keepalive() {
    keepalive_interval_ = std::chrono::milliseconds{0};
    keepalive_timer_.cancel();
}

void SimulatedGateway::schedule_keepalive() {
    keepalive_timer_.expires_after(keepalive_interval_);
    keepalive_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || keepalive_interval_.count() == 0) return;
        pull();
        schedule_keepalive();
    });
}

Token SimulatedGateway::push(const std::vector<Rxpk>& packets, const std::optional<nlohmann::json>& stat) {
    nlohmann::json body = nlohmann::json::object();
    if (!packets.empty()) {
        body["rxpk"] = nlohmann::json::array();
        for (const Rxpk& p : packets) body["rxpk"].push_back(p.to_json());
    }
    if (stat) body["stat"] = *stat;
    return push_json(body.dump());
}

Token SimulatedGateway::push_json(std::string_view json) {
    const Token t = next_token();
    lorawan::Bytes d = header(push_data, t);
    d.insert(d.end(), json.begin(), json.end());
    up_.send_to(asio::buffer(d), server_);
    return t;
}

void SimulatedGateway::send_raw(lorawan::ByteView datagram, bool from_down_socket) {
    (from_down_socket ? down_ : up_).send_to(asio::buffer(datagram.data(), datagram.size()), server_);
}

void SimulatedGateway::rebind_down_socket() {
    boost::system::error_code ignored;
    down_.close(ignored);
    down_ = open_socket(io_, server_);
    receive(down_, true);
}

void SimulatedGateway::answer_tx_ack(std::optional<std::string> error, bool with_json) {
    tx_ack_error_ = std::move(error);
    tx_ack_with_json_ = with_json;
}

void SimulatedGateway::answer_tx_acks_in_order(std::vector<std::string> errors) {
    queued_answers_.assign(errors.rbegin(), errors.rend());
}

void SimulatedGateway::receive(udp::socket& socket, bool down) {
    auto& buffer = down ? down_buffer_ : up_buffer_;
    auto& from = down ? down_from_ : up_from_;
    socket.async_receive_from(asio::buffer(buffer), from, [this, &socket, &buffer, down](const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) on_datagram(lorawan::ByteView{buffer.data(), n}, down);
        if (socket.is_open()) receive(socket, down);
    });
}

void SimulatedGateway::on_datagram(lorawan::ByteView data, bool down) {
    if (data.size() < 4) return;
    const Token token{data[1], data[2]};
    switch (data[3]) {
        case push_ack:
            push_acks.push_back(token);
            if (down) ++acks_on_wrong_socket;
            break;
        case pull_ack:
            pull_acks.push_back(token);
            if (!down) ++acks_on_wrong_socket;
            break;
        case pull_resp: {
            ReceivedDownlink dl;
            dl.token = token;
            dl.on_down_socket = down;
            const auto json = nlohmann::json::parse(data.begin() + 4, data.end(), nullptr, false);
            if (json.is_object() && json.contains("txpk")) {
                dl.txpk = json["txpk"];
                if (dl.txpk.contains("data") && dl.txpk["data"].is_string()) {
                    dl.phy_payload = common::base64_decode(dl.txpk["data"].get<std::string>()).value_or(lorawan::Bytes{});
                }
            }
            std::optional<std::string> answer = tx_ack_error_;
            bool with_json = tx_ack_with_json_;
            if (on_pull_resp) {
                answer = on_pull_resp(dl);
                with_json = true;
            } else {
                downlinks.push_back(std::move(dl));
            }
            if (!on_pull_resp && !queued_answers_.empty()) {
                answer = queued_answers_.back();
                queued_answers_.pop_back();
                with_json = true;
            }
            if (!answer || version_ < 2) break;  // v1 has no TX_ACK
            lorawan::Bytes ack = header(tx_ack, token);
            if (with_json) {
                const std::string body = nlohmann::json{{"txpk_ack", {{"error", answer->empty() ? "NONE" : *answer}}}}.dump();
                ack.insert(ack.end(), body.begin(), body.end());
            }
            down_.send_to(asio::buffer(ack), server_);
            break;
        }
        default: break;
    }
}

}  // namespace schwebe::sim
