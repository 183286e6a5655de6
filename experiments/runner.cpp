#include "experiments/runner.h"
#include "experiments/toml.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include "core/io/paths.h"
#include "core/kernels/op_impl.h"
#include "core/model/language_model.h"
#include "core/runtime/device_name.h"
#include "core/runtime/distributed.h"
#include "experiments/config_reader.h"
#include "experiments/journal.h"
#include "experiments/measure_kind.h"
#include "experiments/point_workers.h"
#include "experiments/rank_runner.h"

namespace griffin::experiments {
namespace {

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t % 3600 / 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

LoadOptions ModelOptions(const ExperimentConfig& c) {
  LoadOptions o;
  o.device = c10::Device(c.device);
  o.dtype = c.dtype;
  o.seed = c.seed;
  o.ops.scan = c.scan;
  o.ops.conv = c.conv;
  return o;
}

// The model of the point at hand, loaded when the kind needs one; a model's consecutive points
// share it, and the previous model is freed before the next is loaded.
class ModelCache {
 public:
  const LanguageModel* For(const ExperimentConfig& c, const ExperimentPoint& p) {
    if (!c.Kind().NeedsModel()) return nullptr;
    if (label_ != p.model) {
      model_.reset();
      model_ = LoadModel(p.checkpoint, ModelOptions(c));
      label_ = p.model;
    }
    return model_.get();
  }

 private:
  std::unique_ptr<LanguageModel> model_;
  std::string label_;
};

// Where points keep what outlives them (a recall point's training checkpoints).
std::string WorkDir(const ExperimentConfig& c, const RunOptions& o) {
  return paths::Join(o.out_dir, c.name + ".train");
}

void CheckDevice(const ExperimentConfig& c) {
  try {
    ParseDevice(c.device);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: run.device {}", c.path, e.what()));
  }
}

}  // namespace

std::string DescribePlan(const ExperimentConfig& c) {
  std::string s = fmt::format("# {} (resolved config)\n{}\n\n", c.path, c.resolved_toml);
  std::vector<std::string> settings = config::FieldLines(
      c, [](ExperimentConfig& x, auto&& visit) { config::VisitRunFields(x, visit); });
  for (std::string& line : c.Kind().Settings(c)) settings.push_back(std::move(line));
  s += fmt::format("# every setting, defaults included\n{}\n\n", fmt::join(settings, "\n"));
  const auto points = ExperimentPoints(c);
  s += fmt::format("{} points, measuring {}:\n", points.size(), fmt::join(c.measures, " and "));
  for (const ExperimentPoint& p : points) {
    s += fmt::format("  {:>4}  {}  ({})\n", p.index, PointKey(c, p), p.checkpoint);
  }
  return s;
}

std::string SummaryTable(const ExperimentConfig& c, const std::vector<PointResult>& results) {
  return c.Kind().Table(results);
}

namespace {

// One worker process of --jobs: claims unfinished points until none is left and appends each to
// its own journal. The run's journal (written by the parent) says which points are done.
void RunWorker(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
               const RunOptions& o, const std::string& journal) {
  DieWithParent();
  // The workers share the host's cores: each with all of them for its intra-op threads would
  // leave dozens of spinning OpenMP threads per core.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(std::max(1, cores / std::max(1, o.jobs)));
  const std::map<int64_t, PointResult> done = ReadJournal(journal, c, points);
  const std::string own = WorkerJournalPath(o.out_dir, c.name, o.worker);
  if (!paths::Exists(own)) StartJournal(own, c);
  JournalFile file = OpenForAppend(own);
  ModelCache models;
  for (const ExperimentPoint& p : points) {
    if (done.count(p.index) || !ClaimPoint(o.out_dir, c.name, p.index)) continue;
    fmt::print(stderr, "[run w{}] point {} of {}: {}\n", o.worker, p.index + 1, points.size(),
               PointKey(c, p));
    const PointResult r = c.Kind().Run({c, models.For(c, p), WorkDir(c, o)}, p);
    AppendDurably(file.get(), own, r.ToJson().dump());
    fmt::print(stderr, "[run w{}]   {}: {} ({:.1f} s)\n", o.worker, PointKey(c, p),
               c.Kind().OneLine(r), r.wall_s);
  }
}

}  // namespace

namespace {

// --jobs: the unfinished points trained by worker processes, their results folded into `done`.
void RunInWorkers(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                  const RunOptions& o, const std::string& journal, std::FILE* file,
                  std::map<int64_t, PointResult>& done) {
  if (o.worker_command.empty()) throw std::invalid_argument("--jobs: no worker command");
  const int64_t remaining = static_cast<int64_t>(points.size() - done.size());
  const int workers = static_cast<int>(std::min<int64_t>(o.jobs, remaining));
  fmt::print(stderr, "[run] {} of {} points left; {} worker processes\n", remaining, points.size(),
             workers);
  ClearClaims(o.out_dir, c.name);
  const int failed = RunWorkers(o.worker_command, workers);
  FoldSideJournals(c, points, o.out_dir, journal, file, done);
  ClearClaims(o.out_dir, c.name);
  if (done.size() < points.size()) {
    throw std::runtime_error(fmt::format(
        "{} of {} points unfinished ({} worker processes failed); finished points are in {}: "
        "run again with --resume to complete the rest",
        points.size() - done.size(), points.size(), failed, journal));
  }
}

// The unfinished points in order, in this process: progress and an ETA on stderr, each point
// journaled the moment it finishes.
void RunInOrder(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                const RunOptions& o, const std::string& journal, std::FILE* file,
                std::map<int64_t, PointResult>& done) {
  const MeasureKind& kind = c.Kind();
  const auto start = std::chrono::steady_clock::now();
  double measured_s = 0.0;
  int64_t measured = 0;
  ModelCache models;
  for (const ExperimentPoint& p : points) {
    if (done.count(p.index)) continue;
    const int64_t remaining = static_cast<int64_t>(points.size() - done.size());
    const double eta = measured > 0 ? measured_s / measured * remaining : NAN;
    fmt::print(
        stderr, "[run] {}/{} done, {} elapsed, ETA {} | {}\n", done.size(), points.size(),
        Duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()),
        Duration(eta), PointKey(c, p));
    PointResult r = kind.Run({c, models.For(c, p), WorkDir(c, o)}, p);
    AppendDurably(file, journal, r.ToJson().dump());
    measured_s += r.wall_s;
    ++measured;
    fmt::print(stderr, "[run]   {}: {} ({:.1f} s)\n", PointKey(c, p), kind.OneLine(r), r.wall_s);
    done[p.index] = std::move(r);
  }
}

}  // namespace

namespace {

// One rank of a torchrun or srun launch: on its own GPU, with its share of the host's cores.
RunOutcome RunAsRank(const ExperimentConfig& c, const RunOptions& o,
                     const distributed::Launch& launch) {
  if (o.jobs > 1) {
    throw std::invalid_argument(fmt::format(
        "--jobs {}: under {} every rank already runs points; drop --jobs (it starts worker "
        "processes on one machine without a launcher)",
        o.jobs, launch.launcher));
  }
  CheckDevice(c);
  const c10::Device device = ParseDeviceName(c.device);
  if (device.is_cuda() && device.has_index()) {
    throw std::invalid_argument(fmt::format(
        "{}: run.device {} would put every rank on one GPU; with {} say \"cuda\": each rank "
        "takes the GPU of its LOCAL_RANK",
        c.path, c.device, launch.launcher));
  }
  if (c.recall.train.parallel == eval::Parallel::kData &&
      c.recall.train.batch % launch.world_size != 0) {
    throw std::invalid_argument(
        fmt::format("{}: train.batch {} must be a multiple of the {} ranks it is split over",
                    c.path, c.recall.train.batch, launch.world_size));
  }
  if (device.is_cuda()) distributed::UseLocalGpu(launch);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(std::max(1, cores / std::max(1, launch.local_world_size)));
  // torchrun --max-restarts starts the ranks again with the same arguments: a restart resumes.
  RunOptions ranks = o;
  if (launch.restart > 0 && !o.resume) {
    fmt::print(stderr, "[run] restart {} of this launch: resuming\n", launch.restart);
    ranks.resume = true;
  }
  ModelCache models;
  return RunAcrossRanks(c, ranks, launch, [&](const ExperimentPoint& p) {
    return c.Kind().Run({c, models.For(c, p), WorkDir(c, o)}, p);
  });
}

}  // namespace

RunOutcome RunExperiment(const ExperimentConfig& c, const RunOptions& o) {
  if (const distributed::Launch launch = distributed::ReadLaunch(); launch.Distributed()) {
    return RunAsRank(c, o, launch);
  }
  if (c.recall.train.parallel == eval::Parallel::kData) {
    throw std::invalid_argument(fmt::format(
        "{}: train.parallel = \"data\" trains one model over the ranks of a torchrun or srun "
        "launch (README.md, \"Several GPUs and hosts\"); this process is not one",
        c.path));
  }
  if (o.jobs > 1 && !c.Kind().Parallel()) {
    throw std::invalid_argument(
        "--jobs runs the points of a recall experiment in parallel; timed points (memory, "
        "latency) would share the GPU and distort each other: run them with --jobs 1");
  }
  CheckDevice(c);
  const std::vector<ExperimentPoint> points = ExperimentPoints(c);
  const RunFiles files = PrepareOutput(c, o);
  RunOutcome out;
  if (o.worker >= 0) {  // started by a parent with --jobs, which wrote the journal
    if (!c.Kind().Parallel() || !paths::Exists(files.journal)) {
      throw std::invalid_argument(
          fmt::format("--worker {}: only a recall run started with --jobs has workers", o.worker));
    }
    RunWorker(c, points, o, files.journal);
    return out;
  }
  std::map<int64_t, PointResult> done = StartOrResume(c, points, o, files.journal);
  JournalFile file = OpenForAppend(files.journal);
  // Points that the workers or ranks of an interrupted parallel run finished.
  FoldSideJournals(c, points, o.out_dir, files.journal, file.get(), done);
  if (o.jobs > 1 && done.size() < points.size()) {
    RunInWorkers(c, points, o, files.journal, file.get(), done);
  }
  RunInOrder(c, points, o, files.journal, file.get(), done);
  file.reset();
  for (auto& [k, r] : done) out.results.push_back(r);
  out.h5_path = files.h5;
  WriteRunFile(out.h5_path, c, out.results, o.command_line);
  std::remove(files.journal.c_str());
  return out;
}

}  // namespace griffin::experiments
