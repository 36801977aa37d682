// Fuzz target over what applications and sensors send that Schwebe parses: every native payload codec (the first
// byte picks the codec and the fPort) and the MQTT `command/down` parser. Besides "no crash, no read past the end"
// (ASan/UBSan), it checks what must hold for any input: a decode either succeeds with a JSON object or fails with a
// reason, and a parsed downlink command is within the limits the queue accepts.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decoders/codec.hpp"
#include "integrations/mqtt/event_json.hpp"

namespace {
void check(bool condition) {
    if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto registry = schwebe::decoders::CodecRegistry::with_native_codecs();
    static const auto names = registry.names();
    if (size < 2) return 0;
    const auto* codec = registry.find(names[data[0] % names.size()]);
    check(codec != nullptr);
    const auto result = codec->decode({.f_port = data[1], .bytes = {data + 2, size - 2}, .recv_time = {}});
    check(result.ok() != result.error.has_value());
    if (result.ok()) {
        check(result.decoded->object.is_object());
        for (const auto& r : result.decoded->readings) check(!r.quantity.empty() && !r.unit.empty());
    } else {
        check(!result.error->reason.empty());
    }

    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto command = schwebe::mqtt::parse_down_command(
        "application/0b1f2f3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/device/0102030405060708/command/down", text);
    if (command) {
        check(command->f_port >= 1 && command->f_port <= 223);
        check(command->data.size() <= schwebe::mqtt::max_down_data_size);
    } else {
        check(!command.error().empty());
    }
    return 0;
}
