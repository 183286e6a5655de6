// Experiment configs: strict TOML (toml++) with `--set key=value` overrides, resolved into one
// ExperimentConfig and expanded into points (the cartesian product of the models and every
// list-valued sweep key). Unknown keys, wrong types and impossible values are errors naming
// FILE:LINE:COLUMN (or the --set that introduced them). Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernels/op_impl.h"
#include "core/model/config.h"
#include "eval/train/train_options.h"

namespace griffin::experiments {

class MeasureKind;  // measure_kind.h

// The names experiment.measure takes (one kind of measurement each: measure_kind.h).
inline constexpr const char* kMemoryPerToken = "memory_per_token";
inline constexpr const char* kLatencyAtLength = "latency_at_length";
// Train each model from scratch on a synthetic task ([task], [train]), then measure its recall.
inline constexpr const char* kRecall = "recall";
// Needle in a haystack / passkey with the model's tokenizer ([niah]): accuracy per length x depth.
inline constexpr const char* kNiahText = "niah_text";

// In [models]: label = "CHECKPOINT", or label = { checkpoint = "...", max_context = N } to keep
// a model out of the points above N tokens (the Transformer at 1M tokens).
struct ModelEntry {
  std::string label;        // the key in [models], e.g. "griffin"
  std::string checkpoint;   // a checkpoint folder or preset:NAME[,key=value...]
  int64_t max_context = 0;  // 0: no limit
};

// How a latency point decodes: each step dispatched from the host, or each step one CUDA-graph
// replay (graph).
enum class DecodeMode { kEager, kGraph };
DecodeMode ParseDecodeMode(std::string_view name);  // "eager" | "graph"; otherwise invalid_argument
std::string_view DecodeModeName(DecodeMode mode);

// A recall experiment's [task], [train] and its sweeps. The models are presets (with overrides)
// trained from scratch; the task decides the vocabulary.
struct RecallSettings {
  std::string task;                            // [task] kind: mqar, distance_recall, ...
  std::map<std::string, double> task_options;  // [task]'s other keys
  // [task] eval_distances (distance_recall): after training, accuracy at each fixed distance.
  std::vector<int64_t> eval_distances;
  // [sweep] keys naming task options (e.g. distance = [4, 16, 64]): one point per value.
  std::map<std::string, std::vector<double>> task_sweeps;
  std::vector<std::string> model_overrides = {""};  // [sweep] overrides, e.g. ["width=64"]
  // [train]: the trainer's options as the file sets them (steps, batch, warmup, eval_every,
  // eval_batches, checkpoint_every, min_lr_ratio, weight_decay, clip, target_accuracy, graph).
  // Each point fills in the rest (model, device, dtype, ops, lr, seed, out_dir).
  eval::TrainOptions train;
  std::vector<double> lrs = {1e-3};  // [train] lr, which may be a list (swept)
};

// [niah] of a niah_text experiment; the lengths are [sweep] context.
struct NiahSettings {
  std::string kind = "niah";  // niah | passkey
  std::vector<double> depths = {0.0, 0.25, 0.5, 0.75, 1.0};
  int64_t trials = 4;
  int64_t max_new_tokens = 16;
  bool chat = true;
  std::string haystack = "data/haystack";  // a folder of *.txt (paths as checkpoint folders)
  std::string tokenizer;                   // empty: CHECKPOINT/tokenizer.model
};

struct ExperimentConfig {
  std::string path;  // the TOML file it came from
  std::string name, description;
  std::vector<std::string> measures;  // experiment.measure: names of one kind
  const MeasureKind* kind = nullptr;  // the kind those names belong to (set at load)
  // [run]
  std::string device = "cpu";
  DType dtype = DType::kFloat32;
  uint64_t seed = 0;
  OpImpl scan = OpImpl::kReference;  // the RG-LRU implementation
  OpImpl conv = OpImpl::kReference;  // the Conv1D implementation
  int64_t prefill_chunk = 0;         // prefill in pieces of at most this many tokens (0: one call)
  DecodeMode decode = DecodeMode::kEager;
  // [models], in file order
  std::vector<ModelEntry> models;
  // [sweep]
  std::vector<int64_t> contexts;  // tokens held (prompt length) at each point
  std::vector<int64_t> batches = {1};
  // [memory]
  double budget_gib = 0.0;  // largest batch that fits this much device memory (0: not computed)
  // [latency]
  int64_t repeats = 3;
  int64_t warmup = 1;
  int64_t decode_tokens = 32;
  // [task], [train] (measure = ["recall"])
  RecallSettings recall;
  // [niah] (measure = ["niah_text"])
  NiahSettings niah;

  std::vector<std::string> overrides;  // the --set list, as given
  std::string resolved_toml;           // the config after overrides, as TOML text

  // Whether experiment.measure lists `what` (a kind asking which of its names were listed).
  bool Measures(const std::string& what) const;
  const MeasureKind& Kind() const;  // throws std::logic_error before LoadExperiment set it
};

struct ExperimentPoint {
  int64_t index = 0;
  std::string model;       // ModelEntry::label
  std::string checkpoint;  // ModelEntry::checkpoint
  int64_t context = 0, batch = 1;
  // Recall points: the model overrides, learning rate and task options of this point.
  std::string overrides;
  double lr = 0.0;
  std::map<std::string, double> task_options;
};

// Reads `path`, applies `overrides` ("section.key=value", the value in TOML syntax; bare words are
// strings), validates. Throws std::invalid_argument with FILE:LINE:COLUMN in the message.
ExperimentConfig LoadExperiment(const std::string& path, const std::vector<std::string>& overrides);

// The points of the experiment, in the order its kind gives (MeasureKind::Points).
std::vector<ExperimentPoint> ExperimentPoints(const ExperimentConfig& config);

// Names a point in logs and in the journal ("model=griffin context=1024 batch=1"; its kind's Key).
std::string PointKey(const ExperimentConfig& config, const ExperimentPoint& point);

}  // namespace griffin::experiments
