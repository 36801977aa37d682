#include "lorawan/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <new>
#include <stdexcept>

namespace schwebe::lorawan {

namespace {
struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

CipherCtx make_ecb_context(const Block& key, bool encrypt) {
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    if (!ctx) throw std::bad_alloc{};
    if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_ecb(), nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
        throw std::runtime_error("OpenSSL: AES-128-ECB context set-up failed");
    }
    return ctx;
}

void run(EVP_CIPHER_CTX* ctx, const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) {
    int out_len = 0;
    // ECB without padding transforms whole blocks in place of the call; nothing is held back for a final call.
    EVP_CipherUpdate(ctx, out, &out_len, in, static_cast<int>(blocks * 16));
}

/// RFC 4493 §2.3: shift left by one bit; XOR Rb (0x87) when the most significant bit was set.
Block double_block(const Block& in) {
    Block out{};
    for (std::size_t i = 0; i < 16; ++i) {
        out[i] = static_cast<std::uint8_t>(in[i] << 1);
        if (i + 1 < 16) out[i] |= static_cast<std::uint8_t>(in[i + 1] >> 7);
    }
    if ((in[0] & 0x80) != 0) out[15] ^= 0x87;
    return out;
}
}  // namespace

struct Aes128::Contexts {
    Block key;
    CipherCtx encrypt;
    CipherCtx decrypt;
};

Aes128::Aes128(const Block& key) : ctx_(new Contexts{key, make_ecb_context(key, true), nullptr}) {}
Aes128::~Aes128() {
    if (ctx_) OPENSSL_cleanse(ctx_->key.data(), ctx_->key.size());
}
Aes128::Aes128(Aes128&&) noexcept = default;
Aes128& Aes128::operator=(Aes128&&) noexcept = default;

void Aes128::encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) {
    run(ctx_->encrypt.get(), in, out, blocks);
}

Block Aes128::encrypt(const Block& in) {
    Block out{};
    encrypt(in.data(), out.data(), 1);
    return out;
}

void Aes128::decrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) {
    if (!ctx_->decrypt) ctx_->decrypt = make_ecb_context(ctx_->key, false);
    run(ctx_->decrypt.get(), in, out, blocks);
}

AesCmac::AesCmac(const Block& key) : aes_(key) {
    // RFC 4493 §2.3, Generate_Subkey.
    const Block l = aes_.encrypt(Block{});
    k1_ = double_block(l);
    k2_ = double_block(k1_);
}

Block AesCmac::compute(std::initializer_list<ByteView> parts) {
    std::size_t total = 0;
    for (const ByteView p : parts) total += p.size();

    // RFC 4493 §2.4: every block but the last is chained as CBC-MAC; the last one is XORed with K1 when it is
    // complete, or padded (0x80 0x00…) and XORed with K2.
    Block x{};
    Block buf{};
    std::size_t fill = 0;
    for (const ByteView p : parts) {
        for (const std::uint8_t byte : p) {
            if (fill == 16) {
                // A full block that is not the last one: fold it into the chain.
                for (std::size_t i = 0; i < 16; ++i) x[i] ^= buf[i];
                aes_.encrypt(x.data(), x.data(), 1);
                fill = 0;
            }
            buf[fill++] = byte;
        }
    }
    const bool complete = total != 0 && fill == 16;
    if (complete) {
        for (std::size_t i = 0; i < 16; ++i) x[i] ^= buf[i] ^ k1_[i];
    } else {
        buf[fill] = 0x80;
        for (std::size_t i = fill + 1; i < 16; ++i) buf[i] = 0;
        for (std::size_t i = 0; i < 16; ++i) x[i] ^= buf[i] ^ k2_[i];
    }
    aes_.encrypt(x.data(), x.data(), 1);
    return x;
}

std::array<std::uint8_t, 4> AesCmac::mic(std::initializer_list<ByteView> parts) {
    const Block full = compute(parts);
    return {full[0], full[1], full[2], full[3]};
}

bool constant_time_equal(ByteView a, ByteView b) noexcept {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace schwebe::lorawan
