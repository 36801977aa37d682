#include "lorawan/session.hpp"

#include <algorithm>

namespace schwebe::lorawan {

namespace {
/// The part shared by B0 and A_i: | 0x00 x4 | Dir | DevAddr (4, LE) | FCnt (4, LE) | 0x00 | at offsets 1..14.
void fill_block(Block& b, std::uint8_t tag, Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, std::uint8_t last) {
    b[0] = tag;
    b[1] = b[2] = b[3] = b[4] = 0;
    b[5] = static_cast<std::uint8_t>(dir);
    put_u32_le(&b[6], dev_addr.value());
    put_u32_le(&b[10], f_cnt);
    b[14] = 0;
    b[15] = last;
}

constexpr std::uint8_t b0_tag = 0x49;
constexpr std::uint8_t a_tag = 0x01;
}  // namespace

SessionCrypto::SessionCrypto(const NwkSKey& nwk_s_key, const AppSKey& app_s_key)
    : nwk_(nwk_s_key.bytes()), app_(app_s_key.bytes()) {}

Mic SessionCrypto::data_mic(Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, ByteView msg) {
    Block b0;
    fill_block(b0, b0_tag, dir, dev_addr, f_cnt, static_cast<std::uint8_t>(msg.size()));
    return nwk_.mic({ByteView{b0}, msg});
}

bool SessionCrypto::verify_data_mic(Direction dir, DevAddr dev_addr, std::uint32_t f_cnt, ByteView msg,
                                    const Mic& mic) {
    const Mic expected = data_mic(dir, dev_addr, f_cnt, msg);
    return constant_time_equal(expected, mic);
}

void SessionCrypto::crypt_frm_payload(std::uint8_t f_port, Direction dir, DevAddr dev_addr, std::uint32_t f_cnt,
                                      ByteView in, std::uint8_t* out) {
    Aes128& aes = f_port == 0 ? nwk_.aes() : app_;
    // Keystream in batches of up to 16 blocks (256 bytes, more than any LoRa frame) per AES call.
    constexpr std::size_t batch_blocks = 16;
    std::array<std::uint8_t, batch_blocks * 16> stream{};
    std::size_t done = 0;
    std::uint32_t block_index = 1;
    while (done < in.size()) {
        const std::size_t chunk = std::min(in.size() - done, stream.size());
        const std::size_t blocks = (chunk + 15) / 16;
        for (std::size_t i = 0; i < blocks; ++i, ++block_index) {
            Block a;
            fill_block(a, a_tag, dir, dev_addr, f_cnt, static_cast<std::uint8_t>(block_index));
            std::copy(a.begin(), a.end(), stream.begin() + static_cast<std::ptrdiff_t>(i * 16));
        }
        aes.encrypt(stream.data(), stream.data(), blocks);
        for (std::size_t i = 0; i < chunk; ++i) out[done + i] = in[done + i] ^ stream[i];
        done += chunk;
    }
}

Bytes SessionCrypto::crypt_frm_payload(std::uint8_t f_port, Direction dir, DevAddr dev_addr, std::uint32_t f_cnt,
                                       ByteView in) {
    Bytes out(in.size());
    crypt_frm_payload(f_port, dir, dev_addr, f_cnt, in, out.data());
    return out;
}

Result<VerifiedUplink> verify_data_uplink(SessionCrypto& session, const DataFrame& frame, ByteView phy,
                                          std::optional<std::uint32_t> last_f_cnt_up, FCntMode mode) {
    if (phy.size() < 4) return Error{Reject::malformed, "PHYPayload shorter than its MIC"};
    const ByteView msg = phy.first(phy.size() - 4);
    const auto f_cnt = reconstruct_f_cnt(frame.f_cnt_16, last_f_cnt_up);

    if (f_cnt && session.verify_data_mic(Direction::uplink, frame.dev_addr, *f_cnt, msg, frame.mic)) {
        if (last_f_cnt_up && *f_cnt == *last_f_cnt_up) {
            return Error{Reject::fcnt_duplicate, "frame counter equals the last accepted one"};
        }
        return VerifiedUplink{*f_cnt, false};
    }
    // A device that restarted counts from 0 again: only its 16-bit value verifies the MIC.
    const bool reset_is_new_candidate = !f_cnt || *f_cnt != frame.f_cnt_16;
    if (mode == FCntMode::relaxed && last_f_cnt_up && reset_is_new_candidate &&
        session.verify_data_mic(Direction::uplink, frame.dev_addr, frame.f_cnt_16, msg, frame.mic)) {
        return VerifiedUplink{frame.f_cnt_16, true};
    }
    if (!f_cnt) return Error{Reject::fcnt_exhausted, "32-bit frame counter exhausted: the device must rejoin"};
    return Error{Reject::mic_mismatch, "MIC does not verify under the reconstructed frame counter"};
}

Result<Bytes> build_data_frame(SessionCrypto& session, DataFrame frame, std::uint32_t f_cnt) {
    frame.f_cnt_16 = static_cast<std::uint16_t>(f_cnt);
    if (frame.f_port && !frame.frm_payload.empty()) {
        session.crypt_frm_payload(*frame.f_port, frame.direction(), frame.dev_addr, f_cnt, frame.frm_payload,
                                  frame.frm_payload.data());
    }
    auto bytes = serialize(frame);
    if (!bytes) return bytes;
    Bytes& out = bytes.value();
    const Mic mic = session.data_mic(frame.direction(), frame.dev_addr, f_cnt, ByteView{out}.first(out.size() - 4));
    std::copy(mic.begin(), mic.end(), out.end() - 4);
    return bytes;
}

}  // namespace schwebe::lorawan
