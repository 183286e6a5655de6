// Runs an experiment: every point in order, each appended to a journal (one fsync'd JSON line)
// the moment it finishes, progress on stderr, a summary table at the end, and one HDF5 file
// (docs/DESIGN.md section 2) written atomically when all points are done. A killed run loses at
// most the point in progress: `resume` reads the journal, checks the config is the same, and runs
// the rest. Recall points can train in parallel worker processes (`jobs`).
#pragma once

#include <string>
#include <vector>

#include "experiments/experiment_config.h"
#include "experiments/point_result.h"

namespace griffin::experiments {

struct RunOptions {
  std::string out_dir = "runs";
  bool resume = false;
  std::string command_line;  // for provenance
  // Recall experiments: points trained in `jobs` worker processes at once (point_workers.h),
  // each started as worker_command + {"--worker", i}.
  int jobs = 1;
  std::vector<std::string> worker_command;
  int worker = -1;  // >= 0 in a worker process: run claimed points only, write no HDF5 file
};

struct RunOutcome {
  std::string h5_path;
  std::vector<PointResult> results;  // in point order
};

RunOutcome RunExperiment(const ExperimentConfig& config, const RunOptions& options);

// What --dry-run prints: the resolved config and the numbered points.
std::string DescribePlan(const ExperimentConfig& config);

// The markdown table printed at the end of a run (its kind's).
std::string SummaryTable(const ExperimentConfig& config, const std::vector<PointResult>& results);

// Writes the run's HDF5 file (PATH.tmp, renamed to PATH).
void WriteRunFile(const std::string& path, const ExperimentConfig& config,
                  const std::vector<PointResult>& results, const std::string& command_line);

}  // namespace griffin::experiments
