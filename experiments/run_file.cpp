// The run's HDF5 file (docs/DESIGN.md section 2): provenance, the resolved config, one row per
// point in /points, every metric with units in /metrics (NaN where a point did not measure it), and
// the raw timing samples in /timings.
#include <fmt/format.h>

#include <limits>
#include <set>

#include "core/io/h5.h"
#include "core/io/results.h"
#include "experiments/measure_kind.h"
#include "experiments/runner.h"

namespace griffin::experiments {
void WriteRunFile(const std::string& path, const ExperimentConfig& c,
                  const std::vector<PointResult>& results, const std::string& command_line) {
  h5::File file = h5::File::Create(path);
  h5::Group& root = file.root();
  WriteProvenance(root, "griffin-results", 1, command_line);
  root.SetAttr("", "experiment", c.name);
  root.SetAttr("", "description", c.description);
  root.SetAttr("", "device", c.device);
  root.SetAttr("", "dtype", std::string(DTypeName(c.dtype)));
  root.SetAttr("", "scan", std::string(OpImplName(c.scan)));
  root.SetAttr("", "conv", std::string(OpImplName(c.conv)));
  root.SetAttr("", "decode", std::string(DecodeModeName(c.decode)));
  root.WriteString("meta/config_toml", c.resolved_toml);
  root.WriteStrings("meta/overrides",
                    c.overrides.empty() ? std::vector<std::string>{""} : c.overrides);

  const int64_t n = static_cast<int64_t>(results.size());
  std::vector<std::string> model, checkpoint, status;
  std::vector<int64_t> context, batch, window;
  std::vector<std::vector<double>> prefill, decode;
  for (const PointResult& r : results) {
    model.push_back(r.point.model);
    checkpoint.push_back(r.point.checkpoint);
    status.push_back(r.ok() ? "ok" : r.error);
    context.push_back(r.point.context);
    batch.push_back(r.point.batch);
    window.push_back(r.window);
    prefill.push_back(r.prefill_s);
    decode.push_back(r.decode_step_s);
  }
  root.WriteStrings("points/model", model);
  root.WriteStrings("points/checkpoint", checkpoint);
  root.WriteStrings("points/status", status);
  root.WriteInt64("points/context", {n}, context.data());
  root.WriteInt64("points/batch", {n}, batch.data());
  root.WriteInt64("points/window", {n}, window.data());
  for (const MetricInfo& m : Metrics()) {
    std::vector<double> values;
    bool any = false;
    for (const PointResult& r : results) {
      values.push_back(r.Metric(m.name));
      any = any || r.metrics.count(m.name) > 0;
    }
    if (any) WriteMetric(root, m.name, values, m.units, m.higher_is_better, m.description);
  }
  c.Kind().WriteColumns(root, c, results);
  {
    // One dataset per task option any point set (NaN where a point left it at the default).
    std::set<std::string> keys;
    for (const PointResult& r : results) {
      for (const auto& [k, v] : r.point.task_options) keys.insert(k);
    }
    for (const std::string& k : keys) {
      std::vector<double> v;
      for (const PointResult& r : results) {
        const auto it = r.point.task_options.find(k);
        v.push_back(it == r.point.task_options.end() ? std::numeric_limits<double>::quiet_NaN()
                                                     : it->second);
      }
      root.WriteFloat64("points/task_" + k, {n}, v.data());
    }
  }
  int64_t width = 0;
  std::vector<double> raw = NanPadded(prefill, &width);
  if (width > 0) {
    root.WriteFloat64("timings/prefill_s", {n, width}, raw.data());
    raw = NanPadded(decode, &width);
    root.WriteFloat64("timings/decode_step_s", {n, width}, raw.data());
    root.SetAttr("timings", "note",
                 std::string("raw samples in seconds, one row per point, NaN-padded"));
  }
  file.Commit();
}

}  // namespace griffin::experiments
