#include "lorawan/bytes.hpp"

namespace schwebe::lorawan {

std::optional<std::uint8_t> ByteReader::u8() noexcept {
    if (remaining() < 1) return std::nullopt;
    return data_[pos_++];
}

std::optional<std::uint16_t> ByteReader::u16_le() noexcept {
    if (remaining() < 2) return std::nullopt;
    const auto v = static_cast<std::uint16_t>(data_[pos_] | (data_[pos_ + 1] << 8));
    pos_ += 2;
    return v;
}

std::optional<std::uint32_t> ByteReader::u24_le() noexcept {
    if (remaining() < 3) return std::nullopt;
    const std::uint32_t v =
        std::uint32_t{data_[pos_]} | (std::uint32_t{data_[pos_ + 1]} << 8) | (std::uint32_t{data_[pos_ + 2]} << 16);
    pos_ += 3;
    return v;
}

std::optional<std::uint32_t> ByteReader::u32_le() noexcept {
    if (remaining() < 4) return std::nullopt;
    const std::uint32_t v = std::uint32_t{data_[pos_]} | (std::uint32_t{data_[pos_ + 1]} << 8) |
                            (std::uint32_t{data_[pos_ + 2]} << 16) | (std::uint32_t{data_[pos_ + 3]} << 24);
    pos_ += 4;
    return v;
}

std::optional<ByteView> ByteReader::take(std::size_t n) noexcept {
    if (remaining() < n) return std::nullopt;
    const ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

ByteView ByteReader::rest() noexcept {
    const ByteView v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
}

void ByteWriter::u16_le(std::uint16_t v) {
    std::array<std::uint8_t, 2> b{};
    put_u16_le(b.data(), v);
    bytes(b);
}

void ByteWriter::u24_le(std::uint32_t v) {
    std::array<std::uint8_t, 3> b{};
    put_u24_le(b.data(), v);
    bytes(b);
}

void ByteWriter::u32_le(std::uint32_t v) {
    std::array<std::uint8_t, 4> b{};
    put_u32_le(b.data(), v);
    bytes(b);
}

std::string to_hex(ByteView data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (const std::uint8_t b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<Bytes> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    Bytes out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
    return out;
}

}  // namespace schwebe::lorawan
