// Measuring one experiment point on a loaded model: prefill `context` tokens at `batch`, then
// decode, recording state bytes (analytic and held), allocator peaks and raw timings.
#pragma once

#include "core/model/language_model.h"
#include "experiments/experiment_config.h"
#include "experiments/point_result.h"

namespace griffin::experiments {

// Errors inside the measurement (out of memory above all) are returned in PointResult::error, not
// thrown: a sweep records where the Transformer stops fitting and goes on.
PointResult MeasurePoint(const LanguageModel& model, const ExperimentConfig& config,
                         const ExperimentPoint& point);

}  // namespace griffin::experiments
