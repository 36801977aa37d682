#pragma once
/// A device session's cryptography, kept ready between frames: the AES key schedules of NwkSKey and AppSKey and
/// the CMAC subkeys of NwkSKey are computed once, so a frame costs only its AES blocks.
///
/// Data-frame MIC (LoRaWAN 1.0.4 §4.4), with B0:
///   | 0x49 | 0x00 x4 | Dir | DevAddr (4, LE) | FCnt (4, LE) | 0x00 | len(msg) |,  msg = MHDR | FHDR | FPort |
///   FRMPayload
/// FRMPayload encryption (§4.3.3), keystream blocks A_i, i = 1..k:
///   | 0x01 | 0x00 x4 | Dir | DevAddr (4, LE) | FCnt (4, LE) | 0x00 | i |

#include <cstdint>
#include <optional>

#include "lorawan/bytes.hpp"
#include "lorawan/crypto.hpp"
#include "lorawan/fcnt.hpp"
#include "lorawan/phy_payload.hpp"
#include "lorawan/result.hpp"
#include "lorawan/types.hpp"

namespace schwebe::lorawan {

class SessionCrypto {
public:
    SessionCrypto(const NwkSKey& nwk_s_key, const AppSKey& app_s_key);

    /// MIC of a data frame; `msg` is the PHYPayload without its MIC.
    [[nodiscard]] Mic data_mic(Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, ByteView msg);
    /// Constant-time comparison of the frame's MIC with the one computed under `f_cnt`.
    [[nodiscard]] bool verify_data_mic(Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, ByteView msg,
                                       const Mic& mic);

    /// Encrypts or decrypts (the same operation) an FRMPayload into `out` (same size as `in`, may alias it): with
    /// NwkSKey for FPort 0, AppSKey otherwise.
    void crypt_frm_payload(std::uint8_t f_port, Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, ByteView in,
                           std::uint8_t* out);
    [[nodiscard]] Bytes crypt_frm_payload(std::uint8_t f_port, Direction dir, DevAddr dev_addr, std::uint32_t f_cnt,
                                          ByteView in);

private:
    AesCmac nwk_;  // its AES engine also serves FPort 0 payloads
    Aes128 app_;
};

/// What a verified data uplink tells the network server about its counter.
struct VerifiedUplink {
    std::uint32_t f_cnt = 0;     ///< the 32-bit counter the MIC verified under
    bool counter_reset = false;  ///< relaxed mode only: the MIC verified under the 16-bit value, below the last
};

/// The authentication steps of a data uplink for one candidate session, in the order the specification implies:
/// reconstruct the 32-bit counter → check the MIC under it → refuse the same counter again → (relaxed mode) try the
/// 16-bit value as a counter reset. `phy` is the whole PHYPayload the frame was parsed from. Refuses
/// `mic_mismatch`, `fcnt_duplicate` or `fcnt_exhausted`; state is the caller's, nothing changes here.
[[nodiscard]] Result<VerifiedUplink> verify_data_uplink(SessionCrypto& session, const DataFrame& frame, ByteView phy,
                                                        std::optional<std::uint32_t> last_f_cnt_up,
                                                        FCntMode mode = FCntMode::strict);

/// Encrypts `frame.frm_payload` (plaintext) under `f_cnt`, sets the 16 counter bits and the MIC, and serializes.
[[nodiscard]] Result<Bytes> build_data_frame(SessionCrypto& session, DataFrame frame, std::uint32_t f_cnt);

}  // namespace schwebe::lorawan
