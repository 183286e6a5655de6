// One finished experiment point: what was measured, as named metrics plus raw timing samples.
// Serialised to one JSON line in the run's journal (so a killed run resumes) and gathered into the
// run's HDF5 file at the end. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/experiment_config.h"

namespace griffin::experiments {

struct MetricInfo {
  const char* name;
  const char* units;
  bool higher_is_better;
  const char* description;
};

// Every metric a point can carry, in the order the HDF5 file and the summary table list them.
const std::vector<MetricInfo>& Metrics();

struct PointResult {
  ExperimentPoint point;
  int64_t window = 0;                     // the model's attention window (0: global attention only)
  std::string error;                      // empty: measured; otherwise why not (e.g. out of memory)
  std::map<std::string, double> metrics;  // names from Metrics(); absent = not measured
  std::vector<double> prefill_s, decode_step_s;
  // Curves of a recall point: train_loss (per step), eval_step and eval_accuracy (per eval).
  std::map<std::string, std::vector<double>> series;
  double wall_s = 0.0;

  bool ok() const { return error.empty(); }
  double Metric(const std::string& name) const;  // NaN when absent
  nlohmann::json ToJson() const;
  static PointResult FromJson(const nlohmann::json& j);  // throws on a malformed record
};

}  // namespace griffin::experiments
