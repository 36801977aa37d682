// Elvaco CMi4140, LoRaWAN module of Kamstrup MULTICAL heat meters. Reference: TheThingsNetwork/lorawan-devices
// vendor/elvaco/cmi4140.js (after the user's manual v1.3); `object` has its field names and values. FPort 2, the
// standard message (the only one the reference decodes), at least 40 bytes:
//
//   ┌────────────────┬───────────────────────────────────────────────────────────────────────┐
//   │ 0: 0x15        │ M-Bus records: DIF │ VIF (a VIF 0xfd near the end takes one more byte) │
//   │ message format │ │ value, little endian: 2 bytes for DIF 0x02, else 4                │
//   └────────────────┴───────────────────────────────────────────────────────────────────────┘
//
// The VIF gives quantity and decimal exponent (EN 13757-3): energy 04 0x / kWh, volume 04 1x / m³, power 02 2x / kW,
// flow 02 3x / m³/h, flow and return temperatures 02 5x / °C, serial 0c 78, error flags 04 fd17, meter time 04 6d.
// The reference divides the value by 10^decimals where the record has a unit, and otherwise parses the reversed hex
// digits as a decimal number (right for the BCD serial; the error flags and meter time come out as those digits).
//
// Differences from the reference, on malformed input only: a record cut short is an error (the reference parses
// fewer digits).

#include <cmath>
#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

constexpr std::uint8_t standard_format = 0x15;
constexpr std::size_t minimum_size = 40;
constexpr std::uint8_t vif_extension = 0xfd;
constexpr std::uint8_t dif_with_extension = 0x84;

struct Record {
    std::uint8_t dif = 0;
    std::uint16_t vif = 0;          ///< one byte, or 0xfd followed by the extension byte
    std::string_view measure;       ///< the member of `object`
    bool has_unit = true;           ///< false: the value is its reversed hex digits read as decimal
    int decimals = 0;               ///< the value is divided by 10^decimals
    std::string_view quantity;      ///< "" for no reading
    std::string_view reading_unit;  ///< the reading's unit
    int scale_exponent = 0;         ///< reading = value × 10^scale_exponent
};

constexpr Record records[] = {
    {0x04, 0x00, "energy", true, 6, "heat_energy", "kWh", 0},
    {0x04, 0x01, "energy", true, 5, "heat_energy", "kWh", 0},
    {0x04, 0x02, "energy", true, 4, "heat_energy", "kWh", 0},
    {0x04, 0x03, "energy", true, 3, "heat_energy", "kWh", 0},
    {0x04, 0x04, "energy", true, 2, "heat_energy", "kWh", 0},
    {0x04, 0x05, "energy", true, 1, "heat_energy", "kWh", 0},
    {0x04, 0x06, "energy", true, 0, "heat_energy", "kWh", 0},
    {0x04, 0x07, "energy", true, -1, "heat_energy", "kWh", 0},
    {0x04, 0x10, "volume", true, 6, "volume", "m3", 0},
    {0x04, 0x11, "volume", true, 5, "volume", "m3", 0},
    {0x04, 0x12, "volume", true, 4, "volume", "m3", 0},
    {0x04, 0x13, "volume", true, 3, "volume", "m3", 0},
    {0x04, 0x14, "volume", true, 2, "volume", "m3", 0},
    {0x04, 0x15, "volume", true, 1, "volume", "m3", 0},
    {0x04, 0x16, "volume", true, 0, "volume", "m3", 0},
    {0x04, 0x17, "volume", true, -1, "volume", "m3", 0},
    {0x04, 0xfd17, "error_flag", false, 0, "", "", 0},
    {0x04, 0x6d, "datetime_heat_meter", false, 0, "", "", 0},
    {0x02, 0x29, "power", true, 5, "power", "W", 3},
    {0x02, 0x2a, "power", true, 4, "power", "W", 3},
    {0x02, 0x2b, "power", true, 3, "power", "W", 3},
    {0x02, 0x2c, "power", true, 2, "power", "W", 3},
    {0x02, 0x2d, "power", true, 1, "power", "W", 3},
    {0x02, 0x2e, "power", true, 0, "power", "W", 3},
    {0x02, 0x2f, "power", true, -1, "power", "W", 3},
    {0x02, 0x39, "flow", true, 5, "flow", "m3/h", 0},
    {0x02, 0x3a, "flow", true, 4, "flow", "m3/h", 0},
    {0x02, 0x3b, "flow", true, 3, "flow", "m3/h", 0},
    {0x02, 0x3c, "flow", true, 2, "flow", "m3/h", 0},
    {0x02, 0x3d, "flow", true, 1, "flow", "m3/h", 0},
    {0x02, 0x3e, "flow", true, 0, "flow", "m3/h", 0},
    {0x02, 0x3f, "flow", true, -1, "flow", "m3/h", 0},
    {0x02, 0x58, "flow_temperature", true, 3, "flow_temperature", "Cel", 0},
    {0x02, 0x59, "flow_temperature", true, 2, "flow_temperature", "Cel", 0},
    {0x02, 0x5a, "flow_temperature", true, 1, "flow_temperature", "Cel", 0},
    {0x02, 0x5b, "flow_temperature", true, 0, "flow_temperature", "Cel", 0},
    {0x02, 0x5c, "return_temperature", true, 3, "return_temperature", "Cel", 0},
    {0x02, 0x5d, "return_temperature", true, 2, "return_temperature", "Cel", 0},
    {0x02, 0x5e, "return_temperature", true, 1, "return_temperature", "Cel", 0},
    {0x02, 0x5f, "return_temperature", true, 0, "return_temperature", "Cel", 0},
    {0x02, 0xfd17, "error_flag", false, 0, "", "", 0},
    {0x0c, 0x78, "serial", false, 0, "", "", 0},
};

const Record* find_record(std::uint8_t dif, std::uint16_t vif) {
    for (const Record& r : records) {
        if (r.dif == dif && r.vif == vif) return &r;
    }
    return nullptr;
}

/// 10^n, exact for n ≥ 0 (up to 10^22); 10^−1 is the double 0.1, as JavaScript's Math.pow(10, −1) gives it.
double pow10(int n) {
    if (n < 0) return 1 / pow10(-n);
    double v = 1;
    for (int i = 0; i < n; ++i) v *= 10;
    return v;
}

/// JavaScript's parseInt(s) without a radix on a string of hex digits: the leading decimal digits, NaN if none.
double leading_decimal_digits(const std::string& s) {
    double v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + (s[i] - '0');
    return i == 0 ? std::nan("") : v;
}

std::string vif_text(std::uint16_t vif) {
    const std::uint8_t bytes[] = {static_cast<std::uint8_t>(vif >> 8), static_cast<std::uint8_t>(vif)};
    return vif > 0xff ? hex(bytes) : hex(ByteView(bytes).subspan(1));
}

class ElvacoCmi4140 final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "elvaco-cmi4140"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (input.f_port != 2) return DecodeResult::failure(std::string(unknown_f_port));
        if (auto refused = check_length(input)) return *refused;
        if (input.bytes.size() < minimum_size) {
            return DecodeResult::failure("payload length < 40: " + std::to_string(input.bytes.size()) + " bytes");
        }
        PayloadReader r(input.bytes);
        if (r.u8().value_or(0) != standard_format) {
            return DecodeResult::failure("Payload type unknown, currently standard format supported");
        }

        Decoded out;
        out.object = nlohmann::json::object();
        while (!r.empty()) {
            const std::size_t offset = r.position();
            const std::uint8_t dif = r.u8().value_or(0);
            if (dif == dif_with_extension) {
                // A DIFE follows; the reference reads it and the VIF as a two-byte VIF, which no record has.
                const auto two = r.array<2>();
                if (!two) return DecodeResult::failure(truncated("record header", 3, r.remaining() + 1, offset));
                return DecodeResult::failure("Unknown dif 84 and vif " + hex(*two) + " at offset " +
                                             std::to_string(offset));
            }
            const auto vif_byte = r.u8();
            if (!vif_byte) return DecodeResult::failure(truncated("record header", 2, 1, offset));
            std::uint16_t vif = *vif_byte;
            // The reference recognises the extension only near the end, where the error flags sit.
            if (vif == vif_extension && r.remaining() <= 5) {
                const auto extension = r.u8();
                if (!extension) return DecodeResult::failure(truncated("VIF extension", 1, 0, r.position()));
                vif = static_cast<std::uint16_t>((vif << 8) | *extension);
            }
            const Record* rec = find_record(dif, vif);
            if (rec == nullptr) {
                const std::uint8_t dif_byte[] = {dif};
                return DecodeResult::failure("Unknown dif " + hex(dif_byte) + " and vif " + vif_text(vif) +
                                             " at offset " + std::to_string(offset));
            }
            const std::size_t size = dif >= 2 && dif <= 4 ? dif : 4;
            const auto value = r.take(size);
            if (!value) {
                return DecodeResult::failure(
                    truncated("record " + std::string(rec->measure), size, r.remaining(), r.position()));
            }
            std::uint32_t raw = 0;
            for (std::size_t i = value->size(); i-- > 0;) raw = (raw << 8) | (*value)[i];

            if (!rec->has_unit) {
                std::string digits;
                for (std::size_t i = value->size(); i-- > 0;) digits += hex(value->subspan(i, 1));
                out.object[std::string(rec->measure)] = json_number(leading_decimal_digits(digits));
                continue;
            }
            // As the reference: raw / Math.pow(10, decimals), so decimals −1 divides by 0.1.
            const double v = raw / pow10(rec->decimals);
            out.object[std::string(rec->measure)] = json_number(v);
            // Scaled from the integer, so that 5520 kW gives 5520000 W and not a product's rounding error.
            const int exponent = rec->scale_exponent - rec->decimals;
            const double reading_value = exponent >= 0 ? raw * pow10(exponent) : raw / pow10(-exponent);
            set_reading(out.readings,
                        reading(std::string(rec->quantity), reading_value, std::string(rec->reading_unit)));
        }
        return DecodeResult::success(std::move(out));
    }
};

}  // namespace

std::unique_ptr<Codec> make_elvaco_cmi4140() {
    return std::make_unique<ElvacoCmi4140>();
}

}  // namespace schwebe::decoders
