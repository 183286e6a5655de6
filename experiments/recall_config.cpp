// What a recall point derives from its task and model (shared by reading and measuring).
#include "experiments/recall_config.h"

namespace griffin::experiments {

std::map<std::string, double> EvalTaskOptions(const ExperimentPoint& p, int64_t distance) {
  std::map<std::string, double> o = p.task_options;
  o["distance"] = static_cast<double>(distance);
  o.erase("distance_max");
  return o;
}

std::string RecallModelSpec(const ExperimentPoint& p) {
  std::string spec = p.checkpoint.substr(7);  // after "preset:"
  if (!p.overrides.empty()) spec += "," + p.overrides;
  return spec;
}

}  // namespace griffin::experiments
