// Measuring one experiment point on a loaded model: prefill `context` tokens at `batch`, then
// decode, recording state bytes (analytic and held), allocator peaks and raw timings.
#pragma once

#include <functional>
#include <string>

#include "core/model/language_model.h"
#include "experiments/experiment_config.h"
#include "experiments/point_result.h"

namespace griffin::experiments {

// Errors inside the measurement (out of memory above all) are returned in PointResult::error, not
// thrown: a sweep records where the Transformer stops fitting and goes on.
PointResult MeasurePoint(const LanguageModel& model, const ExperimentConfig& config,
                         const ExperimentPoint& point);

// A recall point: trains the point's model from scratch on its task (checkpoints in
// `work_dir`, so a killed run resumes mid-training), then records the final held-out accuracy,
// the training curves (series) and the model's decode-state bytes at the task's length.
PointResult MeasureRecall(const ExperimentConfig& config, const ExperimentPoint& point,
                          const std::string& work_dir);

// A niah_text point: needle (or passkey) retrieval with the model's tokenizer at the point's
// length (context) and depth; accuracy = trials whose answer appears in the greedy output.
PointResult MeasureNiahText(const LanguageModel& model, const ExperimentConfig& config,
                            const ExperimentPoint& point);

// Runs `measure` on `r`, turning an exception into r.error (a point that fails is recorded, the
// sweep goes on) and recording the wall time.
void MeasureInto(PointResult& r, const std::function<void()>& measure);

}  // namespace griffin::experiments
