#include "lorawan/join.hpp"

#include <algorithm>

namespace schwebe::lorawan {

namespace {
constexpr std::uint8_t cf_list_type_frequencies = 0x00;
constexpr std::uint32_t freq_unit_hz = 100;
constexpr std::size_t plain_size = 17;
constexpr std::size_t plain_cf_list_size = 33;

/// The signed fields of a join-accept: MHDR through CFList, without the MIC.
Result<Bytes> signed_part(const JoinAccept& a) {
    if (a.join_nonce > 0xffffffU) return Error{Reject::field_out_of_range, "JoinNonce above 24 bits"};
    if (a.dl_settings.rx1_dr_offset > 7 || a.dl_settings.rx2_dr > 15) {
        return Error{Reject::field_out_of_range, "DLSettings out of range"};
    }
    if (a.rx_delay > 15) return Error{Reject::field_out_of_range, "RxDelay above 15"};
    Bytes out;
    out.reserve(plain_cf_list_size);
    ByteWriter w{out};
    w.u8(Mhdr{MType::join_accept, major_lorawan_r1}.encode());
    w.u24_le(a.join_nonce);
    w.u24_le(a.net_id.value());
    w.u32_le(a.dev_addr.value());
    w.u8(a.dl_settings.encode());
    w.u8(a.rx_delay);
    if (a.cf_list) {
        for (const std::uint32_t hz : a.cf_list->frequencies) {
            if (hz % freq_unit_hz != 0 || hz / freq_unit_hz > 0xffffffU) {
                return Error{Reject::field_out_of_range, "CFList frequency not a multiple of 100 Hz below 1.68 GHz"};
            }
            w.u24_le(hz / freq_unit_hz);
        }
        w.u8(cf_list_type_frequencies);
    }
    return out;
}
}  // namespace

Result<Bytes> serialize_plain(const JoinAccept& accept) {
    auto out = signed_part(accept);
    if (!out) return out;
    out->insert(out->end(), accept.mic.begin(), accept.mic.end());
    return out;
}

Result<JoinAccept> parse_join_accept_plain(ByteView plain) {
    if (plain.size() != plain_size && plain.size() != plain_cf_list_size) {
        return Error{Reject::malformed, "join-accept is neither 17 nor 33 bytes"};
    }
    ByteReader r{plain};
    const Mhdr mhdr = Mhdr::decode(*r.u8());
    if (mhdr.m_type != MType::join_accept) return Error{Reject::malformed, "MType is not join-accept"};
    if (mhdr.major != major_lorawan_r1) return Error{Reject::unsupported_major_version, "MHDR Major is not LoRaWAN R1"};
    JoinAccept a;
    a.join_nonce = *r.u24_le();
    a.net_id = NetId{*r.u24_le()};
    a.dev_addr = DevAddr{*r.u32_le()};
    a.dl_settings = DlSettings::decode(*r.u8());
    a.rx_delay = *r.u8() & 0x0fU;
    if (plain.size() == plain_cf_list_size) {
        CfList cf;
        for (std::uint32_t& hz : cf.frequencies) hz = *r.u24_le() * freq_unit_hz;
        if (*r.u8() != cf_list_type_frequencies) {
            return Error{Reject::malformed, "CFList type other than 0 (frequencies) is not supported"};
        }
        a.cf_list = cf;
    }
    const ByteView mic = *r.take(4);
    std::copy(mic.begin(), mic.end(), a.mic.begin());
    return a;
}

JoinCrypto::JoinCrypto(const AppKey& app_key) : cmac_(app_key.bytes()) {}

Mic JoinCrypto::join_request_mic(const JoinRequest& request) {
    const Bytes phy = serialize(request);
    return cmac_.mic({ByteView{phy}.first(phy.size() - 4)});
}

Result<Ok> JoinCrypto::verify_join_request(const JoinRequest& request) {
    if (!constant_time_equal(join_request_mic(request), request.mic)) {
        return Error{Reject::mic_mismatch, "join-request MIC does not verify under the AppKey"};
    }
    return Ok{};
}

Mic JoinCrypto::join_accept_mic(const JoinAccept& accept) {
    const auto fields = signed_part(accept);
    if (!fields) return Mic{};
    return cmac_.mic({ByteView{*fields}});
}

Result<Bytes> JoinCrypto::build_join_accept(JoinAccept accept) {
    auto phy = signed_part(accept);
    if (!phy) return phy;
    accept.mic = cmac_.mic({ByteView{*phy}});
    phy->insert(phy->end(), accept.mic.begin(), accept.mic.end());
    // LoRaWAN 1.0.4 §6.2.3: the network uses the AES decrypt operation so the device only needs AES encrypt.
    std::uint8_t* body = phy->data() + 1;
    cmac_.aes().decrypt(body, body, (phy->size() - 1) / 16);
    return phy;
}

std::optional<Bytes> JoinCrypto::decrypt_raw(const EncryptedJoinAccept& accept) {
    if (accept.ciphertext.size() != 16 && accept.ciphertext.size() != 32) return std::nullopt;
    Bytes plain;
    plain.reserve(1 + accept.ciphertext.size());
    plain.push_back(Mhdr{MType::join_accept, major_lorawan_r1}.encode());
    plain.insert(plain.end(), accept.ciphertext.begin(), accept.ciphertext.end());
    cmac_.aes().encrypt(plain.data() + 1, plain.data() + 1, accept.ciphertext.size() / 16);
    return plain;
}

Result<JoinAccept> JoinCrypto::open_join_accept(const EncryptedJoinAccept& accept) {
    const auto plain = decrypt_raw(accept);
    if (!plain) return Error{Reject::malformed, "join-accept ciphertext is neither 16 nor 32 bytes"};
    // The MIC covers the bytes as sent, RFU bits included; it is checked first because under a wrong key the
    // fields are noise.
    const Mic expected = cmac_.mic({ByteView{*plain}.first(plain->size() - 4)});
    if (!constant_time_equal(expected, ByteView{*plain}.last(4))) {
        return Error{Reject::mic_mismatch, "join-accept MIC does not verify under the AppKey"};
    }
    return parse_join_accept_plain(*plain);
}

SessionKeys JoinCrypto::derive_session_keys(std::uint32_t join_nonce, NetId net_id, std::uint16_t dev_nonce) {
    auto derive = [&](std::uint8_t tag) {
        Block in{};
        in[0] = tag;
        put_u24_le(&in[1], join_nonce);
        put_u24_le(&in[4], net_id.value());
        put_u16_le(&in[7], dev_nonce);
        return cmac_.aes().encrypt(in);
    };
    return SessionKeys{NwkSKey{derive(0x01)}, AppSKey{derive(0x02)}};
}

}  // namespace schwebe::lorawan
