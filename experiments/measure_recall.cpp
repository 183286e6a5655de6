#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/io/paths.h"
#include "core/model/dtype.h"
#include "core/model/model_state.h"
#include "eval/tasks/task_factory.h"
#include "eval/train/trainer.h"
#include "experiments/measure.h"
#include "experiments/recall_config.h"

namespace griffin::experiments {

PointResult MeasureRecall(const ExperimentConfig& c, const ExperimentPoint& point,
                          const std::string& work_dir) {
  PointResult r;
  r.point = point;
  MeasureInto(r, [&] {
    const auto task = eval::MakeTask(c.recall.task, point.task_options);
    r.point.context = task->seq_len();
    const RecallSettings& s = c.recall;
    eval::TrainOptions o = s.train;  // what [train] set; the point's own fields below
    o.model = RecallModelSpec(point);
    o.device = c.device;
    o.dtype = c.dtype;
    o.ops = {c.scan, c.conv};
    o.lr = point.lr;
    o.seed = c.seed;
    o.out_dir = paths::Join(work_dir, fmt::format("point-{}", point.index));
    eval::Trainer trainer(task, o);
    r.window = trainer.config().attention_window;
    const eval::TrainSummary summary = trainer.Run([&point](const std::string& line) {
      fmt::print(stderr, "[train p{}] {}\n", point.index, line);
    });
    const eval::EvalRecord& last = trainer.evals().back();
    r.metrics["accuracy"] = last.token_accuracy;
    r.metrics["example_accuracy"] = last.example_accuracy;
    r.metrics["eval_loss"] = last.loss;
    r.metrics["final_train_loss"] = trainer.steps().back().loss;
    r.metrics["steps_done"] = static_cast<double>(summary.steps_done);
    r.metrics["reached_target"] = summary.reached_target ? 1.0 : 0.0;
    if (summary.tokens_per_s > 0) {  // absent when a resumed point had nothing left to train
      r.metrics["train_tokens_per_s"] = summary.tokens_per_s;
      r.metrics["train_step_ms"] = summary.median_step_ms;
      r.metrics["train_device_step_ms"] = summary.median_device_step_ms;
    }
    r.metrics["parameters"] = static_cast<double>(summary.parameters);
    r.metrics["state_bytes_at_seq_len"] = static_cast<double>(
        AnalyticStateSize(trainer.config(), 1, task->seq_len(), ToScalarType(o.dtype)).total());
    for (int64_t d : s.eval_distances) {
      const auto at_distance = eval::MakeTask(s.task, EvalTaskOptions(point, d));
      r.series["eval_distance"].push_back(static_cast<double>(d));
      r.series["accuracy_at_distance"].push_back(trainer.EvaluateOn(*at_distance).token_accuracy);
    }
    for (const eval::StepRecord& step : trainer.steps()) {
      r.series["train_loss"].push_back(step.loss);
      r.series["train_grad_norm"].push_back(step.grad_norm);  // before clipping
      r.series["train_lr"].push_back(step.lr);
    }
    for (const eval::EvalRecord& e : trainer.evals()) {
      r.series["eval_step"].push_back(static_cast<double>(e.step));
      r.series["eval_accuracy"].push_back(e.token_accuracy);
    }
  });
  return r;
}

}  // namespace griffin::experiments
