// The shared codec vectors (tests/vectors/codec-examples/<codec>.json): every example of the reference codecs'
// own example lists, with the `object` the reference JavaScript codec gives, run through the native codecs.

#include <array>
#include <string>

#include "decoder_test_support.hpp"

using schwebe::test::decode;
using schwebe::test::load_vectors;
using Json = nlohmann::json;

namespace {

constexpr std::array<const char*, 6> vector_codecs{"nwave-nps405",  "bosch-tps110", "elsys-ers-co2",
                                                   "dragino-lht65", "emu-prof-ii",  "elvaco-cmi4140"};

}  // namespace

TEST_CASE("native codecs give the reference codecs' objects for every shared example", "[unit][decoders]") {
    std::size_t examples = 0;
    for (const char* name : vector_codecs) {
        const Json file = load_vectors(std::string("codec-examples/") + name + ".json");
        REQUIRE(file.at("examples").is_array());
        REQUIRE_FALSE(file.at("examples").empty());
        for (const Json& example : file.at("examples")) {
            const std::string description = example.at("description");
            INFO(name << ": " << description << " (FPort " << example.at("fPort") << ", "
                      << example.at("bytes_hex").get<std::string>() << ")");
            const auto result =
                decode(name, example.at("fPort").get<std::uint8_t>(), example.at("bytes_hex").get<std::string>());
            if (example.contains("expected_errors")) {
                REQUIRE_FALSE(result.ok());
                REQUIRE(result.error.has_value());
                CHECK(result.error->reason == example.at("expected_errors").at(0).get<std::string>());
            } else {
                REQUIRE(result.ok());
                CHECK(result.decoded->object == example.at("expected"));
                CHECK(result.decoded->warnings.empty());
            }
            ++examples;
        }
    }
    CHECK(examples == 15);
}
