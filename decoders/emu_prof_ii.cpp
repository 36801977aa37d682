// EMU Professional II LoRa, 3-phase energy meter. Reference: TheThingsNetwork/lorawan-devices
// vendor/emu/profii-lp-codec_generic.js (EMU Electronic AG); `object` has its field names and values. Every uplink:
//
//   ┌───────────────────────┬──────────────────────────────────────────┬────────┐
//   │ 0..3                  │ 4 .. n−2                                 │ n−1    │
//   │ data logger timestamp │ registers: id byte, value (size by id,   │ CRC-8  │
//   │ (uint32 LE, Unix s)   │ little endian)                           │        │
//   └───────────────────────┴──────────────────────────────────────────┴────────┘
//
// Which registers an uplink holds, and on which port, is configured on the meter (EMU's payload generator); FPort
// 100 carries the meter's identity after joining. Any application port is accepted, as the reference does. An uplink
// of one or two bytes is a status update the reference ignores: decoded as an empty object.
//
// Readings carry the meter's timestamp. Energies are summed over the tariffs the uplink holds (T1 + T2: a meter
// without tariffs counts everything in T1), each tariff taken from its finest register (64-bit Wh, then 32-bit
// Wh, then kWh), and converted to kWh or kvarh.
//
// Differences from the reference: a wrong CRC-8 is an error (the reference warns and decodes anyway; the reference
// itself suggests stopping instead, and with LoRaWAN's MIC the bytes are exactly what the meter sent, so a wrong CRC
// means it is not this format); an unknown register id or a register cut short is an error (the reference skips
// one byte or reads past the end).

#include <array>
#include <chrono>
#include <string>

#include "decoders/codec_support.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {
namespace {

enum class ValueType { int8, uint8, int16, uint16, int32, uint32, uint64, meter_serial, bcd, ascii, error_code };

/// The energy a register counts, for the readings.
enum class Energy { none, active_import, active_export, reactive_import, reactive_export };

struct Register {
    std::uint8_t id = 0;
    std::string_view description;  ///< the member of `object`
    ValueType type = ValueType::uint32;
    std::string_view unit;             ///< "" for none
    std::string_view unit_calculated;  ///< "" for none
    int divisor = 0;                   ///< 10 or 100: `value` is the raw value divided, `value_raw` the raw one
    int phase = 0;                     ///< `cfgphase`, 0 for none
    Energy energy = Energy::none;
    int tariff = 0;
    int resolution = 0;  ///< among the registers of one energy and tariff, the finest is used for readings
};

std::size_t value_size(ValueType t) {
    switch (t) {
        case ValueType::int8:
        case ValueType::uint8:
        case ValueType::error_code: return 1;
        case ValueType::int16:
        case ValueType::uint16: return 2;
        case ValueType::int32:
        case ValueType::uint32:
        case ValueType::meter_serial:
        case ValueType::bcd:
        case ValueType::ascii: return 4;
        case ValueType::uint64: return 8;
    }
    return 0;
}

using E = Energy;
using V = ValueType;
constexpr Register registers[] = {
    {0x00, "data-logger-index", V::uint32, "", "", 0, 0, E::none, 0, 0},
    {0x01, "timestamp", V::uint32, "seconds", "", 0, 0, E::none, 0, 0},
    {0x02, "timestamp-previous", V::uint32, "seconds", "", 0, 0, E::none, 0, 0},
    {0x03, "Active Energy Import T1", V::uint32, "Wh", "", 0, 0, E::active_import, 1, 2},
    {0x04, "Active Energy Import T2", V::uint32, "Wh", "", 0, 0, E::active_import, 2, 2},
    {0x05, "Active Energy Export T1", V::uint32, "Wh", "", 0, 0, E::active_export, 1, 2},
    {0x06, "Active Energy Export T2", V::uint32, "Wh", "", 0, 0, E::active_export, 2, 2},
    {0x07, "Reactive Energy Import T1", V::uint32, "varh", "", 0, 0, E::reactive_import, 1, 2},
    {0x08, "Reactive Energy Import T2", V::uint32, "varh", "", 0, 0, E::reactive_import, 2, 2},
    {0x09, "Reactive Energy Export T1", V::uint32, "varh", "", 0, 0, E::reactive_export, 1, 2},
    {0x0a, "Reactive Energy Export T2", V::uint32, "varh", "", 0, 0, E::reactive_export, 2, 2},
    {0x0b, "Active Power L123", V::int32, "W", "", 0, 0, E::none, 0, 0},
    {0x0c, "Active Power L1", V::int32, "W", "", 0, 1, E::none, 0, 0},
    {0x0d, "Active Power L2", V::int32, "W", "", 0, 2, E::none, 0, 0},
    {0x0e, "Active Power L3", V::int32, "W", "", 0, 3, E::none, 0, 0},
    {0x0f, "Current L123", V::int32, "mA", "", 0, 0, E::none, 0, 0},
    {0x10, "Current L1", V::int32, "mA", "", 0, 1, E::none, 0, 0},
    {0x11, "Current L2", V::int32, "mA", "", 0, 2, E::none, 0, 0},
    {0x12, "Current L3", V::int32, "mA", "", 0, 3, E::none, 0, 0},
    {0x13, "Current N", V::int32, "mA", "", 0, 4, E::none, 0, 0},
    {0x14, "Voltage L1-N", V::int32, "V/10", "V", 10, 1, E::none, 0, 0},
    {0x15, "Voltage L2-N", V::int32, "V/10", "V", 10, 2, E::none, 0, 0},
    {0x16, "Voltage L3-N", V::int32, "V/10", "V", 10, 3, E::none, 0, 0},
    {0x17, "Powerfactor L1", V::int8, "Cos", "", 100, 1, E::none, 0, 0},
    {0x18, "Powerfactor L2", V::int8, "Cos", "", 100, 2, E::none, 0, 0},
    {0x19, "Powerfactor L3", V::int8, "Cos", "", 100, 3, E::none, 0, 0},
    // "Int16" in the reference, combined without sign extension: in effect unsigned.
    {0x1a, "Frequency", V::uint16, "Hz", "", 10, 0, E::none, 0, 0},
    {0x1b, "Active Power average", V::int32, "W", "", 0, 0, E::none, 0, 0},
    {0x1c, "Active Energy Import T1 kWh", V::uint32, "kWh", "", 0, 0, E::active_import, 1, 1},
    {0x1d, "Active Energy Import T2 kWh", V::uint32, "kWh", "", 0, 0, E::active_import, 2, 1},
    {0x1e, "Active Energy Export T1 kWh", V::uint32, "kWh", "", 0, 0, E::active_export, 1, 1},
    {0x1f, "Active Energy Export T2 kWh", V::uint32, "kWh", "", 0, 0, E::active_export, 2, 1},
    {0x20, "Reactive Energy Import T1 kvarh", V::uint32, "kvarh", "", 0, 0, E::reactive_import, 1, 1},
    {0x21, "Reactive Energy Import T2 kvarh", V::uint32, "kvarh", "", 0, 0, E::reactive_import, 2, 1},
    {0x22, "Reactive Energy Export T1 kvarh", V::uint32, "kvarh", "", 0, 0, E::reactive_export, 1, 1},
    {0x23, "Reactive Energy Export T2 kvarh", V::uint32, "kvarh", "", 0, 0, E::reactive_export, 2, 1},
    {0x24, "Active Energy Import T1 64bit", V::uint64, "Wh", "", 0, 0, E::active_import, 1, 3},
    {0x25, "Active Energy Import T2 64bit", V::uint64, "Wh", "", 0, 0, E::active_import, 2, 3},
    {0x26, "Active Energy Export T1 64bit", V::uint64, "Wh", "", 0, 0, E::active_export, 1, 3},
    {0x27, "Active Energy Export T2 64bit", V::uint64, "Wh", "", 0, 0, E::active_export, 2, 3},
    {0x28, "Reactive Energy Import T1 64bit", V::uint64, "varh", "", 0, 0, E::reactive_import, 1, 3},
    {0x29, "Reactive Energy Import T2 64bit", V::uint64, "varh", "", 0, 0, E::reactive_import, 2, 3},
    {0x2a, "Reactive Energy Export T1 64bit", V::uint64, "varh", "", 0, 0, E::reactive_export, 1, 3},
    {0x2b, "Reactive Energy Export T2 64bit", V::uint64, "varh", "", 0, 0, E::reactive_export, 2, 3},
    {0xf0, "errorcode", V::error_code, "", "", 0, 0, E::none, 0, 0},
    {0xf1, "serial-number", V::meter_serial, "", "", 0, 0, E::none, 0, 0},
    {0xf2, "factor-number", V::meter_serial, "", "", 0, 0, E::none, 0, 0},
    {0xf3, "current-transformer primary", V::uint16, "", "", 0, 0, E::none, 0, 0},
    {0xf4, "current-transformer secondary", V::uint16, "", "", 0, 0, E::none, 0, 0},
    {0xf5, "voltage-transformer primary", V::uint16, "", "", 0, 0, E::none, 0, 0},
    {0xf6, "voltage-transformer secondary", V::uint16, "", "", 0, 0, E::none, 0, 0},
    {0xf7, "meter-typ", V::uint8, "", "", 0, 0, E::none, 0, 0},
    {0xf8, "MID year", V::bcd, "", "", 0, 0, E::none, 0, 0},
    {0xf9, "factory year", V::bcd, "", "", 0, 0, E::none, 0, 0},
    {0xfa, "firmware version", V::ascii, "", "", 0, 0, E::none, 0, 0},
    {0xfb, "mid-Version", V::ascii, "", "", 0, 0, E::none, 0, 0},
    {0xfc, "manufacturer", V::ascii, "", "", 0, 0, E::none, 0, 0},
    {0xfd, "hw-index", V::ascii, "", "", 0, 0, E::none, 0, 0},
    {0xfe, "systemtime", V::uint32, "", "", 0, 0, E::none, 0, 0},
};

const Register* find_register(std::uint8_t id) {
    for (const Register& r : registers) {
        if (r.id == id) return &r;
    }
    return nullptr;
}

/// CRC-8, polynomial x⁸+x²+x+1 (0x07), initial value 0, no reflection, no final XOR: the reference's table.
std::uint8_t crc8(ByteView data) {
    std::uint8_t crc = 0;
    for (std::uint8_t b : data) {
        crc ^= b;
        for (int bit = 0; bit < 8; ++bit) {
            crc =
                (crc & 0x80) != 0 ? static_cast<std::uint8_t>((crc << 1) ^ 0x07) : static_cast<std::uint8_t>(crc << 1);
        }
    }
    return crc;
}

std::uint64_t le(ByteView v) {
    std::uint64_t out = 0;
    for (std::size_t i = v.size(); i-- > 0;) out = (out << 8) | v[i];
    return out;
}

/// A register's value: what `object` shows, and the true number for readings.
struct RegisterValue {
    nlohmann::json json;
    double number = 0;
};

/// `v` holds exactly value_size(reg.type) bytes (the reader took that many), so each index below is within it.
RegisterValue read_value(const Register& reg, ByteView v) {
    switch (reg.type) {
        case ValueType::int8: {
            const auto n = static_cast<std::int8_t>(v[0]);
            return {n, static_cast<double>(n)};
        }
        case ValueType::uint8:
        case ValueType::error_code: return {v[0], static_cast<double>(v[0])};
        case ValueType::int16:
        case ValueType::uint16: {
            const auto n = static_cast<std::uint16_t>(le(v));
            return {n, static_cast<double>(n)};
        }
        case ValueType::int32: {
            const auto n = static_cast<std::int32_t>(static_cast<std::uint32_t>(le(v)));
            return {n, static_cast<double>(n)};
        }
        case ValueType::uint32: {
            const auto n = static_cast<std::uint32_t>(le(v));
            return {n, static_cast<double>(n)};
        }
        case ValueType::uint64: {
            // The reference shifts by 56, 48, 40 and 32 with JavaScript's 32-bit operators, which take the count
            // modulo 32: the upper four bytes are OR-ed onto the lower four. `object` shows that number; readings
            // take the true 64-bit count.
            const std::uint32_t folded = (std::uint32_t{static_cast<std::uint8_t>(v[7] | v[3])} << 24) |
                                         (std::uint32_t{static_cast<std::uint8_t>(v[6] | v[2])} << 16) |
                                         (std::uint32_t{static_cast<std::uint8_t>(v[5] | v[1])} << 8) |
                                         static_cast<std::uint8_t>(v[4] | v[0]);
            return {folded, static_cast<double>(le(v))};
        }
        case ValueType::meter_serial: {
            // The four bytes as hex, most significant first: "22060126".
            const std::uint8_t be[] = {v[3], v[2], v[1], v[0]};
            return {hex(be), 0};
        }
        case ValueType::bcd: {
            // Each byte's decimal value, concatenated (a BCD byte 0x22 would print "34": the meter sends one digit
            // per byte).
            std::string digits;
            for (std::uint8_t b : v) digits += std::to_string(b);
            return {digits, 0};
        }
        case ValueType::ascii: {
            std::string text;
            for (std::uint8_t b : v) {
                if (b != 0) text += latin1_to_utf8(ByteView(&b, 1));
            }
            return {text, 0};
        }
    }
    return {nullptr, 0};
}

nlohmann::json register_object(const Register& reg, const RegisterValue& value) {
    nlohmann::json out = nlohmann::json::object();
    if (!reg.unit.empty()) out["unit"] = reg.unit;
    if (!reg.unit_calculated.empty()) out["unit_calculated"] = reg.unit_calculated;
    if (reg.phase != 0) out["cfgphase"] = reg.phase;
    if (reg.divisor != 0) {
        // The reference rounds raw × factor with toFixed(1) or toFixed(2); for an integer raw value that is the
        // double nearest to raw / 10 or raw / 100.
        out["value_raw"] = value.json;
        out["value"] = json_number(value.number / reg.divisor);
    } else {
        out["value"] = value.json;
    }
    if (reg.type == ValueType::error_code) {
        const auto code = static_cast<std::uint8_t>(value.number);
        out["TimeChanged"] = (code & 0x01) != 0;
        out["CTRatioChange"] = (code & 0x02) != 0;
        out["VTRatioChange"] = (code & 0x04) != 0;
        out["ImpulseWidthChange"] = (code & 0x08) != 0;
        out["ImpulseRatioChange"] = (code & 0x10) != 0;
        out["PowerFail"] = (code & 0x20) != 0;
        out["LogbookFull"] = (code & 0x80) != 0;
    }
    return out;
}

/// Per energy and tariff, the finest register seen: value in Wh or varh.
struct TariffValue {
    int resolution = 0;
    double value = 0;
};

struct EnergyTotals {
    // [energy][tariff − 1]
    std::array<std::array<TariffValue, 2>, 5> by_energy{};

    void add(const Register& reg, double raw) {
        if (reg.energy == Energy::none || reg.tariff < 1 || reg.tariff > 2) return;
        TariffValue& slot = by_energy[static_cast<std::size_t>(reg.energy)][static_cast<std::size_t>(reg.tariff - 1)];
        if (reg.resolution < slot.resolution) return;
        slot.resolution = reg.resolution;
        // kWh and kvarh registers count thousands.
        slot.value = reg.resolution == 1 ? raw * 1000 : raw;
    }

    /// The sum over the tariffs present, in kWh or kvarh; nullopt if the uplink has no register of this energy.
    [[nodiscard]] std::optional<double> total_k(Energy e) const {
        const auto& tariffs = by_energy[static_cast<std::size_t>(e)];
        if (tariffs[0].resolution == 0 && tariffs[1].resolution == 0) return std::nullopt;
        return (tariffs[0].value + tariffs[1].value) / 1000;
    }
};

class EmuProfII final : public Codec {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "emu-prof-ii"; }

    [[nodiscard]] DecodeResult decode(const DecodeInput& input) const override {
        if (auto refused = check_application_port_and_length(input)) return *refused;
        const ByteView bytes = input.bytes;
        if (bytes.size() <= 2) {
            Decoded status;
            status.object = nlohmann::json::object();
            status.warnings.emplace_back("status update of " + std::to_string(bytes.size()) + " bytes, not decoded");
            return DecodeResult::success(std::move(status));
        }
        // Timestamp and CRC at least.
        if (bytes.size() < 5) return DecodeResult::failure(truncated("uplink", 5, bytes.size(), 0));
        const std::uint8_t received_crc = bytes.back();
        const ByteView body = bytes.first(bytes.size() - 1);
        if (const std::uint8_t computed = crc8(body); computed != received_crc) {
            return DecodeResult::failure("crc-8 wrong: computed " + hex_byte(computed) + ", received " +
                                         hex_byte(received_crc));
        }

        PayloadReader r(body);
        const std::uint32_t time_stamp = r.u32_le().value_or(0);
        Decoded out;
        out.object = nlohmann::json::object();
        EnergyTotals energies;
        std::optional<double> power_w;
        std::optional<double> current_a;
        std::optional<double> frequency_hz;

        while (!r.empty()) {
            const std::size_t offset = r.position();
            const std::uint8_t id = r.u8().value_or(0);
            const Register* reg = find_register(id);
            if (reg == nullptr) {
                return DecodeResult::failure("unknown register " + hex_byte(id) + " at offset " +
                                             std::to_string(offset));
            }
            const std::size_t size = value_size(reg->type);
            const auto v = r.take(size);
            if (!v) {
                return DecodeResult::failure(truncated("register " + hex_byte(id), size, r.remaining(), offset + 1));
            }
            const RegisterValue value = read_value(*reg, *v);
            out.object[std::string(reg->description)] = register_object(*reg, value);

            energies.add(*reg, value.number);
            if (id == 0x0b) power_w = value.number;
            if (id == 0x0f) current_a = value.number / 1000;
            if (id == 0x1a) frequency_hz = value.number / 10;
        }
        out.object["timeStamp"] = time_stamp;
        out.object["medium"] = {{"type", 1}, {"desc", "Electricity"}};

        const SystemTime measured{std::chrono::seconds{time_stamp}};
        auto add = [&](std::string quantity, std::optional<double> value, std::string unit) {
            if (!value) return;
            Reading rd = reading(std::move(quantity), *value, std::move(unit));
            rd.time = measured;
            out.readings.push_back(std::move(rd));
        };
        add("active_energy", energies.total_k(Energy::active_import), "kWh");
        add("active_energy_export", energies.total_k(Energy::active_export), "kWh");
        add("reactive_energy", energies.total_k(Energy::reactive_import), "kvarh");
        add("reactive_energy_export", energies.total_k(Energy::reactive_export), "kvarh");
        add("power", power_w, "W");
        add("current", current_a, "A");
        add("frequency", frequency_hz, "Hz");
        return DecodeResult::success(std::move(out));
    }
};

}  // namespace

std::unique_ptr<Codec> make_emu_prof_ii() {
    return std::make_unique<EmuProfII>();
}

}  // namespace schwebe::decoders
