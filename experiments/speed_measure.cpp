// memory_per_token and latency_at_length: a loaded model prefilled to each context at each batch,
// then decoding (measure.cpp, MeasurePoint); [memory] and [latency] are this kind's sections.
#include <fmt/format.h>

#include "experiments/config_reader.h"
#include "experiments/measure.h"
#include "experiments/measure_kind.h"

namespace griffin::experiments {
namespace {

// [memory] and [latency]: each key once, with its least value.
template <typename Visit>
void VisitSpeedFields(ExperimentConfig& c, Visit&& visit) {
  visit("memory", "budget_gib", c.budget_gib, 0.0);
  visit("latency", "repeats", c.repeats, int64_t{1});
  visit("latency", "warmup", c.warmup, int64_t{0});
  visit("latency", "decode_tokens", c.decode_tokens, int64_t{1});
}

class SpeedKind final : public MeasureKind {
 public:
  std::vector<std::string_view> Names() const override {
    return {kMemoryPerToken, kLatencyAtLength};
  }

  SectionKeys Sections() const override {
    return config::FieldSections<ExperimentConfig>(
        [](ExperimentConfig& c, auto&& visit) { VisitSpeedFields(c, visit); });
  }

  std::vector<std::string> Settings(const ExperimentConfig& c) const override {
    return config::FieldLines(
        c, [](ExperimentConfig& x, auto&& visit) { VisitSpeedFields(x, visit); });
  }

  void Read(const config::Reader& r, ExperimentConfig& c) const override {
    ReadContextSweep(r, c);
    VisitSpeedFields(c, [&](const char* section, const char* key, auto& field, auto least) {
      config::ReadField(r, section, key, field, least);
    });
  }

  std::vector<ExperimentPoint> Points(const ExperimentConfig& c) const override {
    return ContextSweepPoints(c, {{}});
  }

  PointResult Run(const PointContext& context, const ExperimentPoint& p) const override {
    return MeasurePoint(*context.model, context.config, p);
  }

  std::string OneLine(const PointResult& r) const override {
    if (!r.ok()) return NotMeasured(r);
    std::string s = fmt::format("state {:.3f} MiB", r.Metric("state_bytes_measured") / 1048576.0);
    if (r.metrics.count("prefill_ms")) {
      s += fmt::format(", prefill {:.2f} ms, decode {:.3f} ms/token", r.Metric("prefill_ms"),
                       r.Metric("decode_ms_per_token"));
    }
    return s;
  }

  std::string Table(const std::vector<PointResult>& results) const override {
    std::string s =
        "| model | batch | context | state MiB (analytic / measured) | peak prefill MiB | prefill "
        "ms "
        "| decode ms/token (median / p90) | status |\n| --- | ---: | ---: | ---: | ---: | ---: | "
        "---: | --- |\n";
    for (const PointResult& r : results) {
      s += fmt::format("| {} | {} | {} | {} / {} | {} | {} | {} / {} | {} |\n", r.point.model,
                       r.point.batch, r.point.context,
                       NumberCell(r.Metric("state_bytes_analytic") / 1048576.0, "{:.3f}"),
                       NumberCell(r.Metric("state_bytes_measured") / 1048576.0, "{:.3f}"),
                       NumberCell(r.Metric("peak_prefill_bytes") / 1048576.0, "{:.1f}"),
                       NumberCell(r.Metric("prefill_ms"), "{:.2f}"),
                       NumberCell(r.Metric("decode_ms_per_token"), "{:.3f}"),
                       NumberCell(r.Metric("decode_ms_p90"), "{:.3f}"), StatusCell(r));
    }
    return s;
  }
};

}  // namespace

const MeasureKind& SpeedMeasure() {
  static const SpeedKind kind;
  return kind;
}

}  // namespace griffin::experiments
