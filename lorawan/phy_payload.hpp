#pragma once
/// PHYPayload of LoRaWAN 1.0.x: parse and serialize every MType (LoRaWAN 1.0.4 §4).
///
///   PHYPayload:  | MHDR (1) | MACPayload / JoinRequest / JoinAccept (n) | MIC (4) |
///   MHDR:        | MType (bits 7..5) | RFU (4..2) | Major (1..0) |
///   MACPayload:  | FHDR (7..22) | FPort (0..1) | FRMPayload (0..N) |
///   FHDR:        | DevAddr (4) | FCtrl (1) | FCnt (2) | FOpts (0..15) |
///
/// Parsers never throw and never read past the end; each refusal names its reason. Parsing checks structure only;
/// MIC, counters and decryption need a session (session.hpp, join.hpp).

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "lorawan/bytes.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"

namespace schwebe::lorawan {

enum class MType : std::uint8_t {
    join_request = 0,
    join_accept = 1,
    unconfirmed_data_up = 2,
    unconfirmed_data_down = 3,
    confirmed_data_up = 4,
    confirmed_data_down = 5,
    rfu = 6,  ///< Rejoin-request in LoRaWAN 1.1; reserved in 1.0.x
    proprietary = 7,
};

[[nodiscard]] std::string_view to_string(MType m) noexcept;
[[nodiscard]] std::optional<MType> m_type_from_string(std::string_view s) noexcept;
[[nodiscard]] constexpr bool is_data(MType m) noexcept {
    return m >= MType::unconfirmed_data_up && m <= MType::confirmed_data_down;
}
[[nodiscard]] constexpr Direction direction_of(MType m) noexcept {
    return (m == MType::join_accept || m == MType::unconfirmed_data_down || m == MType::confirmed_data_down)
               ? Direction::downlink
               : Direction::uplink;
}

/// LoRaWAN R1, the only major version of 1.0.x and 1.1.
inline constexpr std::uint8_t major_lorawan_r1 = 0;

struct Mhdr {
    MType m_type = MType::unconfirmed_data_up;
    std::uint8_t major = major_lorawan_r1;

    [[nodiscard]] std::uint8_t encode() const noexcept {
        return static_cast<std::uint8_t>((static_cast<unsigned>(m_type) << 5) | (major & 0x03U));
    }
    [[nodiscard]] static Mhdr decode(std::uint8_t b) noexcept {
        return {static_cast<MType>(b >> 5), static_cast<std::uint8_t>(b & 0x03U)};
    }
    bool operator==(const Mhdr&) const = default;
};

/// Frame control. Bit 6 and bit 4 mean different things per direction (LoRaWAN 1.0.4 §4.3.1):
///   uplink:   | ADR | ADRACKReq | ACK | ClassB   | FOptsLen (4) |
///   downlink: | ADR | RFU       | ACK | FPending | FOptsLen (4) |
struct FCtrl {
    bool adr = false;
    bool adr_ack_req = false;  ///< uplink only
    bool ack = false;
    bool f_pending = false;  ///< downlink only
    bool class_b = false;    ///< uplink only

    [[nodiscard]] std::uint8_t encode(Direction dir, std::uint8_t f_opts_len) const noexcept;
    [[nodiscard]] static FCtrl decode(std::uint8_t b, Direction dir) noexcept;
    bool operator==(const FCtrl&) const = default;
};

/// At most 15 bytes of MAC commands piggy-backed in the frame header; kept inline, no allocation.
class FOpts {
public:
    static constexpr std::size_t max_size = 15;

    FOpts() = default;
    /// nullopt when `bytes` is longer than 15.
    static std::optional<FOpts> from(ByteView bytes) noexcept;

    [[nodiscard]] ByteView view() const noexcept { return {bytes_.data(), size_}; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    bool operator==(const FOpts& o) const noexcept;

private:
    std::array<std::uint8_t, max_size> bytes_{};
    std::uint8_t size_ = 0;
};

/// Data up or down (MType 2..5). `frm_payload` holds whatever the context says: ciphertext after parsing, plaintext
/// before build_data_frame() encrypts it.
struct DataFrame {
    MType m_type = MType::unconfirmed_data_up;
    DevAddr dev_addr;
    FCtrl f_ctrl;
    std::uint16_t f_cnt_16 = 0;  ///< the 16 bits on the air; the session reconstructs 32
    FOpts f_opts;
    std::optional<std::uint8_t> f_port;
    Bytes frm_payload;
    Mic mic{};

    [[nodiscard]] Direction direction() const noexcept { return direction_of(m_type); }
    [[nodiscard]] bool confirmed() const noexcept {
        return m_type == MType::confirmed_data_up || m_type == MType::confirmed_data_down;
    }
    bool operator==(const DataFrame&) const = default;
};

/// Join-request (LoRaWAN 1.0.4 §6.2.2): | JoinEUI (8) | DevEUI (8) | DevNonce (2) | MIC |.
struct JoinRequest {
    Eui64 join_eui;
    Eui64 dev_eui;
    std::uint16_t dev_nonce = 0;
    Mic mic{};
    bool operator==(const JoinRequest&) const = default;
};

/// A join-accept as it travels: everything after the MHDR (fields and MIC) is encrypted with AppKey.
struct EncryptedJoinAccept {
    Bytes ciphertext;  ///< 16 bytes, or 32 with a CFList
    bool operator==(const EncryptedJoinAccept&) const = default;
};

/// MType 7: the format is the vendor's; Schwebe recognises it and hands the bytes on untouched.
struct Proprietary {
    Bytes payload;  ///< everything after the MHDR
    bool operator==(const Proprietary&) const = default;
};

struct PhyPayload {
    Mhdr mhdr;
    std::variant<DataFrame, JoinRequest, EncryptedJoinAccept, Proprietary> body;
};

/// Parses any PHYPayload. Refuses: `malformed` (length, RFU MType), `unsupported_major_version`,
/// `fport0_with_fopts`.
[[nodiscard]] Result<PhyPayload> parse_phy_payload(ByteView phy);

/// Serializes a data frame as it stands (MIC and FRMPayload taken as given). Refuses `field_out_of_range` for an
/// FRMPayload without FPort or a non-data MType.
[[nodiscard]] Result<Bytes> serialize(const DataFrame& frame);
[[nodiscard]] Bytes serialize(const JoinRequest& request);
[[nodiscard]] Bytes serialize(const EncryptedJoinAccept& accept);
[[nodiscard]] Bytes serialize(const Proprietary& frame);

/// The uplink gate of a network server: only join-requests and data-up frames pass.
[[nodiscard]] Result<Ok> require_uplink(MType m) noexcept;

}  // namespace schwebe::lorawan
