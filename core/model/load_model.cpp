// LoadModel: a checkpoint folder or `preset:NAME` -> a ready model on the requested device.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <stdexcept>

#include "core/io/checkpoint.h"
#include "core/model/language_model.h"
#include "core/model/model.h"
#include "core/model/weights.h"

namespace griffin {
namespace {

// Tensors in the file that no weight of the model takes are an error: they mean a different
// architecture (or a config.json that does not describe this file).
void RejectUnusedTensors(const Checkpoint& ck, const ModelConfig& config) {
  std::set<std::string> wanted{"lm_head.weight"};
  for (const WeightSpec& s : WeightSpecs(config)) wanted.insert(s.name);
  std::vector<std::string> unused;
  for (const std::string& name : ck.Names()) {
    if (!wanted.count(name)) unused.push_back(name);
  }
  if (!unused.empty()) {
    if (unused.size() > 5) unused.resize(5);
    throw std::runtime_error(fmt::format("{}: tensors that config.json's model does not have: {}{}",
                                         ck.dir(), fmt::join(unused, ", "),
                                         unused.size() == 5 ? ", ..." : ""));
  }
}

}  // namespace

std::unique_ptr<LanguageModel> LoadModel(const std::string& spec, const LoadOptions& options) {
  ModelConfig config;
  ModelWeights weights;
  constexpr std::string_view kPreset = "preset:";
  if (spec.rfind(kPreset, 0) == 0) {
    config = PresetWithOverrides(spec.substr(kPreset.size()));
    config.dtype = options.dtype.value_or(DType::kFloat32);
    weights = RandomWeights(config, options.seed, options.device, config.dtype);
  } else {
    const Checkpoint ck = Checkpoint::Open(spec);
    config = ck.config();
    config.dtype = options.dtype.value_or(config.dtype);
    RejectUnusedTensors(ck, config);
    weights = LoadWeights(ck, config, options.device, config.dtype);
  }
  // A loaded model runs inference: on a GPU its decode steps take the packed projections.
  if (options.device.is_cuda()) PackProjections(weights);
  return std::make_unique<Model>(config, std::move(weights), options.device, options.ops);
}

}  // namespace griffin
