#include "lorawan/phy_payload.hpp"

#include <algorithm>

namespace schwebe::lorawan {

namespace {
constexpr std::size_t mic_size = 4;
constexpr std::size_t mhdr_size = 1;
constexpr std::size_t fhdr_min_size = 7;  // DevAddr (4) + FCtrl (1) + FCnt (2)
constexpr std::size_t join_request_size = mhdr_size + 8 + 8 + 2 + mic_size;
constexpr std::size_t join_accept_size = mhdr_size + 16;
constexpr std::size_t join_accept_cf_list_size = mhdr_size + 32;

constexpr std::array<std::string_view, 8> m_type_names = {
    "join_request",        "join_accept", "unconfirmed_data_up", "unconfirmed_data_down", "confirmed_data_up",
    "confirmed_data_down", "rfu",         "proprietary",
};

Mic read_mic(ByteReader& r) {
    Mic mic{};
    const auto bytes = r.take(mic_size);
    if (bytes) std::copy(bytes->begin(), bytes->end(), mic.begin());
    return mic;
}

Result<PhyPayload> parse_data(Mhdr mhdr, ByteReader& r) {
    if (r.remaining() < fhdr_min_size + mic_size) return Error{Reject::malformed, "data frame shorter than 12 bytes"};
    DataFrame f;
    f.m_type = mhdr.m_type;
    f.dev_addr = DevAddr{*r.u32_le()};
    const std::uint8_t f_ctrl = *r.u8();
    f.f_ctrl = FCtrl::decode(f_ctrl, f.direction());
    f.f_cnt_16 = *r.u16_le();

    const std::size_t f_opts_len = f_ctrl & 0x0fU;
    if (r.remaining() < f_opts_len + mic_size) return Error{Reject::malformed, "FOptsLen exceeds the frame"};
    f.f_opts = *FOpts::from(*r.take(f_opts_len));

    // LoRaWAN 1.0.4 §4.3.2: FPort is present whenever anything lies between FHDR and MIC.
    if (r.remaining() > mic_size) {
        f.f_port = *r.u8();
        const ByteView payload = *r.take(r.remaining() - mic_size);
        f.frm_payload.assign(payload.begin(), payload.end());
    }
    f.mic = read_mic(r);

    // LoRaWAN 1.0.4 §4.3.1.6: MAC commands are either in FOpts or in an FPort 0 FRMPayload, never both.
    if (f.f_port == 0 && !f.f_opts.empty()) return Error{Reject::fport0_with_fopts, "FPort 0 with non-empty FOpts"};
    return PhyPayload{mhdr, std::move(f)};
}

Result<PhyPayload> parse_join_request(Mhdr mhdr, ByteReader& r) {
    if (r.remaining() + mhdr_size != join_request_size) return Error{Reject::malformed, "join-request is not 23 bytes"};
    JoinRequest j;
    j.join_eui = Eui64{*r.reversed<8>()};
    j.dev_eui = Eui64{*r.reversed<8>()};
    j.dev_nonce = *r.u16_le();
    j.mic = read_mic(r);
    return PhyPayload{mhdr, j};
}

Result<PhyPayload> parse_join_accept(Mhdr mhdr, ByteReader& r) {
    const std::size_t total = r.remaining() + mhdr_size;
    if (total != join_accept_size && total != join_accept_cf_list_size) {
        return Error{Reject::malformed, "join-accept is neither 17 nor 33 bytes"};
    }
    const ByteView rest = r.rest();
    return PhyPayload{mhdr, EncryptedJoinAccept{Bytes(rest.begin(), rest.end())}};
}
}  // namespace

std::string_view to_string(MType m) noexcept {
    return m_type_names[static_cast<std::size_t>(m) & 7U];
}

std::optional<MType> m_type_from_string(std::string_view s) noexcept {
    for (std::size_t i = 0; i < m_type_names.size(); ++i) {
        if (m_type_names[i] == s) return static_cast<MType>(i);
    }
    return std::nullopt;
}

std::uint8_t FCtrl::encode(Direction dir, std::uint8_t f_opts_len) const noexcept {
    std::uint8_t b = f_opts_len & 0x0fU;
    if (adr) b |= 0x80U;
    if (ack) b |= 0x20U;
    if (dir == Direction::uplink) {
        if (adr_ack_req) b |= 0x40U;
        if (class_b) b |= 0x10U;
    } else if (f_pending) {
        b |= 0x10U;
    }
    return b;
}

FCtrl FCtrl::decode(std::uint8_t b, Direction dir) noexcept {
    FCtrl f;
    f.adr = (b & 0x80U) != 0;
    f.ack = (b & 0x20U) != 0;
    if (dir == Direction::uplink) {
        f.adr_ack_req = (b & 0x40U) != 0;
        f.class_b = (b & 0x10U) != 0;
    } else {
        f.f_pending = (b & 0x10U) != 0;
    }
    return f;
}

std::optional<FOpts> FOpts::from(ByteView bytes) noexcept {
    if (bytes.size() > max_size) return std::nullopt;
    FOpts f;
    std::copy(bytes.begin(), bytes.end(), f.bytes_.begin());
    f.size_ = static_cast<std::uint8_t>(bytes.size());
    return f;
}

bool FOpts::operator==(const FOpts& o) const noexcept {
    return std::equal(view().begin(), view().end(), o.view().begin(), o.view().end());
}

Result<PhyPayload> parse_phy_payload(ByteView phy) {
    ByteReader r{phy};
    const auto mhdr_byte = r.u8();
    if (!mhdr_byte) return Error{Reject::malformed, "empty PHYPayload"};
    const Mhdr mhdr = Mhdr::decode(*mhdr_byte);
    if (mhdr.major != major_lorawan_r1) return Error{Reject::unsupported_major_version, "MHDR Major is not LoRaWAN R1"};

    switch (mhdr.m_type) {
        case MType::join_request: return parse_join_request(mhdr, r);
        case MType::join_accept: return parse_join_accept(mhdr, r);
        case MType::unconfirmed_data_up:
        case MType::unconfirmed_data_down:
        case MType::confirmed_data_up:
        case MType::confirmed_data_down: return parse_data(mhdr, r);
        case MType::proprietary: {
            const ByteView rest = r.rest();
            return PhyPayload{mhdr, Proprietary{Bytes(rest.begin(), rest.end())}};
        }
        case MType::rfu: break;
    }
    return Error{Reject::malformed, "MType 6 is reserved in LoRaWAN 1.0.x"};
}

Result<Bytes> serialize(const DataFrame& f) {
    if (!is_data(f.m_type)) return Error{Reject::field_out_of_range, "not a data MType"};
    if (!f.frm_payload.empty() && !f.f_port) return Error{Reject::field_out_of_range, "FRMPayload without FPort"};
    Bytes out;
    out.reserve(mhdr_size + fhdr_min_size + f.f_opts.size() + 1 + f.frm_payload.size() + mic_size);
    ByteWriter w{out};
    w.u8(Mhdr{f.m_type, major_lorawan_r1}.encode());
    w.u32_le(f.dev_addr.value());
    w.u8(f.f_ctrl.encode(f.direction(), static_cast<std::uint8_t>(f.f_opts.size())));
    w.u16_le(f.f_cnt_16);
    w.bytes(f.f_opts.view());
    if (f.f_port) {
        w.u8(*f.f_port);
        w.bytes(f.frm_payload);
    }
    w.bytes(f.mic);
    return out;
}

Bytes serialize(const JoinRequest& j) {
    Bytes out;
    out.reserve(join_request_size);
    ByteWriter w{out};
    w.u8(Mhdr{MType::join_request, major_lorawan_r1}.encode());
    w.reversed(j.join_eui.bytes());
    w.reversed(j.dev_eui.bytes());
    w.u16_le(j.dev_nonce);
    w.bytes(j.mic);
    return out;
}

Bytes serialize(const EncryptedJoinAccept& a) {
    Bytes out;
    out.reserve(mhdr_size + a.ciphertext.size());
    ByteWriter w{out};
    w.u8(Mhdr{MType::join_accept, major_lorawan_r1}.encode());
    w.bytes(a.ciphertext);
    return out;
}

Bytes serialize(const Proprietary& p) {
    Bytes out;
    out.reserve(mhdr_size + p.payload.size());
    ByteWriter w{out};
    w.u8(Mhdr{MType::proprietary, major_lorawan_r1}.encode());
    w.bytes(p.payload);
    return out;
}

Result<Ok> require_uplink(MType m) noexcept {
    switch (m) {
        case MType::join_request:
        case MType::unconfirmed_data_up:
        case MType::confirmed_data_up: return Ok{};
        case MType::proprietary:
            return Error{Reject::proprietary_mtype_not_supported, "proprietary frames are not processed"};
        case MType::rfu: return Error{Reject::malformed, "MType 6 is reserved in LoRaWAN 1.0.x"};
        case MType::join_accept:
        case MType::unconfirmed_data_down:
        case MType::confirmed_data_down: break;
    }
    return Error{Reject::downlink_mtype_received_on_uplink, "a downlink MType arrived as an uplink"};
}

}  // namespace schwebe::lorawan
