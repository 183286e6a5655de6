// A sweep split over the ranks of a torchrun or srun launch (core/runtime/distributed.h). Each
// rank runs on the GPU of its LOCAL_RANK and takes the next unfinished point from a counter in the
// launch's store (so a slow point holds back no fixed share); it appends each point it finishes to
// its own journal (RankJournalPath, on its host) and pushes it to rank 0, whose journal keeper
// thread appends it to the run's journal the moment it arrives. Rank 0 writes the HDF5 file when
// every point is in. A killed rank loses at most its point in progress: `--resume` reads the run's
// journal and every rank publishes its own journal's points before the plan is made, so points
// that a rank finished but rank 0 had not yet journaled (or a rank on another host) are kept.
#pragma once

#include <functional>

#include "core/runtime/distributed.h"
#include "experiments/experiment_config.h"
#include "experiments/point_result.h"
#include "experiments/runner.h"

namespace griffin::experiments {

using PointRunner = std::function<PointResult(const ExperimentPoint&)>;

// Runs the unfinished points of `c` across the launch's ranks. On rank 0 it returns the run's
// file and every point's result; on the others, an empty outcome once rank 0 has written it.
RunOutcome RunAcrossRanks(const ExperimentConfig& c, const RunOptions& o,
                          const distributed::Launch& launch, const PointRunner& run_point);

}  // namespace griffin::experiments
