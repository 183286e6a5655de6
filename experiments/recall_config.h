// What a recall point derives from its task and model (internal to experiments/).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "experiments/experiment_config.h"

namespace griffin::experiments {

// The task options of the evaluation at one fixed distance (distance_recall's eval_distances).
std::map<std::string, double> EvalTaskOptions(const ExperimentPoint& p, int64_t distance);

// The preset spec a recall point trains: the model's preset plus the point's overrides.
std::string RecallModelSpec(const ExperimentPoint& p);

}  // namespace griffin::experiments
