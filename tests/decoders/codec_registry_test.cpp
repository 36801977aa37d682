#include <memory>
#include <string>
#include <vector>

#include "decoder_test_support.hpp"

using namespace schwebe::decoders;

namespace {

/// A codec that answers with its own marker, to tell a replaced codec from the one that replaced it.
class MarkerCodec final : public Codec {
public:
    MarkerCodec(std::string name, std::string marker) : name_(std::move(name)), marker_(std::move(marker)) {}
    [[nodiscard]] std::string_view name() const noexcept override { return name_; }
    [[nodiscard]] DecodeResult decode(const DecodeInput&) const override {
        Decoded d;
        d.object = {{"marker", marker_}};
        return DecodeResult::success(std::move(d));
    }

private:
    std::string name_;
    std::string marker_;
};

}  // namespace

TEST_CASE("the registry holds the seven native codecs by name", "[unit][decoders]") {
    const CodecRegistry registry = CodecRegistry::with_native_codecs();
    CHECK(registry.names() == std::vector<std::string>{"bosch-tps110", "cayenne-lpp", "dragino-lht65", "elsys-ers-co2",
                                                       "elvaco-cmi4140", "emu-prof-ii", "nwave-nps405"});
    for (const std::string& name : registry.names()) {
        const Codec* codec = registry.find(name);
        REQUIRE(codec != nullptr);
        CHECK(codec->name() == name);
    }
}

TEST_CASE("the registry answers nullptr for an unknown or empty name", "[unit][decoders]") {
    const CodecRegistry registry = CodecRegistry::with_native_codecs();
    CHECK(registry.find("") == nullptr);
    CHECK(registry.find("cayenne") == nullptr);
    CHECK(registry.find("Cayenne-LPP") == nullptr);
    CHECK(registry.find("cayenne-lpp ") == nullptr);
    CHECK(CodecRegistry{}.find("cayenne-lpp") == nullptr);
    CHECK(CodecRegistry{}.names().empty());
}

TEST_CASE("adding a codec of an existing name replaces it", "[unit][decoders]") {
    CodecRegistry registry;
    registry.add(std::make_unique<MarkerCodec>("x", "first"));
    registry.add(std::make_unique<MarkerCodec>("x", "second"));
    registry.add(nullptr);
    CHECK(registry.names() == std::vector<std::string>{"x"});
    const Codec* codec = registry.find("x");
    REQUIRE(codec != nullptr);
    const auto result = codec->decode(DecodeInput{1, {}, SystemTime{}});
    REQUIRE(result.ok());
    CHECK(result.decoded->object.at("marker") == "second");
}
