// The run's journal (docs/DESIGN.md section 2): one JSON line per finished point after a header
// line holding the resolved config, each line fsync'd before the next point starts, so a killed
// run loses at most the point in progress. The run's own journal, a --jobs worker's and a rank's
// (rank_runner.h) share the format.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "experiments/experiment_config.h"
#include "experiments/point_result.h"
#include "experiments/runner.h"

namespace griffin::experiments {

// Reads the finished points of an interrupted run of the same config. A torn last line (killed
// mid-write) is dropped; anything else malformed, another config or a point outside the plan is
// an error naming the file.
std::map<int64_t, PointResult> ReadJournal(const std::string& path, const ExperimentConfig& c,
                                           const std::vector<ExperimentPoint>& points);

// Writes a journal holding only its header (atomically).
void StartJournal(const std::string& path, const ExperimentConfig& c);

using JournalFile = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;
JournalFile OpenForAppend(const std::string& path);

// Appends one line and makes it durable before the next point starts.
void AppendDurably(std::FILE* f, const std::string& path, const std::string& line);

// Where a run's files go: the folder made and writable, and no finished result file there.
struct RunFiles {
  std::string h5, journal;
};
RunFiles PrepareOutput(const ExperimentConfig& c, const RunOptions& o);

// The points an interrupted run finished (--resume), or a fresh journal; without --resume, an
// existing journal is an error (an unfinished run is never started over silently).
std::map<int64_t, PointResult> StartOrResume(const ExperimentConfig& c,
                                             const std::vector<ExperimentPoint>& points,
                                             const RunOptions& o, const std::string& journal);

// "<out>/<name>.rank-<r>.journal.jsonl": the journal rank r of a torchrun or srun launch appends
// its finished points to (rank_runner.h).
std::string RankJournalPath(const std::string& out_dir, const std::string& name, int rank);

// The journals of --jobs workers and of ranks left in `out_dir` by this experiment's runs.
std::vector<std::string> SideJournals(const std::string& out_dir, const std::string& name);

// Moves the points of every side journal into the run's journal (`file` at `journal`), then
// deletes the side journals. A crash in between leaves a point in both, which reading tolerates.
void FoldSideJournals(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                      const std::string& out_dir, const std::string& journal, std::FILE* file,
                      std::map<int64_t, PointResult>& done);

}  // namespace griffin::experiments
