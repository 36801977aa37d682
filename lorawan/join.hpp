#pragma once
/// Over-the-air activation of LoRaWAN 1.0.x (LoRaWAN 1.0.4 §6.2).
///
///   join-request MIC = aes128_cmac(AppKey, MHDR | JoinEUI | DevEUI | DevNonce)[0..3]
///   join-accept:       | JoinNonce (3) | NetID (3) | DevAddr (4) | DLSettings (1) | RxDelay (1) | CFList (0|16) |
///   join-accept MIC  = aes128_cmac(AppKey, MHDR | JoinNonce | NetID | DevAddr | DLSettings | RxDelay | CFList)[0..3]
///   on the air:        MHDR | aes128_decrypt(AppKey, JoinNonce … CFList | MIC)   (the device encrypts to read it)
///   NwkSKey          = aes128_encrypt(AppKey, 0x01 | JoinNonce | NetID | DevNonce | pad16)
///   AppSKey          = aes128_encrypt(AppKey, 0x02 | JoinNonce | NetID | DevNonce | pad16)

#include <array>
#include <cstdint>
#include <optional>

#include "lorawan/bytes.hpp"
#include "lorawan/crypto.hpp"
#include "lorawan/phy_payload.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"

namespace schwebe::lorawan {

/// | RFU (7) | RX1DROffset (6..4) | RX2DataRate (3..0) |.
struct DlSettings {
    std::uint8_t rx1_dr_offset = 0;  ///< 0..7
    std::uint8_t rx2_dr = 0;         ///< 0..15
    [[nodiscard]] std::uint8_t encode() const noexcept {
        return static_cast<std::uint8_t>(((rx1_dr_offset & 0x07U) << 4) | (rx2_dr & 0x0fU));
    }
    [[nodiscard]] static DlSettings decode(std::uint8_t b) noexcept {
        return {static_cast<std::uint8_t>((b >> 4) & 0x07U), static_cast<std::uint8_t>(b & 0x0fU)};
    }
    bool operator==(const DlSettings&) const = default;
};

/// CFList of type 0 (RP002 §2.4.4 for EU868): five extra channel frequencies in Hz (0: no channel), then the
/// CFListType byte 0x00.
struct CfList {
    std::array<std::uint32_t, 5> frequencies{};
    bool operator==(const CfList&) const = default;
};

/// A join-accept in clear.
struct JoinAccept {
    std::uint32_t join_nonce = 0;  ///< 24 bits (AppNonce in LoRaWAN 1.0.2)
    NetId net_id;
    DevAddr dev_addr;
    DlSettings dl_settings;
    std::uint8_t rx_delay = 1;  ///< seconds; 0 on the air also means 1
    std::optional<CfList> cf_list;
    Mic mic{};
    bool operator==(const JoinAccept&) const = default;
};

/// The plain join-accept, MHDR included and MIC as given. Refuses `field_out_of_range` for a JoinNonce above 24
/// bits, a field above its bit width, or a CFList frequency that is not a multiple of 100 Hz.
[[nodiscard]] Result<Bytes> serialize_plain(const JoinAccept& accept);
/// Parses the plain join-accept (MHDR included). Refuses `malformed` for a length other than 17/33 or a CFList type
/// other than 0.
[[nodiscard]] Result<JoinAccept> parse_join_accept_plain(ByteView plain);

struct SessionKeys {
    NwkSKey nwk_s_key;
    AppSKey app_s_key;
};

/// Everything OTAA does with one AppKey, with its AES and CMAC state kept between uses.
class JoinCrypto {
public:
    explicit JoinCrypto(const AppKey& app_key);

    [[nodiscard]] Mic join_request_mic(const JoinRequest& request);
    /// Refuses `mic_mismatch`.
    [[nodiscard]] Result<Ok> verify_join_request(const JoinRequest& request);

    [[nodiscard]] Mic join_accept_mic(const JoinAccept& accept);
    /// Computes the MIC and encrypts: the complete PHYPayload a network server sends.
    [[nodiscard]] Result<Bytes> build_join_accept(JoinAccept accept);
    /// The device's side: decrypts, parses and checks the MIC. Refuses `malformed` or `mic_mismatch`.
    [[nodiscard]] Result<JoinAccept> open_join_accept(const EncryptedJoinAccept& accept);

    [[nodiscard]] SessionKeys derive_session_keys(std::uint32_t join_nonce, NetId net_id, std::uint16_t dev_nonce);

private:
    std::optional<Bytes> decrypt_raw(const EncryptedJoinAccept& accept);

    AesCmac cmac_;  // its AES engine does the key derivation and the join-accept ciphering too
};

}  // namespace schwebe::lorawan
