#pragma once
// The native codecs, one file each; CodecRegistry::with_native_codecs() registers them all. Internal to decoders/:
// callers find codecs by name through the registry.

#include <memory>

#include "decoders/codec.hpp"

namespace schwebe::decoders {

std::unique_ptr<Codec> make_cayenne_lpp();     // "cayenne-lpp"
std::unique_ptr<Codec> make_nwave_nps405();    // "nwave-nps405"
std::unique_ptr<Codec> make_bosch_tps110();    // "bosch-tps110"
std::unique_ptr<Codec> make_elsys_ers_co2();   // "elsys-ers-co2"
std::unique_ptr<Codec> make_dragino_lht65();   // "dragino-lht65"
std::unique_ptr<Codec> make_emu_prof_ii();     // "emu-prof-ii"
std::unique_ptr<Codec> make_elvaco_cmi4140();  // "elvaco-cmi4140"

}  // namespace schwebe::decoders
