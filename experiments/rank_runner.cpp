#include "experiments/rank_runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

#include "core/io/paths.h"
#include "core/runtime/device_name.h"
#include "experiments/journal.h"
#include "experiments/measure_kind.h"

namespace griffin::experiments {
namespace {

using distributed::Store;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// How long ranks wait for each other to arrive at the start and at the barriers.
constexpr milliseconds kArrive = std::chrono::minutes(30);
// Every rank moves its heartbeat counter each kBeat; one whose counter stands still for kSilence
// is taken for dead (killed, or its host gone) by the ranks waiting on it.
constexpr milliseconds kBeat = seconds(5);
constexpr milliseconds kSilence = seconds(90);
constexpr milliseconds kPoll = milliseconds(200);
// How long rank 0, stopping, waits for the others to have read why.
constexpr milliseconds kAcknowledge = seconds(60);

// "" for go on, otherwise why a rank stopped: what ranks tell each other through the store.
std::string Status(const std::string& error) { return nlohmann::json{{"error", error}}.dump(); }
std::string ErrorIn(const std::string& status) {
  return nlohmann::json::parse(status).value("error", "");
}

// The store keys of one run: under a prefix naming the experiment and its resolved config, so
// that ranks of another run reaching this store by mistake (a port two jobs share) find none of
// this run's keys.
struct RunKeys {
  explicit RunKeys(const ExperimentConfig& c)
      : prefix(fmt::format("run/{}/{:016x}/", c.name, std::hash<std::string>{}(c.resolved_toml))) {}

  std::string prefix;
  std::string opened = prefix + "opened";    // rank 0's journal is open, or why not
  std::string plan = prefix + "plan";        // the indices of the unfinished points
  std::string next = prefix + "next";        // the claim counter over the plan
  std::string results = prefix + "results";  // finished points, queued for rank 0
  std::string written = prefix + "written";  // rank 0 wrote the file, or why not
  std::string Done(int rank) const { return prefix + "done/" + std::to_string(rank); }
  std::string Alive(int rank) const { return prefix + "alive/" + std::to_string(rank); }
  std::string Barrier(const std::string& name) const { return prefix + name; }
};

// A thread that moves this rank's heartbeat counter on a connection of its own.
class Heartbeat {
 public:
  Heartbeat(const Store& store, std::string key) : store_(store.Clone()), key_(std::move(key)) {
    store_->Add(key_, 1);
    thread_ = std::thread([this] {
      try {
        for (auto next = Clock::now() + kBeat; !stop_; std::this_thread::sleep_for(kPoll)) {
          if (Clock::now() >= next) {
            store_->Add(key_, 1);
            next = Clock::now() + kBeat;
          }
        }
      } catch (const std::exception&) {
        // The store is gone (rank 0 ended): nobody is left to read the heartbeat.
      }
    });
  }
  ~Heartbeat() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::unique_ptr<Store> store_;
  std::string key_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Whether a rank still beats, from the counter's movement seen by this process.
class Liveness {
 public:
  explicit Liveness(const RunKeys& keys) : keys_(keys) {}
  bool Dead(Store& store, int rank) {
    const int64_t beat = store.Add(keys_.Alive(rank), 0);
    Seen& s = seen_[rank];
    if (beat != s.beat || s.when == Clock::time_point()) s = {beat, Clock::now()};
    return Clock::now() - s.when > kSilence;
  }

 private:
  struct Seen {
    int64_t beat = -1;
    Clock::time_point when;
  };
  const RunKeys& keys_;
  std::map<int, Seen> seen_;
};

// Waits for rank 0 to set `key` and returns its value; an error naming `what` when rank 0 stops
// beating first.
std::string AwaitLeader(Store& store, const RunKeys& keys, const std::string& key,
                        const char* what) {
  Liveness alive(keys);
  while (!store.Has(key)) {
    if (alive.Dead(store, 0)) {
      throw std::runtime_error(fmt::format(
          "rank 0 stopped (no heartbeat for {} s) before {}; launch again with --resume",
          std::chrono::duration_cast<seconds>(kSilence).count(), what));
    }
    std::this_thread::sleep_for(kPoll);
  }
  return store.Get(key);
}

void Barrier(Store& store, const RunKeys& keys, const std::string& name,
             milliseconds timeout = kArrive) {
  try {
    store.Barrier(keys.Barrier(name), timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("rank {}: not every rank of {} reached '{}' within {} min: {}",
                    store.launch().rank, store.launch().world_size, name,
                    std::chrono::duration_cast<std::chrono::minutes>(kArrive).count(), e.what()));
  }
}

// Rank 0's journal keeper: on its own thread and store connection, moves the points that ranks
// push into the run's journal as they arrive, with the sweep's progress on stderr.
class JournalKeeper {
 public:
  JournalKeeper(const Store& store, const RunKeys& keys, const ExperimentConfig& c,
                const std::vector<ExperimentPoint>& points, const std::string& journal,
                std::FILE* file, std::map<int64_t, PointResult>& done)
      : store_(store.Clone()),
        keys_(keys),
        c_(c),
        points_(points),
        journal_(journal),
        file_(file),
        done_(done) {}
  ~JournalKeeper() { Join(); }

  // Journals what is queued now (before the plan is made: the points ranks resumed).
  void Drain() {
    while (std::optional<std::string> line = store_->Pop(keys_.results)) {
      PointResult r = PointResult::FromJson(nlohmann::json::parse(*line));
      const int64_t k = r.point.index;
      if (k < 0 || k >= static_cast<int64_t>(points_.size()) ||
          PointKey(c_, points_[k]) != PointKey(c_, r.point)) {
        throw std::runtime_error(
            fmt::format("a rank sent point {} ({}), which is not in this run's plan", k,
                        PointKey(c_, r.point)));
      }
      if (done_.count(k)) continue;
      AppendDurably(file_, journal_, *line);
      if (started_) {
        fmt::print(stderr, "[run] {}/{} done | {}: {} ({:.1f} s)\n", done_.size() + 1,
                   points_.size(), PointKey(c_, r.point), c_.Kind().OneLine(r), r.wall_s);
      }
      done_[k] = std::move(r);
    }
  }

  void Start() {
    started_ = true;
    thread_ = std::thread([this] {
      try {
        while (!stop_) {
          Drain();
          std::this_thread::sleep_for(kPoll);
        }
        Drain();
      } catch (const std::exception& e) {
        error_ = e.what();
        failed_ = true;
      }
    });
  }

  // Why the keeper stopped early ("" while it runs): rank 0 checks between its points.
  std::string Failure() const { return failed_ ? error_ : ""; }

  // Stops the thread after a last drain; throws what stopped it early.
  void Stop() {
    Join();
    if (failed_) throw std::runtime_error("rank 0's journal keeper: " + error_);
  }

  // Stops the thread (after a last drain) and throws nothing: before the journal closes.
  void Join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<Store> store_;
  const RunKeys& keys_;
  const ExperimentConfig& c_;
  const std::vector<ExperimentPoint>& points_;
  std::string journal_;
  std::FILE* file_;
  std::map<int64_t, PointResult>& done_;
  std::thread thread_;
  std::atomic<bool> started_{false}, stop_{false}, failed_{false};
  std::string error_;
};

// Rank 0: the run's files checked and its journal opened or resumed, with the points of the side
// journals it sees (ranks of an earlier launch, or a --jobs run's workers) when resuming. Each
// rank opens its own journal only after this (kOpened), so none is read while it is folded and
// removed here.
struct RunJournal {
  RunFiles files;
  std::map<int64_t, PointResult> done;
  JournalFile file{nullptr, &std::fclose};
};
RunJournal OpenRunJournal(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                          const RunOptions& o) {
  RunJournal j;
  j.files = PrepareOutput(c, o);
  const std::vector<std::string> side = SideJournals(o.out_dir, c.name);
  if (!o.resume && !side.empty()) {
    throw std::runtime_error(
        fmt::format("{} holds points of an unfinished run: add --resume to keep them, or delete it",
                    side.front()));
  }
  j.done = StartOrResume(c, points, o, j.files.journal);
  j.file = OpenForAppend(j.files.journal);
  FoldSideJournals(c, points, o.out_dir, j.files.journal, j.file.get(), j.done);
  return j;
}

// This rank's own journal: the points it finished in an interrupted launch pushed to rank 0
// (--resume; on a host rank 0 does not share a folder with), or a fresh one.
JournalFile OpenRankJournal(Store& store, const RunKeys& keys, const ExperimentConfig& c,
                            const std::vector<ExperimentPoint>& points, const RunOptions& o,
                            const std::string& path) {
  if (paths::Exists(path)) {
    if (!o.resume) {
      throw std::runtime_error(fmt::format(
          "{} holds points of an unfinished run: add --resume to keep them, or delete it", path));
    }
    for (const auto& [k, r] : ReadJournal(path, c, points)) {
      store.Push(keys.results, r.ToJson().dump());
    }
  } else {
    StartJournal(path, c);
  }
  return OpenForAppend(path);
}

// Whether each point trains on every rank at once ([train] parallel = "data") instead of the
// points being spread over the ranks.
bool DataParallel(const ExperimentConfig& c) {
  return c.recall.train.parallel == eval::Parallel::kData;
}

// Runs points of the plan until none is left: the next one claimed from the store's counter, or,
// data-parallel, every point in turn on every rank. Each point a rank finishes is journaled here,
// then pushed to rank 0 (data-parallel: rank 0's, the result every rank shares). `check` runs
// between points (rank 0: whether its keeper still runs).
void RunPlan(Store& store, const RunKeys& keys, const ExperimentConfig& c,
             const std::vector<ExperimentPoint>& points, const std::vector<int64_t>& plan,
             const PointRunner& run_point, std::FILE* file, const std::string& path,
             const std::function<void()>& check) {
  const int rank = store.launch().rank;
  const bool data = DataParallel(c);
  for (int64_t turn = 0;; ++turn) {
    check();
    const int64_t i = data ? turn : store.Add(keys.next, 1) - 1;
    if (i >= static_cast<int64_t>(plan.size())) return;
    const ExperimentPoint& p = points[plan[i]];
    if (!data || rank == 0) {
      fmt::print(stderr, "[run r{}] point {} of {}{}: {}\n", rank, p.index + 1, points.size(),
                 data ? fmt::format(", on all {} ranks", store.launch().world_size) : "",
                 PointKey(c, p));
    }
    const PointResult r = run_point(p);
    if (data && !r.error.empty()) {
      // Every rank trained this point together: an error is most likely the group's (a rank gone
      // mid-step), not the point's, so it is not kept as the point's result; --resume retries.
      throw std::runtime_error(fmt::format(
          "point {} ({}) failed while training on all {} ranks: {}; launch again with --resume",
          p.index + 1, PointKey(c, p), store.launch().world_size, r.error));
    }
    if (data && rank != 0) continue;
    const std::string line = r.ToJson().dump();
    AppendDurably(file, path, line);
    store.Push(keys.results, line);
  }
}

// Rank 0 after its own points: waits until every rank is done or has stopped beating, and says
// which did not finish.
std::string AwaitRanks(Store& store, const RunKeys& keys, const JournalKeeper& keeper) {
  Liveness alive(keys);
  const int world = store.launch().world_size;
  std::map<int, std::string> ended;  // rank -> "" (done) or why it stopped
  while (static_cast<int>(ended.size()) < world) {
    for (int r = 0; r < world; ++r) {
      if (ended.count(r)) continue;
      if (store.Has(keys.Done(r))) {
        ended[r] = ErrorIn(store.Get(keys.Done(r)));
      } else if (alive.Dead(store, r)) {
        ended[r] = fmt::format("no heartbeat for {} s",
                               std::chrono::duration_cast<seconds>(kSilence).count());
      }
    }
    if (const std::string why = keeper.Failure(); !why.empty()) return "its journal keeper: " + why;
    std::this_thread::sleep_for(kPoll);
  }
  std::string failed;
  for (const auto& [r, why] : ended) {
    if (!why.empty()) failed += fmt::format("; rank {}: {}", r, why);
  }
  return failed;
}

RunOutcome Lead(Store& store, const RunKeys& keys, const ExperimentConfig& c, const RunOptions& o,
                const std::vector<ExperimentPoint>& points, const PointRunner& run_point) {
  const distributed::Launch& launch = store.launch();
  RunJournal run;
  try {
    run = OpenRunJournal(c, points, o);
  } catch (const std::exception& e) {
    store.Set(keys.opened, Status(e.what()));
    // Rank 0 leaves once the others have said why they stop too (or a minute has passed): a
    // launcher stops the rest the moment one rank ends.
    try {
      Barrier(store, keys, "opened", kAcknowledge);
    } catch (const std::exception&) {
    }
    throw;
  }
  store.Set(keys.opened, Status(""));
  JournalKeeper keeper(store, keys, c, points, run.files.journal, run.file.get(), run.done);
  std::string why;
  try {
    const std::string own = RankJournalPath(o.out_dir, c.name, 0);
    JournalFile mine = OpenRankJournal(store, keys, c, points, o, own);
    Barrier(store, keys, "published");
    keeper.Drain();
    std::vector<int64_t> plan;
    for (const ExperimentPoint& p : points) {
      if (!run.done.count(p.index)) plan.push_back(p.index);
    }
    fmt::print(stderr, "[run] {} of {} points left, over {} rank{} ({})\n", plan.size(),
               points.size(), launch.world_size, launch.world_size == 1 ? "" : "s",
               launch.launcher);
    store.Set(keys.plan, nlohmann::json(plan).dump());
    keeper.Start();
    RunPlan(store, keys, c, points, plan, run_point, mine.get(), own, [&] {
      if (const std::string f = keeper.Failure(); !f.empty()) {
        throw std::runtime_error("rank 0's journal keeper: " + f);
      }
    });
    store.Set(keys.Done(0), Status(""));
    why = AwaitRanks(store, keys, keeper);
    keeper.Stop();
  } catch (const std::exception& e) {
    why = e.what();
  }
  keeper.Join();  // no append after the journal closes, whatever stopped the run
  run.file.reset();
  RunOutcome out;
  if (why.empty() && run.done.size() == points.size()) {
    for (auto& [k, r] : run.done) out.results.push_back(r);
    out.h5_path = run.files.h5;
    try {
      WriteRunFile(out.h5_path, c, out.results, o.command_line);
      std::remove(run.files.journal.c_str());
      for (const std::string& path : SideJournals(o.out_dir, c.name)) std::remove(path.c_str());
    } catch (const std::exception& e) {
      why = e.what();
    }
  } else if (why.empty() || why.front() == ';') {
    why = fmt::format(
        "{} of {} points unfinished{}; finished points are in {}: launch again with "
        "--resume",
        points.size() - run.done.size(), points.size(), why, run.files.journal);
  }
  if (!store.Has(keys.plan)) store.Set(keys.plan, Status(why));
  store.Set(keys.written, Status(why));
  // Rank 0 may serve the store: it leaves once the others have read the outcome (or timed out).
  try {
    Barrier(store, keys, "exit");
  } catch (const std::exception&) {
    if (why.empty()) throw;
  }
  if (!why.empty()) throw std::runtime_error(why);
  return out;
}

void Follow(Store& store, const RunKeys& keys, const ExperimentConfig& c, const RunOptions& o,
            const std::vector<ExperimentPoint>& points, const PointRunner& run_point) {
  const int rank = store.launch().rank;
  if (const std::string why = ErrorIn(AwaitLeader(store, keys, keys.opened, "opening the run"));
      !why.empty()) {
    const std::string message = "rank 0 did not start the run: " + why;
    fmt::print(stderr, "[run r{}] {}\n", rank, message);
    try {
      Barrier(store, keys, "opened", kAcknowledge);
    } catch (const std::exception&) {
    }
    throw std::runtime_error(message);
  }
  paths::MakeDirs(o.out_dir);
  const std::string own = RankJournalPath(o.out_dir, c.name, rank);
  try {
    JournalFile mine = OpenRankJournal(store, keys, c, points, o, own);
    Barrier(store, keys, "published");
    const nlohmann::json plan =
        nlohmann::json::parse(AwaitLeader(store, keys, keys.plan, "the plan"));
    if (!plan.is_array()) throw std::runtime_error("rank 0: " + plan.value("error", ""));
    RunPlan(store, keys, c, points, plan.get<std::vector<int64_t>>(), run_point, mine.get(), own,
            [] {});
  } catch (const std::exception& e) {
    store.Set(keys.Done(rank), Status(e.what()));
    throw;
  }
  store.Set(keys.Done(rank), Status(""));
  const std::string why = ErrorIn(AwaitLeader(store, keys, keys.written, "writing the file"));
  if (why.empty()) std::remove(own.c_str());
  Barrier(store, keys, "exit");
  if (!why.empty()) throw std::runtime_error("rank 0: " + why);
}

}  // namespace

RunOutcome RunAcrossRanks(const ExperimentConfig& c, const RunOptions& o,
                          const distributed::Launch& launch, const PointRunner& run_point) {
  const std::vector<ExperimentPoint> points = ExperimentPoints(c);
  const RunKeys keys(c);
  std::unique_ptr<Store> store = Store::Connect(launch, kArrive);
  const Heartbeat beat(*store, keys.Alive(launch.rank));
  if (DataParallel(c)) {
    const bool cuda = ParseDeviceName(c.device).is_cuda();
    distributed::SetDefaultGroup(distributed::Group::Create(*store, cuda));
    if (launch.rank == 0) {
      fmt::print(stderr, "[run] data-parallel group of {}: gradients all-reduced by {}\n",
                 launch.world_size, cuda ? "NCCL" : "Gloo");
    }
  }
  // The trainer finds the group as the default one; it goes before the store it was made on.
  struct GroupReset {
    ~GroupReset() { distributed::SetDefaultGroup(nullptr); }
  } reset;
  if (launch.rank == 0) return Lead(*store, keys, c, o, points, run_point);
  Follow(*store, keys, c, o, points, run_point);
  return {};
}

}  // namespace griffin::experiments
