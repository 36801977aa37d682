#include "lorawan/mac_commands.hpp"

#include <utility>

namespace schwebe::lorawan {

namespace {

constexpr std::uint32_t freq_unit_hz = 100;
constexpr std::uint32_t max_freq_hz = 0xffffffU * freq_unit_hz;

bool bit(std::uint8_t b, unsigned n) {
    return ((b >> n) & 1U) != 0;
}
std::uint8_t bits(bool v, unsigned n) {
    return static_cast<std::uint8_t>(v ? (1U << n) : 0U);
}

Result<Ok> out_of_range(std::string_view what) {
    return Error{Reject::field_out_of_range, what};
}

/// One specialization per command: CID, direction, name, payload size, and how its payload reads and writes.
/// `read` is only called with exactly `size` bytes available.
template <class T>
struct Codec;

#define SCHWEBE_EMPTY_COMMAND(Type, Cid, Dir, Name)                        \
    template <>                                                            \
    struct Codec<Type> {                                                   \
        static constexpr std::uint8_t cid = Cid;                           \
        static constexpr Direction dir = Dir;                              \
        static constexpr std::string_view name = Name;                     \
        static constexpr std::size_t size = 0;                             \
        static Type read(ByteReader&) { return {}; }                       \
        static Result<Ok> write(const Type&, ByteWriter&) { return Ok{}; } \
    }

SCHWEBE_EMPTY_COMMAND(LinkCheckReq, cid::link_check, Direction::uplink, "LinkCheckReq");
SCHWEBE_EMPTY_COMMAND(DutyCycleAns, cid::duty_cycle, Direction::uplink, "DutyCycleAns");
SCHWEBE_EMPTY_COMMAND(RxTimingSetupAns, cid::rx_timing_setup, Direction::uplink, "RXTimingSetupAns");
SCHWEBE_EMPTY_COMMAND(TxParamSetupAns, cid::tx_param_setup, Direction::uplink, "TxParamSetupAns");
SCHWEBE_EMPTY_COMMAND(DeviceTimeReq, cid::device_time, Direction::uplink, "DeviceTimeReq");
SCHWEBE_EMPTY_COMMAND(DevStatusReq, cid::dev_status, Direction::downlink, "DevStatusReq");
#undef SCHWEBE_EMPTY_COMMAND

template <>
struct Codec<LinkAdrAns> {
    static constexpr std::uint8_t cid = cid::link_adr;
    static constexpr Direction dir = Direction::uplink;
    static constexpr std::string_view name = "LinkADRAns";
    static constexpr std::size_t size = 1;
    static LinkAdrAns read(ByteReader& r) {
        const std::uint8_t s = *r.u8();
        return {bit(s, 2), bit(s, 1), bit(s, 0)};
    }
    static Result<Ok> write(const LinkAdrAns& c, ByteWriter& w) {
        w.u8(bits(c.power_ack, 2) | bits(c.data_rate_ack, 1) | bits(c.channel_mask_ack, 0));
        return Ok{};
    }
};

template <>
struct Codec<RxParamSetupAns> {
    static constexpr std::uint8_t cid = cid::rx_param_setup;
    static constexpr Direction dir = Direction::uplink;
    static constexpr std::string_view name = "RXParamSetupAns";
    static constexpr std::size_t size = 1;
    static RxParamSetupAns read(ByteReader& r) {
        const std::uint8_t s = *r.u8();
        return {bit(s, 2), bit(s, 1), bit(s, 0)};
    }
    static Result<Ok> write(const RxParamSetupAns& c, ByteWriter& w) {
        w.u8(bits(c.rx1_dr_offset_ack, 2) | bits(c.rx2_data_rate_ack, 1) | bits(c.channel_ack, 0));
        return Ok{};
    }
};

template <>
struct Codec<DevStatusAns> {
    static constexpr std::uint8_t cid = cid::dev_status;
    static constexpr Direction dir = Direction::uplink;
    static constexpr std::string_view name = "DevStatusAns";
    static constexpr std::size_t size = 2;
    static DevStatusAns read(ByteReader& r) {
        const std::uint8_t battery = *r.u8();
        const std::uint8_t m = *r.u8() & 0x3fU;
        // Margin is a 6-bit two's complement value (LoRaWAN 1.0.4 §5.5).
        const int margin = (m & 0x20U) != 0 ? static_cast<int>(m) - 64 : static_cast<int>(m);
        return {battery, static_cast<std::int8_t>(margin)};
    }
    static Result<Ok> write(const DevStatusAns& c, ByteWriter& w) {
        if (c.margin < -32 || c.margin > 31) return out_of_range("DevStatusAns margin outside -32..31");
        w.u8(c.battery);
        w.u8(static_cast<std::uint8_t>(c.margin) & 0x3fU);
        return Ok{};
    }
};

template <>
struct Codec<NewChannelAns> {
    static constexpr std::uint8_t cid = cid::new_channel;
    static constexpr Direction dir = Direction::uplink;
    static constexpr std::string_view name = "NewChannelAns";
    static constexpr std::size_t size = 1;
    static NewChannelAns read(ByteReader& r) {
        const std::uint8_t s = *r.u8();
        return {bit(s, 1), bit(s, 0)};
    }
    static Result<Ok> write(const NewChannelAns& c, ByteWriter& w) {
        w.u8(bits(c.data_rate_range_ok, 1) | bits(c.channel_frequency_ok, 0));
        return Ok{};
    }
};

template <>
struct Codec<DlChannelAns> {
    static constexpr std::uint8_t cid = cid::dl_channel;
    static constexpr Direction dir = Direction::uplink;
    static constexpr std::string_view name = "DlChannelAns";
    static constexpr std::size_t size = 1;
    static DlChannelAns read(ByteReader& r) {
        const std::uint8_t s = *r.u8();
        return {bit(s, 1), bit(s, 0)};
    }
    static Result<Ok> write(const DlChannelAns& c, ByteWriter& w) {
        w.u8(bits(c.uplink_frequency_exists, 1) | bits(c.channel_frequency_ok, 0));
        return Ok{};
    }
};

template <>
struct Codec<LinkCheckAns> {
    static constexpr std::uint8_t cid = cid::link_check;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "LinkCheckAns";
    static constexpr std::size_t size = 2;
    static LinkCheckAns read(ByteReader& r) {
        const std::uint8_t margin = *r.u8();
        return {margin, *r.u8()};
    }
    static Result<Ok> write(const LinkCheckAns& c, ByteWriter& w) {
        if (c.margin == 255) return out_of_range("LinkCheckAns margin 255 is reserved");
        w.u8(c.margin);
        w.u8(c.gw_cnt);
        return Ok{};
    }
};

template <>
struct Codec<LinkAdrReq> {
    static constexpr std::uint8_t cid = cid::link_adr;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "LinkADRReq";
    static constexpr std::size_t size = 4;
    static LinkAdrReq read(ByteReader& r) {
        const std::uint8_t dr_power = *r.u8();
        const std::uint16_t ch_mask = *r.u16_le();
        const std::uint8_t redundancy = *r.u8();
        return {static_cast<std::uint8_t>(dr_power >> 4), static_cast<std::uint8_t>(dr_power & 0x0fU), ch_mask,
                static_cast<std::uint8_t>((redundancy >> 4) & 0x07U), static_cast<std::uint8_t>(redundancy & 0x0fU)};
    }
    static Result<Ok> write(const LinkAdrReq& c, ByteWriter& w) {
        if (c.data_rate > 15 || c.tx_power > 15) return out_of_range("LinkADRReq DataRate/TXPower above 15");
        if (c.ch_mask_cntl > 7 || c.nb_trans > 15)
            return out_of_range("LinkADRReq ChMaskCntl above 7 or NbTrans above 15");
        w.u8(static_cast<std::uint8_t>((c.data_rate << 4) | c.tx_power));
        w.u16_le(c.ch_mask);
        w.u8(static_cast<std::uint8_t>((c.ch_mask_cntl << 4) | c.nb_trans));
        return Ok{};
    }
};

template <>
struct Codec<DutyCycleReq> {
    static constexpr std::uint8_t cid = cid::duty_cycle;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "DutyCycleReq";
    static constexpr std::size_t size = 1;
    static DutyCycleReq read(ByteReader& r) { return {static_cast<std::uint8_t>(*r.u8() & 0x0fU)}; }
    static Result<Ok> write(const DutyCycleReq& c, ByteWriter& w) {
        if (c.max_duty_cycle > 15) return out_of_range("DutyCycleReq MaxDCycle above 15");
        w.u8(c.max_duty_cycle);
        return Ok{};
    }
};

Result<Ok> write_frequency(std::uint32_t hz, ByteWriter& w, std::string_view what) {
    if (hz % freq_unit_hz != 0 || hz > max_freq_hz) return out_of_range(what);
    w.u24_le(hz / freq_unit_hz);
    return Ok{};
}

template <>
struct Codec<RxParamSetupReq> {
    static constexpr std::uint8_t cid = cid::rx_param_setup;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "RXParamSetupReq";
    static constexpr std::size_t size = 4;
    static RxParamSetupReq read(ByteReader& r) {
        const std::uint8_t dl = *r.u8();
        return {static_cast<std::uint8_t>((dl >> 4) & 0x07U), static_cast<std::uint8_t>(dl & 0x0fU),
                *r.u24_le() * freq_unit_hz};
    }
    static Result<Ok> write(const RxParamSetupReq& c, ByteWriter& w) {
        if (c.rx1_dr_offset > 7 || c.rx2_data_rate > 15) return out_of_range("RXParamSetupReq DLsettings out of range");
        w.u8(static_cast<std::uint8_t>((c.rx1_dr_offset << 4) | c.rx2_data_rate));
        return write_frequency(c.frequency, w, "RXParamSetupReq frequency not a multiple of 100 Hz below 1.68 GHz");
    }
};

template <>
struct Codec<NewChannelReq> {
    static constexpr std::uint8_t cid = cid::new_channel;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "NewChannelReq";
    static constexpr std::size_t size = 5;
    static NewChannelReq read(ByteReader& r) {
        const std::uint8_t ch_index = *r.u8();
        const std::uint32_t frequency = *r.u24_le() * freq_unit_hz;
        const std::uint8_t range = *r.u8();
        return {ch_index, frequency, static_cast<std::uint8_t>(range & 0x0fU), static_cast<std::uint8_t>(range >> 4)};
    }
    static Result<Ok> write(const NewChannelReq& c, ByteWriter& w) {
        if (c.min_dr > 15 || c.max_dr > 15) return out_of_range("NewChannelReq DrRange above 15");
        w.u8(c.ch_index);
        auto f = write_frequency(c.frequency, w, "NewChannelReq frequency not a multiple of 100 Hz below 1.68 GHz");
        if (!f) return f;
        w.u8(static_cast<std::uint8_t>((c.max_dr << 4) | c.min_dr));
        return Ok{};
    }
};

template <>
struct Codec<RxTimingSetupReq> {
    static constexpr std::uint8_t cid = cid::rx_timing_setup;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "RXTimingSetupReq";
    static constexpr std::size_t size = 1;
    static RxTimingSetupReq read(ByteReader& r) { return {static_cast<std::uint8_t>(*r.u8() & 0x0fU)}; }
    static Result<Ok> write(const RxTimingSetupReq& c, ByteWriter& w) {
        if (c.delay > 15) return out_of_range("RXTimingSetupReq Del above 15");
        w.u8(c.delay);
        return Ok{};
    }
};

template <>
struct Codec<TxParamSetupReq> {
    static constexpr std::uint8_t cid = cid::tx_param_setup;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "TxParamSetupReq";
    static constexpr std::size_t size = 1;
    static TxParamSetupReq read(ByteReader& r) {
        const std::uint8_t s = *r.u8();
        return {bit(s, 5), bit(s, 4), static_cast<std::uint8_t>(s & 0x0fU)};
    }
    static Result<Ok> write(const TxParamSetupReq& c, ByteWriter& w) {
        if (c.max_eirp > 15) return out_of_range("TxParamSetupReq MaxEIRP above 15");
        w.u8(bits(c.downlink_dwell_time, 5) | bits(c.uplink_dwell_time, 4) | c.max_eirp);
        return Ok{};
    }
};

template <>
struct Codec<DlChannelReq> {
    static constexpr std::uint8_t cid = cid::dl_channel;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "DlChannelReq";
    static constexpr std::size_t size = 4;
    static DlChannelReq read(ByteReader& r) {
        const std::uint8_t ch_index = *r.u8();
        return {ch_index, *r.u24_le() * freq_unit_hz};
    }
    static Result<Ok> write(const DlChannelReq& c, ByteWriter& w) {
        w.u8(c.ch_index);
        return write_frequency(c.frequency, w, "DlChannelReq frequency not a multiple of 100 Hz below 1.68 GHz");
    }
};

template <>
struct Codec<DeviceTimeAns> {
    static constexpr std::uint8_t cid = cid::device_time;
    static constexpr Direction dir = Direction::downlink;
    static constexpr std::string_view name = "DeviceTimeAns";
    static constexpr std::size_t size = 5;
    static DeviceTimeAns read(ByteReader& r) {
        const std::uint32_t seconds = *r.u32_le();
        return {seconds, *r.u8()};
    }
    static Result<Ok> write(const DeviceTimeAns& c, ByteWriter& w) {
        w.u32_le(c.seconds);
        w.u8(c.fractional);
        return Ok{};
    }
};

/// Finds the alternative of MacCommand with this CID and direction and reads it.
template <std::size_t I = 0>
std::optional<MacCommand> read_command(std::uint8_t cid, Direction dir, ByteReader& r) {
    if constexpr (I == std::variant_size_v<MacCommand>) {
        return std::nullopt;
    } else {
        using T = std::variant_alternative_t<I, MacCommand>;
        if (Codec<T>::cid == cid && Codec<T>::dir == dir) return MacCommand{Codec<T>::read(r)};
        return read_command<I + 1>(cid, dir, r);
    }
}

template <std::size_t I = 0>
std::optional<std::size_t> size_of(std::uint8_t cid, Direction dir) {
    if constexpr (I == std::variant_size_v<MacCommand>) {
        return std::nullopt;
    } else {
        using T = std::variant_alternative_t<I, MacCommand>;
        if (Codec<T>::cid == cid && Codec<T>::dir == dir) return Codec<T>::size;
        return size_of<I + 1>(cid, dir);
    }
}

}  // namespace

std::string_view name_of(const MacCommand& command) {
    return std::visit([](const auto& c) { return Codec<std::decay_t<decltype(c)>>::name; }, command);
}

std::uint8_t cid_of(const MacCommand& command) {
    return std::visit([](const auto& c) { return Codec<std::decay_t<decltype(c)>>::cid; }, command);
}

Direction direction_of(const MacCommand& command) {
    return std::visit([](const auto& c) { return Codec<std::decay_t<decltype(c)>>::dir; }, command);
}

std::optional<std::size_t> payload_size(std::uint8_t cid, Direction dir) noexcept {
    return size_of(cid, dir);
}

MacCommands parse_mac_commands(ByteView bytes, Direction dir) {
    MacCommands out;
    ByteReader r{bytes};
    while (!r.empty()) {
        const std::size_t start = r.position();
        const std::uint8_t cid = *r.u8();
        const auto size = size_of(cid, dir);
        if (!size) {
            out.error = Error{Reject::unknown_mac_command, "unknown CID: the commands after it cannot be delimited"};
            out.stopped_at = start;
            return out;
        }
        const auto payload = r.take(*size);
        if (!payload) {
            out.error = Error{Reject::malformed, "MAC command cut short"};
            out.stopped_at = start;
            return out;
        }
        ByteReader pr{*payload};
        out.commands.push_back(*read_command(cid, dir, pr));
    }
    out.stopped_at = bytes.size();
    return out;
}

Result<Ok> serialize(const MacCommand& command, Bytes& out) {
    return std::visit(
        [&out](const auto& c) -> Result<Ok> {
            using C = Codec<std::decay_t<decltype(c)>>;
            Bytes payload;
            ByteWriter pw{payload};
            auto written = C::write(c, pw);
            if (!written) return written;
            out.push_back(C::cid);
            out.insert(out.end(), payload.begin(), payload.end());
            return Ok{};
        },
        command);
}

Result<Bytes> serialize(const std::vector<MacCommand>& commands) {
    Bytes out;
    for (const MacCommand& c : commands) {
        auto r = serialize(c, out);
        if (!r) return r.error();
    }
    return out;
}

}  // namespace schwebe::lorawan
