#include <catch2/catch.hpp>

#include "decoders/js/js_codecs.hpp"
