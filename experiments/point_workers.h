// Parallel points for recall experiments: `griffin run --jobs N` starts N worker processes of the
// same binary. A small model's training step is bound by host-side dispatch, not by the GPU (one
// process keeps an H200 mostly idle), so separate processes multiply throughput until the GPU is
// busy. Workers claim points one at a time through files created with O_EXCL (so a slow point
// does not hold back a fixed share), write each finished point to their own journal, and the
// parent folds those journals into the run's journal. Processes rather than threads: LibTorch's
// autograd engine runs every CUDA backward on one device thread.
#pragma once

#include <string>
#include <vector>

namespace griffin::experiments {

// "<out>/<name>.worker-<i>.journal.jsonl": the journal worker i appends to.
std::string WorkerJournalPath(const std::string& out_dir, const std::string& name, int worker);

// Worker journals of this experiment left in `out_dir` (by this run's workers or a killed one).
std::vector<std::string> WorkerJournals(const std::string& out_dir, const std::string& name);

// Claims a point for the calling worker; false when another worker has it already.
bool ClaimPoint(const std::string& out_dir, const std::string& name, int64_t index);

// Removes every claim of this experiment (stale ones from a killed run included).
void ClearClaims(const std::string& out_dir, const std::string& name);

// Starts `argv` + {"--worker", i} for i in [0, workers), waits for all of them, and returns how
// many failed (non-zero exit or killed by a signal), each reported on stderr.
int RunWorkers(const std::vector<std::string>& argv, int workers);

// In a worker: dies with its parent (a killed `griffin run` leaves no orphan training on).
void DieWithParent();

}  // namespace griffin::experiments
