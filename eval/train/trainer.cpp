#include "eval/train/trainer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "core/io/paths.h"
#include "core/io/safetensors.h"
#include "core/model/dtype.h"
#include "core/model/model.h"
#include "core/model/positions.h"
#include "core/model/weights.h"
#include "core/runtime/captured_step.h"
#include "core/runtime/device_name.h"
#include "core/runtime/device_timer.h"
#include "core/runtime/distributed.h"
#include "core/runtime/latency_stats.h"
#include "eval/train/adamw.h"
#include "eval/train/data_parallel.h"

namespace griffin::eval {
namespace {

constexpr const char* kCheckpointFile = "checkpoint.safetensors";
// Training batches made ahead of the step that uses them, in parallel (Trainer::Run).
constexpr size_t kBatchesAhead = 4;
constexpr int kGraphWarmupSteps = 2;  // eager steps before the capture (CapturedStep's default)

// The step and evaluation records as float64 rows, [n, 5] (step, loss, lr, grad_norm, seconds)
// and [n, 4] (step, loss, token_accuracy, example_accuracy): what a checkpoint keeps and what
// rank 0 sends the other ranks of a data-parallel run.
at::Tensor RecordRows(const std::vector<StepRecord>& records) {
  std::vector<double> v;
  for (const StepRecord& r : records) {
    v.insert(v.end(), {double(r.step), r.loss, r.lr, r.grad_norm, r.seconds});
  }
  return at::tensor(v, at::kDouble).view({-1, 5});
}
at::Tensor RecordRows(const std::vector<EvalRecord>& records) {
  std::vector<double> v;
  for (const EvalRecord& r : records) {
    v.insert(v.end(), {double(r.step), r.loss, r.token_accuracy, r.example_accuracy});
  }
  return at::tensor(v, at::kDouble).view({-1, 4});
}
void RecordsFromRows(const at::Tensor& rows, std::vector<StepRecord>& out) {
  const at::Tensor d = rows.to(at::kCPU).contiguous();
  const auto a = d.accessor<double, 2>();
  out.clear();
  for (int64_t i = 0; i < d.size(0); ++i) {
    out.push_back({static_cast<int64_t>(a[i][0]), a[i][1], a[i][2], a[i][3], a[i][4]});
  }
}
void RecordsFromRows(const at::Tensor& rows, std::vector<EvalRecord>& out) {
  const at::Tensor d = rows.to(at::kCPU).contiguous();
  const auto a = d.accessor<double, 2>();
  out.clear();
  for (int64_t i = 0; i < d.size(0); ++i) {
    out.push_back({static_cast<int64_t>(a[i][0]), a[i][1], a[i][2], a[i][3]});
  }
}

// Doubles kept bit for bit in a safetensors file (which has no F64): viewed as int64.
at::Tensor AsInt64Bits(const at::Tensor& rows) { return rows.view(at::kLong).clone(); }
at::Tensor FromInt64Bits(const at::Tensor& t) { return t.contiguous().view(at::kDouble); }

}  // namespace

const char* ParallelName(Parallel p) { return p == Parallel::kData ? "data" : "none"; }

Parallel ParseParallel(std::string_view name) {
  if (name == "none") return Parallel::kNone;
  if (name == "data") return Parallel::kData;
  throw std::invalid_argument(fmt::format("'{}' is not none or data", name));
}

double ScheduledLr(const TrainOptions& o, int64_t step) {
  if (step < o.warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup);
  const double span = static_cast<double>(std::max<int64_t>(1, o.steps - o.warmup));
  const double progress = std::min(1.0, static_cast<double>(step - o.warmup) / span);
  return o.lr * (o.min_lr_ratio + (1.0 - o.min_lr_ratio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

Trainer::Trainer(std::shared_ptr<const SyntheticTask> task, TrainOptions options)
    : task_(std::move(task)), o_(std::move(options)), device_(c10::kCPU) {
  // Parameters must be ordinary tensors even when the caller runs under inference mode.
  const c10::InferenceMode not_inference(false);
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(fmt::format("train: {}", why));
  };
  VisitConfigFields(std::as_const(o_), [&](const char* key, const auto& field, auto least) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(field)>, bool>) {
      if (!(field >= least)) throw fail(fmt::format("{} {} must be >= {}", key, field, least));
    }
  });
  if (!(o_.lr > 0.0)) throw fail(fmt::format("lr {} must be > 0", o_.lr));
  config_ = PresetWithOverrides(o_.model);
  config_.vocab_size = task_->vocab_size();  // the task decides the vocabulary
  config_.dtype = o_.dtype;
  ValidateConfig(config_);
  try {
    device_ = ParseDevice(o_.device);
  } catch (const std::invalid_argument& e) {
    throw fail(fmt::format("device {}", e.what()));
  }
  params_ = RandomWeightTensors(config_, o_.seed, device_, DType::kFloat32);
  for (const WeightSpec& spec : WeightSpecs(config_)) keep_fp32_[spec.name] = spec.keep_fp32;
  // Weight decay on matrices only; none on norms, biases and the RG-LRU's parameters.
  AdamW::Group decay{{}, o_.weight_decay}, no_decay{{}, 0.0};
  for (auto& [name, p] : params_) {
    p.set_requires_grad(true);
    (p.dim() >= 2 && !keep_fp32_[name] ? decay : no_decay).params.push_back(p);
  }
  optimizer_ = std::make_unique<AdamW>(std::vector<AdamW::Group>{decay, no_decay}, o_.beta1,
                                       o_.beta2, o_.eps);
  if (o_.parallel == Parallel::kData) StartDataParallel(fail);
}

void Trainer::StartDataParallel(
    const std::function<std::invalid_argument(const std::string&)>& fail) {
  const std::shared_ptr<distributed::Group> group = distributed::DefaultGroup();
  if (!group) {
    throw fail(
        "parallel = \"data\" trains one model over the ranks of a torchrun or srun launch "
        "(README.md, \"Several GPUs and hosts\"); this process is not one");
  }
  if (o_.batch % group->size() != 0) {
    throw fail(fmt::format("batch {} must be a multiple of the {} ranks it is split over", o_.batch,
                           group->size()));
  }
  if (o_.graph) throw fail("graph = true and parallel = \"data\" do not combine yet");
  if (group->cuda() != device_.is_cuda()) {
    throw fail(fmt::format("device {} but the ranks' group is for {} tensors", o_.device,
                           group->cuda() ? "CUDA" : "CPU"));
  }
  sync_ = std::make_unique<GradientSync>(*group, optimizer_->params());
}

Trainer::~Trainer() = default;

std::map<std::string, at::Tensor> Trainer::ComputeWeights(bool copy) const {
  std::map<std::string, at::Tensor> compute;
  for (const auto& [name, p] : params_) {
    const at::ScalarType target = keep_fp32_.at(name) ? at::kFloat : ToScalarType(o_.dtype);
    // Cast per step (differentiable; a no-op for float32); a copy for a snapshot, which must not
    // follow later optimizer steps.
    compute[name] =
        copy ? p.detach().to(target, /*non_blocking=*/false, /*copy=*/true) : p.to(target);
  }
  return compute;
}

std::unique_ptr<Model> Trainer::Snapshot() const {
  const c10::NoGradGuard no_grad;
  return std::make_unique<Model>(config_, AssembleWeights(config_, ComputeWeights(true)), device_,
                                 o_.ops);
}

namespace {

// The positions a task scores (targets other than kIgnore), as rows of the flattened
// [batch * seq_len] output, and their targets. Only these rows get logits: a recall task scores a
// few query positions per sequence.
struct ScoredRows {
  at::Tensor rows;     // int64 [n], on the host
  at::Tensor targets;  // int64 [n], on the host
};

ScoredRows ScoredRowsOf(const at::Tensor& targets) {
  const at::Tensor flat = targets.flatten();
  const at::Tensor rows = flat.ne(kIgnore).nonzero().flatten();
  return {rows, flat.index_select(0, rows)};
}

}  // namespace

// A training batch as the step consumes it, made on a helper thread while the device runs the
// previous step: inputs, positions and the scored rows with their targets, in page-locked memory
// on a GPU so that their uploads neither wait for the device nor make it wait.
struct Trainer::StepBatch {
  at::Tensor inputs, positions, rows, targets;
  // Data-parallel: this rank's scored positions x ranks / the global batch's, the weight that
  // makes the ranks' averaged mean losses the global batch's mean (1 when the slices score alike).
  double rank_weight = 1.0;
};

Trainer::StepBatch Trainer::PrepareStep(int64_t step) const {
  TaskBatch batch = task_->Batch(o_.batch, o_.seed, step);
  double rank_weight = 1.0;
  if (sync_) {  // this rank's slice of the global batch
    const int64_t rows = o_.batch / sync_->size();
    const double global = batch.targets.ne(kIgnore).sum().item<double>();
    batch.inputs = batch.inputs.narrow(0, sync_->rank() * rows, rows).contiguous();
    batch.targets = batch.targets.narrow(0, sync_->rank() * rows, rows).contiguous();
    const double local = batch.targets.ne(kIgnore).sum().item<double>();
    rank_weight = global > 0 ? local * sync_->size() / global : 1.0;
  }
  const int64_t B = batch.inputs.size(0), L = batch.inputs.size(1);
  const ScoredRows scored = ScoredRowsOf(batch.targets);
  StepBatch out{batch.inputs, PositionRows(B, 0, L), scored.rows, scored.targets, rank_weight};
  if (device_.is_cuda()) {
    for (at::Tensor* t : {&out.inputs, &out.positions, &out.rows, &out.targets}) {
      *t = t->pin_memory();
    }
  }
  return out;
}

at::Tensor Trainer::Loss(const StepBatch& batch) const {
  const Model model(config_, AssembleWeights(config_, ComputeWeights(false)), device_, o_.ops);
  auto state = model.NewState(batch.inputs.size(0));
  const bool pinned = device_.is_cuda();
  return model.LossRows(batch.inputs, batch.positions, *state, batch.rows.to(device_, pinned),
                        batch.targets.to(device_, pinned));
}

// The captured step's fixed buffers: each step's batch is copied into them before the replay.
struct Trainer::GraphStep {
  StepBatch batch;  // inputs, rows, targets on the device; positions page-locked on the host
  at::Tensor loss, norm;
  std::unique_ptr<CapturedStep> step;
  int runs = 0;
};

bool Trainer::graph_captured() const { return graph_ && graph_->step->captured(); }

std::pair<at::Tensor, at::Tensor> Trainer::StepOn(const StepBatch& batch, double clip) {
  const ProfileRange range("train step");  // scripts/device-run.sh's GRIFFIN_TRAIN_BENCH profile
  optimizer_->ZeroGrad();
  if (sync_) sync_->BeforeForward();
  at::Tensor loss = Loss(batch);
  if (sync_) {
    if (batch.rank_weight != 1.0) loss = loss * batch.rank_weight;
    sync_->BeforeBackward();
  }
  loss.backward();  // with sync_: every gradient averaged over the ranks when it returns
  at::Tensor norm = optimizer_->ClipGradNorm(clip);
  optimizer_->Step();
  return {loss.detach(), std::move(norm)};
}

std::pair<at::Tensor, at::Tensor> Trainer::TrainStep(const StepBatch& batch, double lr, double clip,
                                                     const TrainProgress& progress) {
  optimizer_->SetRate(lr);  // before the graph's run too: its replay reads the rate on the device
  const auto same_shape = [&](const StepBatch& g) {
    return g.inputs.sizes() == batch.inputs.sizes() && g.rows.sizes() == batch.rows.sizes();
  };
  if (o_.graph && !graph_failed_ && (!graph_ || same_shape(graph_->batch))) {
    if (!graph_) {
      graph_ = std::make_unique<GraphStep>();
      GraphStep& g = *graph_;
      // The positions are the same every step (0..L-1 per row) and stay a host tensor, so the
      // model still sees one plain causal stream.
      g.batch = {at::empty_like(batch.inputs, batch.inputs.options().device(device_)),
                 batch.positions.clone(),
                 at::empty_like(batch.rows, batch.rows.options().device(device_)),
                 at::empty_like(batch.targets, batch.targets.options().device(device_))};
      if (device_.is_cuda()) g.batch.positions = g.batch.positions.pin_memory();
      g.step = std::make_unique<CapturedStep>(
          [this, clip] {
            GraphStep& gs = *graph_;
            std::tie(gs.loss, gs.norm) = StepOn(gs.batch, clip);
          },
          device_, kGraphWarmupSteps);
    }
    GraphStep& g = *graph_;
    const bool async = device_.is_cuda();
    g.batch.inputs.copy_(batch.inputs, async);
    g.batch.rows.copy_(batch.rows, async);
    g.batch.targets.copy_(batch.targets, async);
    const bool capture_run = device_.is_cuda() && g.runs == kGraphWarmupSteps;
    try {
      g.step->Run();
      ++g.runs;
      return {g.loss.clone(), g.norm.clone()};
    } catch (const std::exception& e) {
      if (!capture_run) throw;
      // Nothing of the failed capture ran on the device: the step is taken eagerly below.
      graph_failed_ = true;
      graph_.reset();
      if (progress) {
        progress(fmt::format("CUDA-graph capture failed; training on eagerly: {}", e.what()));
      }
    }
  }
  return StepOn(batch, clip);
}

EvalRecord Trainer::Evaluate() const { return EvaluateOn(*task_); }

EvalRecord Trainer::EvaluateOn(const SyntheticTask& task) const {
  if (task.vocab_size() != config_.vocab_size) {
    throw std::invalid_argument(fmt::format("evaluate: task {} has vocabulary {}, the model {}",
                                            task.name(), task.vocab_size(), config_.vocab_size));
  }
  const c10::NoGradGuard no_grad;
  const std::unique_ptr<Model> model = Snapshot();
  double loss = 0.0;
  RecallCounts counts;
  for (int64_t k = 0; k < o_.eval_batches; ++k) {
    const TaskBatch batch = task.Batch(o_.batch, o_.seed + 1, k);
    const int64_t B = batch.inputs.size(0), L = batch.inputs.size(1);
    auto state = model->NewState(B);
    const ScoredRows rows = ScoredRowsOf(batch.targets);
    const at::Tensor logits =
        model->ForwardRows(batch.inputs, PositionRows(B, 0, L), *state, rows.rows);
    const at::Tensor targets = rows.targets.to(device_);
    loss += at::cross_entropy_loss(logits, targets).item<double>();
    const RecallCounts c = CountRecall(logits, targets, rows.rows, B, L);
    counts.right += c.right;
    counts.scored += c.scored;
    counts.examples_right += c.examples_right;
    counts.examples += c.examples;
  }
  EvalRecord r;
  r.step = static_cast<int64_t>(steps_.size());
  r.loss = loss / static_cast<double>(o_.eval_batches);
  r.token_accuracy = counts.scored > 0
                         ? static_cast<double>(counts.right) / static_cast<double>(counts.scored)
                         : 0.0;
  r.example_accuracy =
      static_cast<double>(counts.examples_right) / static_cast<double>(counts.examples);
  return r;
}

RecallCounts CountRecall(const at::Tensor& logits, const at::Tensor& targets,
                         const at::Tensor& rows, int64_t batch, int64_t seq_len) {
  const at::Tensor hit = logits.argmax(-1).eq(targets).to(at::kCPU);
  // An example is right when every scored position is: count its misses.
  const at::Tensor misses = at::zeros({batch}, at::kLong)
                                .index_add_(0, at::floor_divide(rows.to(at::kCPU), seq_len),
                                            hit.logical_not().to(at::kLong));
  RecallCounts c;
  c.right = hit.sum().item<int64_t>();
  c.scored = rows.numel();
  c.examples_right = misses.eq(0).sum().item<int64_t>();
  c.examples = batch;
  return c;
}

std::string Trainer::Fingerprint() const {
  return fmt::format(
      "task={} vocab={} seq_len={} answers={} model={} dtype={} scan={} conv={} steps={} "
      "batch={} warmup={} lr={} min_lr_ratio={} weight_decay={} clip={} betas={},{} eps={} "
      "seed={}",
      task_->name(), task_->vocab_size(), task_->seq_len(), task_->answers_per_example(), o_.model,
      DTypeName(o_.dtype), OpImplName(o_.ops.scan), OpImplName(o_.ops.conv), o_.steps, o_.batch,
      o_.warmup, o_.lr, o_.min_lr_ratio, o_.weight_decay, o_.clip, o_.beta1, o_.beta2, o_.eps,
      o_.seed);
}

size_t Trainer::OptimizerIndex(const at::Tensor& p) const {
  const std::vector<at::Tensor>& all = optimizer_->params();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].is_same(p)) return i;
  }
  throw std::logic_error("trainer: a parameter the optimizer does not hold");
}

void Trainer::SaveCheckpoint(int64_t step) const {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, p] : params_) {
    tensors["param/" + name] = p.detach();
    const size_t i = OptimizerIndex(p);
    tensors["adam/exp_avg/" + name] = optimizer_->exp_avg()[i];
    tensors["adam/exp_avg_sq/" + name] = optimizer_->exp_avg_sq()[i];
  }
  if (!steps_.empty()) tensors["metrics/steps"] = AsInt64Bits(RecordRows(steps_));
  if (!evals_.empty()) tensors["metrics/evals"] = AsInt64Bits(RecordRows(evals_));
  WriteSafetensors(paths::Join(o_.out_dir, kCheckpointFile), tensors,
                   {{"step", std::to_string(step)}, {"fingerprint", Fingerprint()}});
}

int64_t Trainer::LoadCheckpoint() {
  const std::string path = paths::Join(o_.out_dir, kCheckpointFile);
  const auto file = SafetensorsFile::Open(path);
  const auto& meta = file->metadata();
  if (!meta.count("fingerprint") || meta.at("fingerprint") != Fingerprint()) {
    throw std::runtime_error(fmt::format(
        "{}: made by a run with other options\n  it has:  {}\n  this is: {}\ndelete it, or give "
        "another out_dir, to start over",
        path, meta.count("fingerprint") ? meta.at("fingerprint") : "(none)", Fingerprint()));
  }
  const int64_t step = std::stoll(meta.at("step"));
  const c10::NoGradGuard no_grad;
  std::vector<at::Tensor> exp_avg(params_.size()), exp_avg_sq(params_.size());
  for (auto& [name, p] : params_) {
    for (const std::string key : {"param/", "adam/exp_avg/", "adam/exp_avg_sq/"}) {
      if (!file->Contains(key + name)) {
        throw std::runtime_error(fmt::format("{}: no tensor '{}{}'", path, key, name));
      }
    }
    p.copy_(file->Tensor("param/" + name));
    const size_t i = OptimizerIndex(p);
    exp_avg[i] = file->Tensor("adam/exp_avg/" + name);
    exp_avg_sq[i] = file->Tensor("adam/exp_avg_sq/" + name);
  }
  optimizer_->Restore(step, exp_avg, exp_avg_sq);
  steps_.clear();
  evals_.clear();
  if (file->Contains("metrics/steps")) {
    RecordsFromRows(FromInt64Bits(file->Tensor("metrics/steps")).view({-1, 5}), steps_);
  }
  if (file->Contains("metrics/evals")) {
    RecordsFromRows(FromInt64Bits(file->Tensor("metrics/evals")).view({-1, 4}), evals_);
  }
  if (static_cast<int64_t>(steps_.size()) != step) {
    throw std::runtime_error(
        fmt::format("{}: {} step records for step {}", path, steps_.size(), step));
  }
  return step;
}

namespace {

// The steps since the last read-back. Steps run without reading anything back, so the host queues
// the next step while the device runs this one; losses and gradient norms are read, and the time
// per step is taken (wall time over the interval's steps, evaluations and checkpoints excluded),
// at each evaluation, checkpoint and the end.
class PendingSteps {
 public:
  // `average`, when given, replaces the interval's stacked losses by their mean over the ranks
  // (data-parallel: each rank's loss is its slice's).
  PendingSteps(c10::Device device, std::function<void(at::Tensor&)> average)
      : device_(device), average_(std::move(average)) {}

  // The timer that brackets the next step on the device (one per step of an interval, reused).
  DeviceTimer& NextTimer() {
    if (loss_.size() == timers_.size()) timers_.push_back(std::make_unique<DeviceTimer>(device_));
    return *timers_[loss_.size()];
  }
  void Add(at::Tensor loss, at::Tensor norm, double lr) {
    loss_.push_back(std::move(loss));
    norm_.push_back(std::move(norm));
    lr_.push_back(lr);
  }
  // Reads the interval back as records of the steps before `next_step`, each step's wall and
  // device seconds appended to `wall` and `on_device`.
  void ReadInto(int64_t next_step, std::vector<StepRecord>& steps, std::vector<double>& wall,
                std::vector<double>& on_device) {
    if (loss_.empty()) return;
    SynchronizeDevice(device_);
    const double n = static_cast<double>(loss_.size());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() / n;
    double device_total = 0;
    for (size_t i = 0; i < loss_.size(); ++i) device_total += timers_[i]->Seconds();
    device_step_ms_ = 1e3 * device_total / n;
    at::Tensor stacked = at::stack(loss_);
    if (average_) average_(stacked);
    const at::Tensor losses = stacked.to(at::kCPU, at::kDouble);
    const at::Tensor norms = at::stack(norm_).to(at::kCPU, at::kDouble);
    const int64_t first = next_step - static_cast<int64_t>(loss_.size());
    for (size_t i = 0; i < loss_.size(); ++i) {
      const auto k = static_cast<int64_t>(i);
      steps.push_back(
          {first + k, losses[k].item<double>(), lr_[i], norms[k].item<double>(), seconds});
      wall.push_back(seconds);
      on_device.push_back(device_step_ms_ / 1e3);
    }
    loss_.clear();
    norm_.clear();
    lr_.clear();
  }
  // The next interval starts now (after an evaluation or a checkpoint).
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double device_step_ms() const { return device_step_ms_; }  // of the last interval read

 private:
  c10::Device device_;
  std::function<void(at::Tensor&)> average_;
  std::vector<at::Tensor> loss_, norm_;
  std::vector<double> lr_;
  std::vector<std::unique_ptr<DeviceTimer>> timers_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double device_step_ms_ = 0;
};

// Batches made up to kBatchesAhead steps ahead, each on a helper thread of its own: a batch
// depends only on (seed, step), and making one (the task's draws, page-locking) can take longer
// than the device's step, which one helper at a time would then hold back.
template <typename Batch>
class BatchesAhead {
 public:
  BatchesAhead(std::function<Batch(int64_t)> make, int64_t first, int64_t end)
      : make_(std::move(make)), next_(first), end_(end) {}
  Batch Next() {
    Fill();
    Batch batch = ahead_.front().get();
    ahead_.pop_front();
    Fill();
    return batch;
  }

 private:
  void Fill() {
    while (next_ < end_ && ahead_.size() < kBatchesAhead) {
      ahead_.push_back(std::async(std::launch::async, make_, next_));
      ++next_;
    }
  }
  std::function<Batch(int64_t)> make_;
  std::deque<std::future<Batch>> ahead_;
  int64_t next_, end_;
};

// Throughput and median step times over this process's steps.
void SummarizeSteps(const std::vector<double>& wall, const std::vector<double>& on_device,
                    int64_t tokens_per_step, TrainSummary& summary) {
  if (wall.empty()) return;
  double total = 0;
  for (double s : wall) total += s;
  summary.tokens_per_s = static_cast<double>(wall.size() * tokens_per_step) / total;
  summary.median_step_ms = 1e3 * Quantile(wall, 0.5);
  summary.median_device_step_ms = 1e3 * Quantile(on_device, 0.5);
}

}  // namespace

int64_t Trainer::ResumeFromCheckpoint(const TrainProgress& progress) {
  if (o_.out_dir.empty() || (sync_ && sync_->rank() != 0)) return 0;  // rank 0 reads, then shares
  paths::MakeDirs(o_.out_dir);
  if (!paths::Exists(paths::Join(o_.out_dir, kCheckpointFile))) return 0;
  const int64_t step = LoadCheckpoint();
  if (progress) progress(fmt::format("resumed at step {}", step));
  return step;
}

void Trainer::SaveCheckpointOnRankZero(int64_t step) {
  if (!sync_) return SaveCheckpoint(step);
  std::string error;
  if (sync_->rank() == 0) {
    try {
      SaveCheckpoint(step);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  // Every rank learns whether it worked, so that none steps on into an all-reduce that rank 0,
  // stopped by the error, would never join.
  if (!sync_->Agree(error.empty())) {
    throw std::runtime_error(error.empty() ? "rank 0 could not write the point's checkpoint"
                                           : error);
  }
}

void Trainer::ShareRankZeroState(int64_t& step, bool& stop, const std::string& resume_error) {
  const c10::NoGradGuard no_grad;
  // What rank 0 resumed from, first: whether it could, where, and how many records it holds.
  at::Tensor header =
      at::tensor({step, int64_t{stop}, int64_t{!resume_error.empty()},
                  static_cast<int64_t>(steps_.size()), static_cast<int64_t>(evals_.size())},
                 at::kLong)
          .to(device_);
  sync_->Broadcast({header});
  const at::Tensor host = header.cpu();
  if (host[2].item<int64_t>() != 0) {
    throw std::runtime_error(resume_error.empty()
                                 ? "rank 0 could not resume this point from its checkpoint"
                                 : resume_error);
  }
  step = host[0].item<int64_t>();
  stop = host[1].item<int64_t>() != 0;
  std::vector<at::Tensor> state = optimizer_->params();
  for (const auto* moments : {&optimizer_->exp_avg(), &optimizer_->exp_avg_sq()}) {
    state.insert(state.end(), moments->begin(), moments->end());
  }
  sync_->Broadcast(state);
  // The step and evaluation records too, so that every rank's summary of the point is rank 0's
  // (a point resumed at its last step trains no step on any rank).
  at::Tensor step_records = at::zeros({host[3].item<int64_t>(), 5}, at::kDouble);
  at::Tensor eval_records = at::zeros({host[4].item<int64_t>(), 4}, at::kDouble);
  if (sync_->rank() == 0) {
    step_records = RecordRows(steps_);
    eval_records = RecordRows(evals_);
  }
  step_records = step_records.to(device_);
  eval_records = eval_records.to(device_);
  sync_->Broadcast({step_records, eval_records});
  if (sync_->rank() == 0) return;
  RecordsFromRows(step_records, steps_);
  RecordsFromRows(eval_records, evals_);
  if (step > 0) optimizer_->Restore(step, optimizer_->exp_avg(), optimizer_->exp_avg_sq());
}

bool Trainer::EvaluateAt(int64_t step, double device_step_ms, const TrainProgress& progress) {
  evals_.push_back(Evaluate());
  const EvalRecord& e = evals_.back();
  const bool reached = o_.target_accuracy > 0 && e.token_accuracy >= o_.target_accuracy;
  if (progress) {
    progress(fmt::format(
        "step {}/{}: loss {:.4f}, eval loss {:.4f}, accuracy {:.4f} (examples {:.4f}), {:.3f} "
        "ms/step ({:.3f} on the device)",
        step, o_.steps, steps_.back().loss, e.loss, e.token_accuracy, e.example_accuracy,
        1e3 * steps_.back().seconds, device_step_ms));
    if (reached) {
      progress(fmt::format("target accuracy {} reached at step {}", o_.target_accuracy, step));
    }
  }
  return reached;
}

TrainSummary Trainer::Run(const TrainProgress& progress) {
  // Training records autograd whatever mode the caller is in (a CLI may run under inference mode).
  const c10::InferenceMode not_inference(false);
  const c10::AutoGradMode grad(true);
  TrainSummary summary;
  for (const auto& [name, p] : params_) summary.parameters += p.numel();
  std::string resume_error;  // data-parallel: rank 0's, told to every rank before it throws
  try {
    summary.resumed_from = ResumeFromCheckpoint(progress);
  } catch (const std::exception& e) {
    if (!sync_) throw;
    resume_error = e.what();
  }
  const double clip = o_.clip > 0 ? o_.clip : std::numeric_limits<double>::infinity();
  int64_t step = summary.resumed_from;
  bool stop = !evals_.empty() && o_.target_accuracy > 0 &&
              evals_.back().token_accuracy >= o_.target_accuracy;
  if (sync_) ShareRankZeroState(step, stop, resume_error);
  summary.resumed_from = step;
  summary.reached_target = stop;
  PendingSteps pending(device_, sync_ ? std::function<void(at::Tensor&)>(
                                            [this](at::Tensor& t) { sync_->Average(t); })
                                      : nullptr);
  std::vector<double> wall, on_device;
  BatchesAhead<StepBatch> batches([this](int64_t s) { return PrepareStep(s); }, step, o_.steps);
  while (!stop && step < o_.steps) {
    const StepBatch batch = batches.Next();
    const double lr = ScheduledLr(o_, step);
    DeviceTimer& timer = pending.NextTimer();
    timer.Start();
    auto [loss, norm] = TrainStep(batch, lr, clip, progress);
    timer.Stop();
    pending.Add(std::move(loss), std::move(norm), lr);
    ++step;
    const bool last = step == o_.steps;
    const bool evaluate = step % o_.eval_every == 0 || last;
    const bool save = !o_.out_dir.empty() && (step % o_.checkpoint_every == 0 || last);
    if (!evaluate && !save) continue;
    pending.ReadInto(step, steps_, wall, on_device);
    if (evaluate) {
      bool reached = EvaluateAt(step, pending.device_step_ms(), progress);
      // Data-parallel: rank 0's verdict, so that no rank leaves the loop while another steps on.
      if (sync_) reached = sync_->Agree(reached);
      if (reached) stop = summary.reached_target = true;
    }
    if (!o_.out_dir.empty() && (save || stop)) SaveCheckpointOnRankZero(step);
    pending.Restart();
  }
  pending.ReadInto(step, steps_, wall, on_device);
  summary.steps_done = step;
  SummarizeSteps(wall, on_device, o_.batch * task_->seq_len(), summary);
  return summary;
}

}  // namespace griffin::eval
