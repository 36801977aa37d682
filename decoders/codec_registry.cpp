#include <utility>

#include "decoders/codec.hpp"
#include "decoders/native_codecs.hpp"

namespace schwebe::decoders {

CodecRegistry CodecRegistry::with_native_codecs() {
    CodecRegistry registry;
    registry.add(make_cayenne_lpp());
    registry.add(make_nwave_nps405());
    registry.add(make_bosch_tps110());
    registry.add(make_elsys_ers_co2());
    registry.add(make_dragino_lht65());
    registry.add(make_emu_prof_ii());
    registry.add(make_elvaco_cmi4140());
    return registry;
}

void CodecRegistry::add(std::unique_ptr<Codec> codec) {
    if (!codec) return;
    std::string name(codec->name());
    codecs_.insert_or_assign(std::move(name), std::move(codec));
}

const Codec* CodecRegistry::find(std::string_view name) const {
    if (name.empty()) return nullptr;
    const auto it = codecs_.find(name);
    return it == codecs_.end() ? nullptr : it->second.get();
}

std::vector<std::string> CodecRegistry::names() const {
    std::vector<std::string> out;
    out.reserve(codecs_.size());
    for (const auto& [name, codec] : codecs_) out.push_back(name);
    return out;
}

}  // namespace schwebe::decoders
