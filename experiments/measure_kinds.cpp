// The registry of measure kinds and what the kinds share.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "experiments/config_reader.h"
#include "experiments/measure_kind.h"

namespace griffin::experiments {
namespace {

std::vector<const MeasureKind*>& Registry() {
  static std::vector<const MeasureKind*> kinds = {&SpeedMeasure(), &RecallMeasure(),
                                                  &NiahTextMeasure()};
  return kinds;
}

}  // namespace

const std::vector<const MeasureKind*>& MeasureKinds() { return Registry(); }

void RegisterMeasureKind(const MeasureKind* kind) {
  for (std::string_view name : kind->Names()) {
    if (FindMeasureKind(name) != nullptr) {
      throw std::invalid_argument(fmt::format("measure kind '{}' is already registered", name));
    }
  }
  // A section has one owner: its keys and its refusal elsewhere depend on it.
  const SectionKeys common = config::CommonSections();
  for (const auto& [section, keys] : kind->Sections()) {
    bool taken = common.count(section) > 0;
    for (const MeasureKind* other : Registry()) taken = taken || other->Sections().count(section);
    if (taken) {
      throw std::invalid_argument(
          fmt::format("measure kind '{}': section [{}] already belongs to another",
                      kind->Names().front(), section));
    }
  }
  Registry().push_back(kind);
}

const MeasureKind* FindMeasureKind(std::string_view name) {
  for (const MeasureKind* kind : Registry()) {
    const auto names = kind->Names();
    if (std::find(names.begin(), names.end(), name) != names.end()) return kind;
  }
  return nullptr;
}

std::string MeasureKind::Key(const ExperimentPoint& p) const {
  std::string key = fmt::format("model={} context={} batch={}", p.model, p.context, p.batch);
  for (const auto& [k, v] : p.task_options) key += fmt::format(" {}={}", k, v);
  return key;
}

void MeasureKind::WriteColumns(h5::Group&, const ExperimentConfig&,
                               const std::vector<PointResult>&) const {}

std::string StatusCell(const PointResult& r) {
  return r.ok() ? "ok" : r.error.substr(0, r.error.find('\n')).substr(0, 60);
}

std::string NumberCell(double v, const char* format) {
  return std::isfinite(v) ? fmt::format(fmt::runtime(format), v) : std::string("-");
}

std::string NotMeasured(const PointResult& r) {
  return fmt::format("not measured: {}", r.error.substr(0, r.error.find('\n')));
}

std::vector<ExperimentPoint> ContextSweepPoints(
    const ExperimentConfig& c, const std::vector<std::map<std::string, double>>& options) {
  std::vector<ExperimentPoint> points;
  for (const ModelEntry& m : c.models) {
    for (int64_t b : c.batches) {
      for (int64_t t : c.contexts) {
        if (m.max_context > 0 && t > m.max_context) continue;
        for (const auto& o : options) {
          points.push_back({static_cast<int64_t>(points.size()), m.label, m.checkpoint, t, b});
          points.back().task_options = o;
        }
      }
    }
  }
  return points;
}

std::vector<double> NanPadded(const std::vector<std::vector<double>>& rows, int64_t* width) {
  *width = 0;
  for (const auto& r : rows) *width = std::max<int64_t>(*width, static_cast<int64_t>(r.size()));
  std::vector<double> out(rows.size() * *width, std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy(rows[i].begin(), rows[i].end(), out.begin() + static_cast<int64_t>(i) * *width);
  }
  return out;
}

void ReadContextSweep(const config::Reader& r, ExperimentConfig& c) {
  c.contexts = r.Integers("sweep", "context", {}, /*required=*/true);
  c.batches = r.Integers("sweep", "batch", {1}, /*required=*/false);
  for (const auto& [key, node] : r.Entries("sweep")) {
    if (key != "context" && key != "batch") {
      config::Fail(r.file(), *node,
                   fmt::format("unknown key '{}' in [sweep]; expected one of: batch, context "
                               "(task options and overrides sweep in recall experiments)",
                               key));
    }
  }
}

}  // namespace griffin::experiments
