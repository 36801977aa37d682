#pragma once
/// AES-128 and AES-CMAC (RFC 4493) on OpenSSL EVP, with the key schedule and the CMAC subkeys computed once per
/// key and reused for every frame: setting up a fresh OpenSSL context costs far more than the AES work of a frame.
/// Objects here are not safe for concurrent use; each session owns its own.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "lorawan/bytes.hpp"

namespace schwebe::lorawan {

using Block = std::array<std::uint8_t, 16>;

/// AES-128 in ECB mode (single blocks), encrypt direction; the decrypt direction is only made when asked for,
/// because only the join-accept encryption needs it (LoRaWAN 1.0.4 §6.2.3).
class Aes128 {
public:
    explicit Aes128(const Block& key);
    ~Aes128();
    Aes128(Aes128&&) noexcept;
    Aes128& operator=(Aes128&&) noexcept;
    Aes128(const Aes128&) = delete;
    Aes128& operator=(const Aes128&) = delete;

    /// Encrypts `blocks` consecutive 16-byte blocks from `in` to `out` (they may be the same buffer).
    void encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks);
    [[nodiscard]] Block encrypt(const Block& in);
    /// The AES decrypt operation over consecutive 16-byte blocks.
    void decrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t blocks);

private:
    struct Contexts;
    std::unique_ptr<Contexts> ctx_;
};

/// AES-CMAC (RFC 4493) with the subkeys K1/K2 derived once.
class AesCmac {
public:
    explicit AesCmac(const Block& key);

    /// CMAC over the concatenation of `parts` (no copy of the message is made).
    [[nodiscard]] Block compute(std::initializer_list<ByteView> parts);
    /// The first four bytes of the CMAC: the LoRaWAN MIC.
    [[nodiscard]] std::array<std::uint8_t, 4> mic(std::initializer_list<ByteView> parts);

    /// The AES engine of this key, for callers that need plain AES with the same key (payload encryption).
    Aes128& aes() noexcept { return aes_; }

private:
    Aes128 aes_;
    Block k1_{};
    Block k2_{};
};

/// Compares in time independent of where the inputs differ (a MIC check must not leak how many bytes matched).
[[nodiscard]] bool constant_time_equal(ByteView a, ByteView b) noexcept;

}  // namespace schwebe::lorawan
