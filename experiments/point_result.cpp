#include "experiments/point_result.h"

#include <limits>

namespace griffin::experiments {

const std::vector<MetricInfo>& Metrics() {
  static const std::vector<MetricInfo> metrics = {
      {"state_bytes_analytic", "bytes", false,
       "decode state for batch x (context + decode) tokens, from the config alone"},
      {"state_bytes_measured", "bytes", false,
       "measured after prefill and decode: the bytes of the distinct storages the state's tensors "
       "live in (a growing cache's unused room included)"},
      {"state_bytes_held", "bytes", false,
       "the state's tensors and cache slots in use after prefill and decode, from their shapes"},
      {"state_bytes_per_sequence", "bytes", false, "state_bytes_measured / batch"},
      {"state_storage_growth_in_decode", "bytes", false,
       "state_bytes_measured after the decode minus before it"},
      {"allocated_growth_in_decode", "bytes", false,
       "caching allocator's allocated bytes after the decode minus before it, every buffer "
       "counted: the state's growth when nothing else is left behind (a cuBLAS workspace made "
       "for the graph's capture stream would count too) (GPU only)"},
      {"allocated_bytes_after_decode", "bytes", false,
       "caching allocator's allocated bytes above the weights after decode: the state plus the "
       "last step's outputs (GPU only)"},
      {"peak_prefill_bytes", "bytes", false,
       "allocator peak above the weights during prefill (GPU only)"},
      {"peak_decode_bytes", "bytes", false,
       "allocator peak above the weights during decode (GPU only)"},
      {"max_batch_in_budget", "sequences", true,
       "largest batch whose weights + analytic state at this context fit memory.budget_gib"},
      {"prefill_ms", "ms", false, "median prefill time of the whole prompt"},
      {"prefill_ms_p90", "ms", false, "90th percentile of the prefill samples"},
      {"prefill_tokens_per_s", "tokens/s", true, "batch x context / median prefill time"},
      {"decode_ms_per_token", "ms", false, "median time of one decode step at this depth"},
      {"decode_ms_p90", "ms", false, "90th percentile of the decode-step samples"},
      {"decode_tokens_per_s", "tokens/s", true, "batch / median decode step"},
      {"accuracy", "fraction", true,
       "recall: answer tokens predicted right on the held-out stream, after training; "
       "niah_text: trials whose answer appears in the greedy output"},
      {"prompt_tokens", "tokens", false, "niah_text: mean prompt length of the trials"},
      {"example_accuracy", "fraction", true,
       "recall: held-out examples with every answer token right"},
      {"eval_loss", "nats", false, "recall: held-out cross-entropy on answer tokens"},
      {"final_train_loss", "nats", false, "recall: training loss of the last step"},
      {"steps_done", "steps", false, "recall: optimizer steps taken (early stop ends sooner)"},
      {"reached_target", "bool", true, "recall: 1 if train.target_accuracy was reached"},
      {"train_tokens_per_s", "tokens/s", true, "recall: training throughput"},
      {"train_step_ms", "ms", false, "recall: median training step"},
      {"train_device_step_ms", "ms", false,
       "recall: median training step on the device (CUDA events around each step)"},
      {"parameters", "count", false, "recall: trainable parameters"},
      {"state_bytes_at_seq_len", "bytes", false,
       "recall: decode-state bytes of one sequence of the task's length (analytic)"},
  };
  return metrics;
}

double PointResult::Metric(const std::string& name) const {
  const auto it = metrics.find(name);
  return it == metrics.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

nlohmann::json PointResult::ToJson() const {
  return {{"index", point.index},
          {"model", point.model},
          {"checkpoint", point.checkpoint},
          {"context", point.context},
          {"batch", point.batch},
          {"window", window},
          {"error", error},
          {"metrics", metrics},
          {"prefill_s", prefill_s},
          {"decode_step_s", decode_step_s},
          {"series", series},
          {"overrides", point.overrides},
          {"lr", point.lr},
          {"task_options", point.task_options},
          {"wall_s", wall_s}};
}

PointResult PointResult::FromJson(const nlohmann::json& j) {
  PointResult r;
  r.point.index = j.at("index").get<int64_t>();
  r.point.model = j.at("model").get<std::string>();
  r.point.checkpoint = j.at("checkpoint").get<std::string>();
  r.point.context = j.at("context").get<int64_t>();
  r.point.batch = j.at("batch").get<int64_t>();
  r.window = j.at("window").get<int64_t>();
  r.error = j.at("error").get<std::string>();
  r.metrics = j.at("metrics").get<std::map<std::string, double>>();
  r.prefill_s = j.at("prefill_s").get<std::vector<double>>();
  r.decode_step_s = j.at("decode_step_s").get<std::vector<double>>();
  r.series = j.value("series", std::map<std::string, std::vector<double>>{});
  r.point.overrides = j.value("overrides", std::string());
  r.point.lr = j.value("lr", 0.0);
  r.point.task_options = j.value("task_options", std::map<std::string, double>{});
  r.wall_s = j.at("wall_s").get<double>();
  return r;
}

}  // namespace griffin::experiments
