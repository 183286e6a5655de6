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
#include "experiments/config_reader.h"
#include "experiments/measure_kind.h"
#include "experiments/point_workers.h"

namespace griffin::experiments {
namespace {

constexpr const char* kJournalFormat = "griffin-journal";

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t % 3600 / 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

// Reads the finished points of an interrupted run of the same config. A torn last line (killed
// mid-write) is dropped; anything else malformed is an error.
std::map<int64_t, PointResult> ReadJournal(const std::string& path, const ExperimentConfig& c,
                                           const std::vector<ExperimentPoint>& points) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) throw std::runtime_error(path + ": empty journal; delete it to start over");
  const nlohmann::json header = nlohmann::json::parse(lines[0], nullptr, false);
  if (header.is_discarded() || header.value("format", "") != kJournalFormat) {
    throw std::runtime_error(path + ": not a griffin journal (first line)");
  }
  if (!SameResolvedConfig(header.value("config_toml", ""), c.resolved_toml)) {
    throw std::runtime_error(fmt::format(
        "{}: the interrupted run used a different config (after --set overrides); resume with the "
        "same file and overrides, or delete the journal to start over",
        path));
  }
  std::map<int64_t, PointResult> done;
  for (size_t i = 1; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
    if (j.is_discarded()) {
      if (i + 1 == lines.size()) {
        fmt::print(stderr, "[run] {}: dropping a torn last line (the point it began is redone)\n",
                   path);
        continue;
      }
      throw std::runtime_error(fmt::format("{}:{}: malformed journal line", path, i + 1));
    }
    PointResult r = PointResult::FromJson(j);
    const int64_t k = r.point.index;
    if (k < 0 || k >= static_cast<int64_t>(points.size()) ||
        PointKey(c, points[k]) != PointKey(c, r.point)) {
      throw std::runtime_error(fmt::format("{}:{}: point {} does not match the plan", path, i + 1,
                                           PointKey(c, r.point)));
    }
    done[k] = std::move(r);
  }
  return done;
}

// Appends one line and makes it durable before the next point starts.
void AppendDurably(std::FILE* f, const std::string& path, const std::string& line) {
  if (std::fputs((line + "\n").c_str(), f) < 0 || std::fflush(f) != 0 || fsync(fileno(f)) != 0) {
    throw std::runtime_error(path + ": cannot append to the journal");
  }
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

using JournalFile = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

JournalFile OpenForAppend(const std::string& path) {
  JournalFile file(std::fopen(path.c_str(), "a"), &std::fclose);
  if (!file) throw std::runtime_error(path + ": cannot open for appending");
  return file;
}

void StartJournal(const std::string& path, const ExperimentConfig& c) {
  paths::WriteFileAtomically(
      path,
      nlohmann::json{{"format", kJournalFormat}, {"config_toml", c.resolved_toml}}.dump() + "\n");
}

// Moves the points that worker processes finished into the run's journal, then deletes the
// worker journals. A crash in between leaves a point in both, which reading tolerates.
void FoldWorkerJournals(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                        const std::string& out_dir, const std::string& journal, std::FILE* file,
                        std::map<int64_t, PointResult>& done) {
  for (const std::string& path : WorkerJournals(out_dir, c.name)) {
    for (auto& [k, r] : ReadJournal(path, c, points)) {
      if (done.count(k)) continue;
      AppendDurably(file, journal, r.ToJson().dump());
      done[k] = std::move(r);
    }
    std::remove(path.c_str());
  }
}

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

// Where a run's files go: the folder made and writable, and no finished result file there.
struct RunFiles {
  std::string h5, journal;
};
RunFiles PrepareOutput(const ExperimentConfig& c, const RunOptions& o) {
  try {
    paths::MakeDirs(o.out_dir);
    paths::CheckWritableDirectory(o.out_dir);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("--out {}: {}", o.out_dir, e.what()));
  }
  RunFiles f{paths::Join(o.out_dir, c.name + ".h5"),
             paths::Join(o.out_dir, c.name + ".journal.jsonl")};
  if (paths::Exists(f.h5)) {
    throw std::runtime_error(fmt::format(
        "{} already exists: finished results are never overwritten; pass another --out or move "
        "it",
        f.h5));
  }
  return f;
}

// The points an interrupted run finished (--resume), or a fresh journal.
std::map<int64_t, PointResult> StartOrResume(const ExperimentConfig& c,
                                             const std::vector<ExperimentPoint>& points,
                                             const RunOptions& o, const std::string& journal) {
  if (!paths::Exists(journal)) {
    if (o.resume) fmt::print(stderr, "[run] nothing to resume in {}; starting\n", o.out_dir);
    StartJournal(journal, c);
    return {};
  }
  if (!o.resume) {
    throw std::runtime_error(fmt::format(
        "{} holds an unfinished run of this experiment: add --resume to complete it, or delete "
        "it to start over",
        journal));
  }
  std::map<int64_t, PointResult> done = ReadJournal(journal, c, points);
  fmt::print(stderr, "[run] resuming: {} of {} points already done ({})\n", done.size(),
             points.size(), journal);
  return done;
}

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
  FoldWorkerJournals(c, points, o.out_dir, journal, file, done);
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

RunOutcome RunExperiment(const ExperimentConfig& c, const RunOptions& o) {
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
  // Points that the workers of an interrupted parallel run finished.
  FoldWorkerJournals(c, points, o.out_dir, files.journal, file.get(), done);
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
