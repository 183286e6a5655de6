// One kind of measurement an experiment makes (experiment.measure): the memory and latency of a
// loaded model at each context, recall after training from scratch on a synthetic task, or
// needle-in-a-haystack retrieval with a tokenizer. A kind declares and reads its own sections,
// expands its points, runs one point, and owns its progress line, summary table and HDF5 columns;
// the config loader and the runner know this interface, not the kinds. Adding a kind is one file
// with its class and one line in MeasureKinds (measure_kinds.cpp), or RegisterMeasureKind.
// Torch-free.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/experiment_config.h"
#include "experiments/point_result.h"

namespace griffin {
class LanguageModel;
namespace h5 {
class Group;
}
}  // namespace griffin

namespace griffin::experiments {

namespace config {
class Reader;
}

// The keys each section accepts; an empty set: the section's reader checks its keys itself.
using SectionKeys = std::map<std::string, std::set<std::string>>;

// What a point runs with.
struct PointContext {
  const ExperimentConfig& config;
  const LanguageModel* model = nullptr;  // loaded by the runner when the kind NeedsModel
  std::string work_dir;                  // where a point keeps what outlives it (checkpoints)
};

class MeasureKind {
 public:
  virtual ~MeasureKind() = default;
  // The experiment.measure names of this kind; an experiment lists names of one kind only.
  virtual std::vector<std::string_view> Names() const = 0;
  // The sections only this kind reads, with their keys; other kinds' experiments refuse them.
  virtual SectionKeys Sections() const = 0;
  // Reads [sweep] (checking its keys: the schema leaves them to the kind) and this kind's
  // sections into c, whose [experiment], [run] and [models] are read.
  virtual void Read(const config::Reader& r, ExperimentConfig& c) const = 0;
  virtual std::vector<ExperimentPoint> Points(const ExperimentConfig& c) const = 0;
  // "section.key = value" for every setting of this kind's sections, defaults included (what
  // --dry-run prints after the file's own text).
  virtual std::vector<std::string> Settings(const ExperimentConfig& c) const = 0;
  // Names a point in logs and in the journal: model, context and batch, then the task options.
  virtual std::string Key(const ExperimentPoint& p) const;
  // Whether the runner loads each point's model (kept across a model's consecutive points); a
  // kind that builds its own (recall trains from scratch) says no.
  virtual bool NeedsModel() const { return true; }
  // Whether points may run in parallel worker processes (--jobs): not timed ones. A worker loads
  // each point's model as the runner does when the kind NeedsModel.
  virtual bool Parallel() const { return false; }
  // Runs one point; errors inside it (out of memory above all) come back in PointResult::error.
  virtual PointResult Run(const PointContext& context, const ExperimentPoint& p) const = 0;
  // The progress line of a finished point (after "model=... context=...: ").
  virtual std::string OneLine(const PointResult& r) const = 0;
  // The markdown table printed at the end of a run.
  virtual std::string Table(const std::vector<PointResult>& results) const = 0;
  // Datasets and attributes of this kind in the run file, beyond the common ones.
  virtual void WriteColumns(h5::Group& root, const ExperimentConfig& c,
                            const std::vector<PointResult>& results) const;
};

// Every kind an experiment may name, the built-in ones first.
const std::vector<const MeasureKind*>& MeasureKinds();
// Adds a kind (a test's, an extension's); `kind` must outlive every experiment that uses it.
void RegisterMeasureKind(const MeasureKind* kind);
// The kind that answers to `name`, or null.
const MeasureKind* FindMeasureKind(std::string_view name);

// The built-in kinds (speed_measure.cpp, recall_measure.cpp, niah_measure.cpp).
const MeasureKind& SpeedMeasure();
const MeasureKind& RecallMeasure();
const MeasureKind& NiahTextMeasure();

// A point's status cell in a summary table: "ok", or the first 60 characters of its error.
std::string StatusCell(const PointResult& r);
// A metric's summary-table cell: `v` formatted by `format`, or "-" where it was not measured (NaN).
std::string NumberCell(double v, const char* format);
// "not measured: <the error's first line>".
std::string NotMeasured(const PointResult& r);

// Rows of unequal length padded with NaN into one [rows, width] array (curves, raw timings).
std::vector<double> NanPadded(const std::vector<std::vector<double>>& rows, int64_t* width);

// [sweep] of the kinds that sweep a loaded model over contexts: context (required) and batch,
// nothing else.
void ReadContextSweep(const config::Reader& r, ExperimentConfig& c);
// Their points: models outermost, then batch, then context (so one model's curve fills in first,
// a model's max_context respected), one point for each of `options` (task options) at each.
std::vector<ExperimentPoint> ContextSweepPoints(
    const ExperimentConfig& c, const std::vector<std::map<std::string, double>>& options);

}  // namespace griffin::experiments
