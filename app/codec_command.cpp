#include "app/codec_command.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "common/gateway_json.hpp"
#include "decoders/codec.hpp"
#include "decoders/js/js_codecs.hpp"

namespace schwebe::app {

namespace {

using Json = nlohmann::ordered_json;

int fail(const std::string& reason) {
    std::cerr << "schwebe: " << reason << '\n';
    return 2;
}

std::optional<std::vector<std::uint8_t>> parse_hex(std::string text) {
    if (text.starts_with("0x") || text.starts_with("0X")) text.erase(0, 2);
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int value = 0;
        for (std::size_t k = i; k < i + 2; ++k) {
            const char c = text[k];
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0) return std::nullopt;
            value = value * 16 + d;
        }
        out.push_back(static_cast<std::uint8_t>(value));
    }
    return out;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

Json strings(const std::vector<std::string>& list) {
    Json out = Json::array();
    for (const auto& s : list) out.push_back(s);
    return out;
}

int print_decoded(const decoders::DecodeResult& result, bool pretty) {
    Json out;
    if (result.ok()) {
        out["data"] = Json::parse(result.decoded->object.dump());
        out["warnings"] = strings(result.decoded->warnings);
        out["errors"] = Json::array();
        Json readings = Json::array();
        for (const auto& r : result.decoded->readings) {
            Json reading{{"quantity", r.quantity}, {"value", r.value}, {"unit", r.unit}};
            if (r.boolean) reading["boolean"] = true;
            if (r.time) reading["time"] = common::format_rfc3339(*r.time);
            readings.push_back(std::move(reading));
        }
        out["readings"] = std::move(readings);
    } else {
        out["data"] = nullptr;
        out["warnings"] = Json::array();
        out["errors"] = Json::array({result.error->reason});
    }
    std::cout << out.dump(pretty ? 2 : -1) << '\n';
    return result.ok() ? 0 : 1;
}

decoders::js::PoolOptions pool_options(const common::Config& c) {
    decoders::js::PoolOptions o;
    o.node = c.get("codecs.js_node");
    o.workers = 1;
    o.timeout = std::chrono::milliseconds{std::max<std::int64_t>(1, c.get_int("codecs.js_timeout_ms"))};
    o.memory_mb = static_cast<unsigned>(std::max<std::int64_t>(16, c.get_int("codecs.js_memory_mb")));
    o.max_output_bytes = static_cast<std::size_t>(std::max<std::int64_t>(1024, c.get_int("codecs.js_max_output_bytes")));
    return o;
}

}  // namespace

int codec_list(bool json) {
    const auto names = decoders::CodecRegistry::with_native_codecs().names();
    if (json) {
        std::cout << Json(names).dump() << '\n';
    } else {
        for (const auto& n : names) std::cout << n << '\n';
    }
    return 0;
}

int codec_run(const common::Config& config, const CodecRunArgs& args) {
    if (args.f_port < 1 || args.f_port > 255) return fail("--fport: expected 1..255");
    if (args.hex.has_value() == args.encode.has_value()) return fail("expected one of --hex and --encode");
    if (args.downlink && !args.hex) return fail("--downlink decodes --hex bytes");
    const auto f_port = static_cast<std::uint8_t>(args.f_port);
    std::vector<std::uint8_t> bytes;
    if (args.hex) {
        auto parsed = parse_hex(*args.hex);
        if (!parsed) return fail("--hex: expected an even number of hex digits");
        bytes = std::move(*parsed);
    }
    if (!decoders::js::is_js_codec(args.codec)) {
        const auto registry = decoders::CodecRegistry::with_native_codecs();
        const auto* codec = registry.find(args.codec);
        if (!codec) return fail("--codec: no native codec '" + args.codec + "' and not a .js file (see schwebe codec list)");
        if (args.encode || args.downlink) return fail("--codec: the native codecs decode uplinks only");
        return print_decoded(codec->decode({.f_port = f_port, .bytes = bytes, .recv_time = std::chrono::system_clock::now()}),
                             args.pretty);
    }
    decoders::js::JsCodecs codecs(pool_options(config));
    if (auto failure = codecs.load_file(args.codec)) return fail(*failure);
    if (args.encode) {
        const auto data = nlohmann::json::parse(*args.encode, nullptr, false);
        if (data.is_discarded() || !data.is_object()) return fail("--encode: expected a JSON object");
        const auto result = codecs.encode_downlink(args.codec, f_port, data);
        Json out;
        if (result.ok()) {
            out["bytes"] = result.bytes;
            out["hex"] = to_hex(result.bytes);
            out["fPort"] = result.f_port.value_or(f_port);
            out["warnings"] = strings(result.warnings);
            out["errors"] = Json::array();
        } else {
            out["bytes"] = nullptr;
            out["warnings"] = Json::array();
            out["errors"] = Json::array({*result.error});
        }
        std::cout << out.dump(args.pretty ? 2 : -1) << '\n';
        return result.ok() ? 0 : 1;
    }
    if (args.downlink) return print_decoded(codecs.decode_downlink(args.codec, f_port, bytes), args.pretty);
    const decoders::ScriptCodecs::Uplink uplink{args.codec,
                                                {.f_port = f_port, .bytes = bytes, .recv_time = std::chrono::system_clock::now()}};
    return print_decoded(codecs.decode_uplinks(std::span(&uplink, 1)).front(), args.pretty);
}

}  // namespace schwebe::app
