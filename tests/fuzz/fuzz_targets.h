// What each fuzz target does with one input, shared by the libFuzzer binaries (*_fuzz.cpp, built
// by the `fuzz` preset with clang) and the regression test that replays every committed input in
// the ordinary build (tests/io/fuzz_regressions_test.cpp). Each function hands the bytes to one of
// the readers of a user's files exactly as `griffin` does, through a file path, and uses what it
// returns; a reader may reject the input with an exception (std::exception), never crash, hang
// or allocate without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace griffin::fuzz {

// safetensors: SafetensorsFile::Open, then every tensor read through its mapping.
void Safetensors(const uint8_t* data, size_t size);
// A checkpoint folder: config.json and model.safetensors.index.json from the input (split at the
// first NUL byte), beside one valid shard; Checkpoint::Open, then every tensor.
void CheckpointIndex(const uint8_t* data, size_t size);
// An experiment TOML through `griffin run --dry-run`'s path: LoadExperiment, ExperimentPoints,
// DescribePlan.
void ExperimentToml(const uint8_t* data, size_t size);
// A sentencepiece model: Tokenizer::Load, then an encode and decode round trip.
void TokenizerModel(const uint8_t* data, size_t size);

// This process's folder for the inputs (made on first use).
const std::string& ScratchDir();

struct Target {
  const char* name;  // the folder of its inputs under tests/fuzz/corpus and tests/fuzz/regressions
  void (*run)(const uint8_t*, size_t);
};
const std::vector<Target>& Targets();

}  // namespace griffin::fuzz
