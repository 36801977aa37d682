// JavaScript codecs through the Node.js worker pool, next to the native codec of the same device (Elsys ERS CO2,
// bench/codecs/elsys_ers_co2.js against `elsys-ers-co2`), on the payload of the device's codec example.
//
//   - native: CodecRegistry's codec, one call after another on this thread.
//   - JS, batch B, W workers: JsCodecs::decode_uplinks with B uplinks at a time (the network server hands the
//     application sink a batch of uplinks; the pool spreads them over its workers), decodeUplink + normalizeUplink.
// Decodes per second of wall time, and per call for B = 1 (the latency one uplink alone sees).
//
//   build/bench/bench_codecs [decodes per measurement, default 20000]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "decoders/codec.hpp"
#include "decoders/js/js_codecs.hpp"

using namespace schwebe;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::uint8_t> payload{0x01, 0x00, 0xe2, 0x02, 0x29, 0x04, 0x00, 0x27, 0x05, 0x06, 0x06, 0x03, 0x08};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
    const std::string codec_file = SCHWEBE_BENCH_CODECS_DIR "/elsys_ers_co2.js";
    const auto now = std::chrono::system_clock::now();

    const auto registry = decoders::CodecRegistry::with_native_codecs();
    const auto* native = registry.find("elsys-ers-co2");
    const auto native_result = native->decode({.f_port = 1, .bytes = payload, .recv_time = now});
    auto start = Clock::now();
    std::size_t ok = 0;
    for (std::size_t i = 0; i < n * 10; ++i) {
        ok += native->decode({.f_port = 1, .bytes = payload, .recv_time = now}).ok() ? 1 : 0;
    }
    const double native_rate = static_cast<double>(ok) / seconds_since(start);
    std::printf("native elsys-ers-co2:           %10.0f decodes/s  (%.2f us each)\n", native_rate, 1e6 / native_rate);

    for (unsigned workers : {1u, 2u}) {
        decoders::js::PoolOptions options;
        options.workers = workers;
        decoders::js::JsCodecs js(options);
        if (auto failure = js.load_file(codec_file)) {
            std::fprintf(stderr, "bench_codecs: %s\n", failure->c_str());
            return 1;
        }
        // The same answer as the native codec, or the comparison means nothing.
        const decoders::ScriptCodecs::Uplink one{codec_file, {.f_port = 1, .bytes = payload, .recv_time = now}};
        const auto check = js.decode_uplinks(std::span(&one, 1)).front();
        if (!check.ok() || check.decoded->object != native_result.decoded->object ||
            check.decoded->readings.size() != 4) {
            std::fprintf(stderr, "bench_codecs: the JS codec disagrees with the native one: %s\n",
                         check.ok() ? check.decoded->object.dump().c_str() : check.error->reason.c_str());
            return 1;
        }
        for (std::size_t batch : {std::size_t{1}, std::size_t{16}, std::size_t{64}}) {
            std::vector<decoders::ScriptCodecs::Uplink> uplinks(batch, one);
            // Warm up: V8 compiles the hot codec functions.
            for (int i = 0; i < 200; ++i) (void)js.decode_uplinks(uplinks);
            const std::size_t rounds = std::max<std::size_t>(1, n / batch);
            std::size_t decoded = 0;
            start = Clock::now();
            for (std::size_t r = 0; r < rounds; ++r) {
                for (const auto& result : js.decode_uplinks(uplinks)) decoded += result.ok() ? 1 : 0;
            }
            const double seconds = seconds_since(start);
            const double rate = static_cast<double>(decoded) / seconds;
            std::printf("JS, %u worker%s, batch %3zu:      %10.0f decodes/s  (%.1f us per batch; %.1f %% of native)\n",
                        workers, workers == 1 ? " " : "s", batch, rate, 1e6 * seconds / static_cast<double>(rounds),
                        100.0 * rate / native_rate);
        }
    }
    return 0;
}
