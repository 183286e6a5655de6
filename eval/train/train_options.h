// What one training run is asked to do (eval::Trainer, trainer.h). Kept apart from the trainer so
// that configs can hold it without including ATen (experiments/experiment_config.h embeds it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/kernels/op_impl.h"
#include "core/model/config.h"

namespace griffin::eval {

// How one training run uses the ranks of a torchrun or srun launch: kNone trains in this process
// alone (a sweep's points are spread over the ranks instead); kData trains the one model on every
// rank, each a slice of the global batch, gradients averaged (data_parallel.h).
enum class Parallel { kNone, kData };
const char* ParallelName(Parallel p);  // "none", "data"
// "none" or "data"; std::invalid_argument naming the choices otherwise.
Parallel ParseParallel(std::string_view name);

struct TrainOptions {
  std::string model = "tiny-griffin";  // a preset with overrides: "tiny-griffin,width=64,..."
  std::string device = "cpu";
  DType dtype = DType::kFloat32;  // compute dtype (master weights are always float32)
  OpChoice ops;
  int64_t steps = 1000;
  int64_t batch = 64;
  int64_t warmup = 100;
  double lr = 1e-3;
  double min_lr_ratio = 0.0;  // the cosine ends at lr x this
  double weight_decay = 0.1;
  double clip = 1.0;  // max global gradient norm (0: no clipping)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int64_t eval_every = 100;
  int64_t eval_batches = 4;
  double target_accuracy = 0.0;  // stop once eval accuracy reaches it (0: train every step)
  uint64_t seed = 0;             // initialisation and data
  // Checkpoints (`checkpoint.safetensors`, written atomically) go here every `checkpoint_every`
  // steps and at the end; a run finding one resumes from it. Empty: no checkpoints.
  std::string out_dir;
  int64_t checkpoint_every = 100;
  // Each step (forward, backward, clipping, AdamW) replayed from one CUDA graph, captured after
  // two eager steps: no host dispatch per step. Needs batches of one shape and one count of
  // scored positions (steps of another shape run eagerly); a capture that fails falls back to
  // eager steps with a note. The same arithmetic either way. On the CPU every step is eager.
  bool graph = false;
  Parallel parallel = Parallel::kNone;
};

// The options a config file sets ([train] of a recall experiment), each with its key and the
// least value it takes: one list that the config reader, its key schema and the trainer's own
// validation all walk, so a key is written once. Calls visit(key, field, least) for every field
// (`least` in the field's type; for booleans it is unused). Options: TrainOptions or a const one.
template <class Options, class Visitor>
void VisitConfigFields(Options& o, Visitor&& visit) {
  visit("steps", o.steps, int64_t{1});
  visit("batch", o.batch, int64_t{1});
  visit("warmup", o.warmup, int64_t{0});
  visit("eval_every", o.eval_every, int64_t{1});
  visit("eval_batches", o.eval_batches, int64_t{1});
  visit("checkpoint_every", o.checkpoint_every, int64_t{1});
  visit("min_lr_ratio", o.min_lr_ratio, 0.0);
  visit("weight_decay", o.weight_decay, 0.0);
  visit("clip", o.clip, 0.0);
  visit("target_accuracy", o.target_accuracy, 0.0);
  visit("graph", o.graph, false);
}

}  // namespace griffin::eval
