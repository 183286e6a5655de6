// Trains a small model from scratch on a synthetic task (docs/EVALS.md section 2): AdamW with
// linear warm-up and cosine decay, weight decay off for norms, biases and the RG-LRU parameters (as
// RecurrentGemma trains), gradient-norm clipping, evaluation every N steps on a fixed held-out
// stream, early stop at a target accuracy, and checkpoints that resume bit for bit.
// Precision: float32 master weights and optimizer state; with dtype bfloat16 every step runs the
// model in bf16 under its own dtype policy (RG-LRU parameters, gates and state float32), which is
// what autocast does, applied once per step to the weights.
// Data: batch `step` of the task's stream `seed` (eval: stream `seed + 1`), so a resumed run
// trains on exactly the batches an uninterrupted one would.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/model/config.h"
#include "core/model/language_model.h"
#include "eval/tasks/task.h"
#include "eval/train/train_options.h"

namespace griffin {
class Model;
}  // namespace griffin

namespace griffin::eval {

class AdamW;
class GradientSync;

struct StepRecord {
  int64_t step = 0;
  double loss = 0, lr = 0, grad_norm = 0;
  // Wall time per step, averaged over the steps between two reads of the device (evaluations
  // and checkpoints; their own time is not counted): steps are not synchronised one by one.
  double seconds = 0;
};

struct EvalRecord {
  int64_t step = 0;  // steps trained when it was measured
  double loss = 0;
  double token_accuracy = 0;    // answer tokens predicted right
  double example_accuracy = 0;  // examples with every answer token right
};

// What one evaluation batch scores: greedy predictions at the scored positions against their
// targets. `rows` are the scored positions as flat indices into [batch, seq_len] (ascending, as
// the tasks make them), `logits` [rows, vocab] and `targets` [rows] theirs. An example is right
// when every one of its scored positions is; an example with none scored counts as right.
struct RecallCounts {
  int64_t right = 0, scored = 0;             // answer tokens
  int64_t examples_right = 0, examples = 0;  // whole examples
};
RecallCounts CountRecall(const at::Tensor& logits, const at::Tensor& targets,
                         const at::Tensor& rows, int64_t batch, int64_t seq_len);

struct TrainSummary {
  int64_t steps_done = 0;
  bool reached_target = false;
  int64_t resumed_from = 0;  // step the run resumed at (0: from scratch)
  double tokens_per_s = 0;   // training tokens per second over this process's steps
  double median_step_ms = 0;
  // The device's own time per step (CUDA events around each step: batch upload and the replay or
  // the eager step), median over the intervals: below median_step_ms, the device waited on the
  // host between steps. Equal to the wall time on the CPU.
  double median_device_step_ms = 0;
  int64_t parameters = 0;
};

using TrainProgress = std::function<void(const std::string&)>;

class Trainer {
 public:
  Trainer(std::shared_ptr<const SyntheticTask> task, TrainOptions options);
  ~Trainer();

  // Trains until `steps` or the target accuracy; resumes from out_dir's checkpoint if there is one.
  TrainSummary Run(const TrainProgress& progress = nullptr);
  EvalRecord Evaluate() const;  // on the held-out stream, with the current weights
  // The same on another task of the same vocabulary (e.g. recall at one fixed distance).
  EvalRecord EvaluateOn(const SyntheticTask& task) const;

  const std::vector<StepRecord>& steps() const { return steps_; }
  const std::vector<EvalRecord>& evals() const { return evals_; }
  const ModelConfig& config() const { return config_; }
  // The float32 master weights by name (shared, not copies).
  const std::map<std::string, at::Tensor>& parameters() const { return params_; }
  // Whether training steps are being replayed from a captured CUDA graph (TrainOptions::graph).
  bool graph_captured() const;
  // An inference model with the current weights, in the compute dtype.
  std::unique_ptr<Model> Snapshot() const;

 private:
  // The weights the model runs with: the masters cast to the compute dtype (RG-LRU float32).
  std::map<std::string, at::Tensor> ComputeWeights(bool copy) const;
  struct StepBatch;
  struct GraphStep;
  StepBatch PrepareStep(int64_t step) const;
  // The step a checkpoint in out_dir resumes at, its weights and records loaded (0: none).
  int64_t ResumeFromCheckpoint(const TrainProgress& progress);
  // Data-parallel: the launch's group checked against the options and the gradient sync made.
  void StartDataParallel(const std::function<std::invalid_argument(const std::string&)>& fail);
  // SaveCheckpoint, data-parallel on rank 0 only, with every rank stopping if it fails.
  void SaveCheckpointOnRankZero(int64_t step);
  // Data-parallel: rank 0's step, stop decision, weights, optimizer state and records on every
  // rank; every rank throws if rank 0 could not resume (`resume_error`, rank 0's reason).
  void ShareRankZeroState(int64_t& step, bool& stop, const std::string& resume_error);
  // Evaluates after `step`, reports it, and says whether the target accuracy is reached.
  bool EvaluateAt(int64_t step, double device_step_ms, const TrainProgress& progress);
  // One optimizer step on `batch` at rate lr, replayed from the captured graph when
  // TrainOptions::graph allows; returns its loss and pre-clipping gradient norm (device scalars,
  // not read back).
  std::pair<at::Tensor, at::Tensor> TrainStep(const StepBatch& batch, double lr, double clip,
                                              const TrainProgress& progress);
  // The step itself at the optimizer's current rate: forward, backward, clipping, AdamW.
  std::pair<at::Tensor, at::Tensor> StepOn(const StepBatch& batch, double clip);
  at::Tensor Loss(const StepBatch& batch) const;
  size_t OptimizerIndex(const at::Tensor& param) const;
  void SaveCheckpoint(int64_t step) const;
  int64_t LoadCheckpoint();
  std::string Fingerprint() const;

  std::shared_ptr<const SyntheticTask> task_;
  TrainOptions o_;
  ModelConfig config_;
  c10::Device device_;
  std::map<std::string, at::Tensor> params_;
  std::map<std::string, bool> keep_fp32_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<GraphStep> graph_;
  std::unique_ptr<GradientSync> sync_;  // parallel = "data" only
  bool graph_failed_ = false;
  std::vector<StepRecord> steps_;
  std::vector<EvalRecord> evals_;
};

// The learning rate at `step` (0-based): linear warm-up to lr, then cosine to lr x min_lr_ratio.
double ScheduledLr(const TrainOptions& o, int64_t step);

}  // namespace griffin::eval
