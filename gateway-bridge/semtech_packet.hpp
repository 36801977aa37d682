#pragma once
// The Semtech UDP packet-forwarder protocol (GWMP v1/v2), pure: datagrams in, values out, and back. No sockets.
// Reference: shared/reference/semtech-udp.md (PROTOCOL.TXT rev 1.4 and lora_pkt_fwd v4.0.1).
//
//   | version (1) | token (2) | identifier (1) | gateway EUI (8, MSB first; gateway → server only) | JSON … |
//
// Parsers never throw and never read past the end. A datagram-level problem refuses the datagram with one reason;
// a problem in one rxpk refuses only that rxpk (the others of the datagram are kept).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/messages.hpp"
#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"

namespace schwebe::bridge {

using lorawan::ByteView;
using lorawan::Bytes;
using lorawan::Eui64;

enum class PacketType : std::uint8_t {
    push_data = 0x00,
    push_ack = 0x01,
    pull_data = 0x02,
    pull_resp = 0x03,
    pull_ack = 0x04,
    tx_ack = 0x05,
};

/// Why a datagram or an rxpk was refused; each is a metric label (`to_string`).
enum class PacketError : std::uint8_t {
    too_short,            ///< under 4 bytes, or a gateway→server message under 12
    unsupported_version,  ///< version byte other than 1 or 2
    unknown_identifier,   ///< identifier byte not one of the six
    unexpected_direction, ///< a server→gateway identifier (PUSH_ACK, PULL_RESP, PULL_ACK) sent to the server
    too_large,            ///< above max_datagram_size
    invalid_json,         ///< not JSON, or not an object at the root
    wrong_json_type,      ///< a known field of the wrong JSON type (e.g. "freq":"868.1"), or a required one missing
    invalid_base64,       ///< rxpk.data is not base64
    size_mismatch,        ///< rxpk.size disagrees with the decoded data
    crc_not_ok,           ///< rxpk.stat other than 1: dropped, as every server must
    invalid_datarate,     ///< datr not "SF{7..12}BW{125,250,500}" for LoRa, nor a number for FSK
    invalid_modulation,   ///< modu other than "LORA" / "FSK"
};
[[nodiscard]] std::string_view to_string(PacketError e) noexcept;

/// The largest datagram the server accepts. lora_pkt_fwd's own buffer is 4096 + header; bigger is abuse.
inline constexpr std::size_t max_datagram_size = 65'507;

using Token = std::array<std::uint8_t, 2>;

struct Header {
    std::uint8_t version = 2;
    Token token{};
    PacketType type = PacketType::push_data;
    std::optional<Eui64> gateway_id;  ///< PUSH_DATA, PULL_DATA, TX_ACK
    ByteView json;                    ///< everything after the header (may be empty)
};

/// Splits a datagram received by the server. Refuses too_short, too_large, unsupported_version,
/// unknown_identifier, unexpected_direction.
[[nodiscard]] lorawan::Result<Header, PacketError> parse_header(ByteView datagram) noexcept;

/// PUSH_ACK or PULL_ACK: the 4-byte answer with the request's version and token.
[[nodiscard]] std::array<std::uint8_t, 4> make_ack(const Header& request) noexcept;

/// One received packet (an rxpk entry), with the reception of each antenna: the `rsig` form yields one
/// RxInfo per entry, the plain form one.
struct RxPacket {
    common::UplinkFrame frame;                  ///< phy_payload, tx_info, and rx_info of the first antenna
    std::vector<common::RxInfo> more_antennas;  ///< rx_info of further `rsig` entries (same payload)
};

struct RejectedRxPacket {
    std::size_t index = 0;  ///< position in the rxpk array
    PacketError reason = PacketError::wrong_json_type;
};

/// Semtech `stat` object; fields the gateway omits are absent.
struct Stat {
    std::optional<std::string> time;  ///< as sent ("2014-01-12 08:59:28 GMT" or ISO 8601)
    std::optional<common::Location> location;  ///< when lati and long are present (alti optional)
    std::optional<std::uint32_t> rxnb, rxok, rxfw, dwnb, txnb;
    std::optional<double> ackr;
};

struct PushData {
    std::vector<RxPacket> rxpk;
    std::vector<RejectedRxPacket> rejected;
    std::optional<Stat> stat;
};

/// Parses PUSH_DATA JSON ({"rxpk":[…], "stat":{…}}, either optional, unknown fields ignored). Keeps its buffers
/// between calls, so parsing allocates only the values it returns. `gateway_id` and `received_at` are copied into
/// each RxInfo; each RxInfo's `uplink_id` is `++uplink_id_counter`. Refuses the datagram only for invalid_json /
/// wrong_json_type at the root; each rxpk stands or falls on its own.
class PushDataParser {
public:
    PushDataParser();
    ~PushDataParser();
    PushDataParser(const PushDataParser&) = delete;
    PushDataParser& operator=(const PushDataParser&) = delete;

    [[nodiscard]] lorawan::Result<PushData, PacketError> parse(ByteView json, const Eui64& gateway_id,
                                                               common::SystemTime received_at,
                                                               std::uint32_t& uplink_id_counter);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// TX_ACK JSON: empty (lora_pkt_fwd v4 when all is well), {"txpk_ack":{"error":"NONE"}}, or an error name. Unknown
/// fields and unknown error names are tolerated: an unknown error counts as internal_error. Refuses invalid_json /
/// wrong_json_type only for JSON that is present and broken.
[[nodiscard]] lorawan::Result<common::TxAckStatus, PacketError> parse_tx_ack(ByteView json);

/// Builds a PULL_RESP datagram for one downlink item: header (version, token, 0x03) and {"txpk":{…}} with imme /
/// tmst (context + delay, modulo 2^32) / tmms, freq (MHz), rfch, powe, modu, datr, codr (LoRa) or fdev (FSK),
/// ipol, size, data (base64).
[[nodiscard]] Bytes make_pull_resp(std::uint8_t version, Token token, const common::DownlinkItem& item);

}  // namespace schwebe::bridge
