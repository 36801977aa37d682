#pragma once
// The JavaScript of a codec worker (codec_worker.js), built into the binary so that `schwebe` needs no file
// beside it.

namespace schwebe::decoders::js {

extern const char* const worker_script;

}  // namespace schwebe::decoders::js
