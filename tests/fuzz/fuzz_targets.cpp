#include "fuzz_targets.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "core/io/checkpoint.h"
#include "core/io/paths.h"
#include "core/io/safetensors.h"
#include "core/io/tokenizer.h"
#include "experiments/experiment_config.h"
#include "experiments/runner.h"

namespace griffin::fuzz {
namespace {

std::string WriteInput(const std::string& name, std::string_view bytes) {
  const std::string path = paths::Join(ScratchDir(), name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Reads every byte of `t` (through the mapping, for a safetensors view): a wrong offset or size
// that the reader let through shows up here, under AddressSanitizer, as a bad read.
void Touch(const at::Tensor& t) {
  if (t.numel() == 0) return;
  const at::Tensor bytes = t.contiguous();
  volatile uint8_t sink = 0;
  const auto* p = static_cast<const uint8_t*>(bytes.data_ptr());
  for (size_t i = 0; i < bytes.nbytes(); ++i) sink = sink ^ p[i];
}

}  // namespace

// One folder per process: libFuzzer's -jobs runs several.
const std::string& ScratchDir() {
  static const std::string dir = paths::MakeTempDir("griffin-fuzz");
  return dir;
}

void Safetensors(const uint8_t* data, size_t size) {
  const std::string path =
      WriteInput("input.safetensors", {reinterpret_cast<const char*>(data), size});
  const auto file = SafetensorsFile::Open(path);
  for (const auto& [name, entry] : file->entries()) Touch(file->Tensor(name));
}

void CheckpointIndex(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string dir = paths::Join(ScratchDir(), "checkpoint");
  static const bool made = [&] {
    paths::MakeDirs(dir);
    // A valid shard to point at: the committed tiny RecurrentGemma's tensors.
    std::ifstream in(
        std::string(GRIFFIN_SOURCE_DIR) + "/data/fixtures/tiny-recurrentgemma/model.safetensors",
        std::ios::binary);
    std::ofstream out(paths::Join(dir, "model-00001-of-00001.safetensors"), std::ios::binary);
    out << in.rdbuf();
    return true;
  }();
  (void)made;
  WriteInput("checkpoint/config.json", input.substr(0, split));
  WriteInput("checkpoint/model.safetensors.index.json",
             split == std::string_view::npos ? std::string_view() : input.substr(split + 1));
  const Checkpoint ck = Checkpoint::Open(dir);
  for (const std::string& name : ck.Names()) Touch(ck.Get(name));
}

void ExperimentToml(const uint8_t* data, size_t size) {
  const std::string path =
      WriteInput("experiment.toml", {reinterpret_cast<const char*>(data), size});
  const experiments::ExperimentConfig config = experiments::LoadExperiment(path, {});
  (void)experiments::ExperimentPoints(config);
  (void)experiments::DescribePlan(config);
}

void TokenizerModel(const uint8_t* data, size_t size) {
  const std::string path =
      WriteInput("tokenizer.model", {reinterpret_cast<const char*>(data), size});
  const Tokenizer tok = Tokenizer::Load(path);
  const std::vector<int64_t> ids = tok.Encode("Hello, world: 12 ünïcode <start_of_turn>");
  (void)tok.Decode(ids);
}

const std::vector<Target>& Targets() {
  static const std::vector<Target> targets = {{"safetensors", &Safetensors},
                                              {"checkpoint_index", &CheckpointIndex},
                                              {"experiment_toml", &ExperimentToml},
                                              {"tokenizer_model", &TokenizerModel}};
  return targets;
}

}  // namespace griffin::fuzz
