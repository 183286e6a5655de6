#include "experiments/measure.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>

#include "core/model/dtype.h"
#include "core/model/model_state.h"
#include "core/runtime/out_of_memory.h"
#include "core/runtime/speed_bench.h"

namespace griffin::experiments {

PointResult MeasurePoint(const LanguageModel& model, const ExperimentConfig& c,
                         const ExperimentPoint& point) {
  PointResult r;
  r.point = point;
  const ModelConfig& mc = model.config();
  r.window = mc.attention_window;
  SpeedOptions o;
  o.prompt_tokens = {point.context};
  o.batches = {point.batch};
  o.decode_tokens = c.decode_tokens;
  o.repeats = static_cast<int>(c.repeats);
  o.warmup = static_cast<int>(c.warmup);
  o.seed = c.seed;
  o.prefill_chunk = c.prefill_chunk;
  o.decode_graph = c.decode == DecodeMode::kGraph;
  // The analytic numbers need no measurement: they are recorded even where the run fails
  // (out of memory), so the plots can still place a model past where it fits.
  const int64_t held = TokensHeldAfterDecode(o, point.context);
  const c10::ScalarType dtype = ToScalarType(mc.dtype);
  r.metrics["state_bytes_analytic"] =
      static_cast<double>(AnalyticStateSize(mc, point.batch, held, dtype).total());
  if (c.budget_gib > 0) {
    const double budget = c.budget_gib * 1024.0 * 1024.0 * 1024.0;
    const double per_sequence = static_cast<double>(AnalyticStateSize(mc, 1, held, dtype).total());
    r.metrics["max_batch_in_budget"] = std::max(
        0.0, std::floor((budget - static_cast<double>(model.WeightBytes())) / per_sequence));
  }
  MeasureInto(r, [&] {
    const SpeedPoint s = MeasureSpeed(model, o).at(0);
    r.metrics["state_bytes_measured"] = static_cast<double>(s.state_storage_after_decode);
    r.metrics["state_bytes_held"] = static_cast<double>(s.state_bytes_after_decode);
    r.metrics["state_bytes_per_sequence"] =
        static_cast<double>(s.state_storage_after_decode) / static_cast<double>(point.batch);
    r.metrics["state_storage_growth_in_decode"] =
        static_cast<double>(s.state_storage_after_decode - s.state_storage_before_decode);
    if (model.device().is_cuda()) {
      r.metrics["allocated_growth_in_decode"] =
          static_cast<double>(s.allocated_after_decode_bytes - s.allocated_before_decode_bytes);
      r.metrics["peak_prefill_bytes"] = static_cast<double>(s.peak_prefill_bytes - s.weight_bytes);
      r.metrics["peak_decode_bytes"] = static_cast<double>(s.peak_decode_bytes - s.weight_bytes);
      r.metrics["allocated_bytes_after_decode"] =
          static_cast<double>(s.allocated_after_decode_bytes - s.weight_bytes);
    }
    if (c.Measures(kLatencyAtLength)) {
      const double pre = Quantile(s.prefill_seconds, 0.5);
      const double step = Quantile(s.decode_step_seconds, 0.5);
      r.metrics["prefill_ms"] = pre * 1e3;
      r.metrics["prefill_ms_p90"] = Quantile(s.prefill_seconds, 0.9) * 1e3;
      r.metrics["prefill_tokens_per_s"] = static_cast<double>(point.batch * point.context) / pre;
      r.metrics["decode_ms_per_token"] = step * 1e3;
      r.metrics["decode_ms_p90"] = Quantile(s.decode_step_seconds, 0.9) * 1e3;
      r.metrics["decode_tokens_per_s"] = static_cast<double>(point.batch) / step;
      r.prefill_s = s.prefill_seconds;
      r.decode_step_s = s.decode_step_seconds;
    }
  });
  return r;
}

void MeasureInto(PointResult& r, const std::function<void()>& measure) {
  const auto start = std::chrono::steady_clock::now();
  try {
    measure();
  } catch (const c10::Error& e) {
    // Out of memory leads with what was asked: the summary table shows a status's first 60
    // characters, which for the CPU allocator were "[enforce fail at alloc_cpu.cpp:127] ...".
    const std::optional<OutOfMemory> oom = AsOutOfMemory(e);
    r.error = oom ? oom->Line() : e.what_without_backtrace();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace griffin::experiments
