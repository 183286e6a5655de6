// recall: each model trained from scratch on a synthetic task, then its held-out recall
// (measure_recall.cpp, MeasureRecall); [task] and [train] are this kind's sections, and its [sweep]
// takes model overrides and the task's options.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/io/h5.h"
#include "eval/tasks/task_factory.h"
#include "experiments/config_reader.h"
#include "experiments/measure.h"
#include "experiments/measure_kind.h"
#include "experiments/recall_config.h"

namespace griffin::experiments {
namespace {

using config::Fail;

// A task option's value or values (a [sweep] list) as the task factory takes them: integers as
// TOML integers, numbers as either, flags as true or false (1 or 0 in the factory's map). A flag
// written as 0 or 1, as configs did before flags were typed, is refused with what to write.
std::vector<double> TaskValues(const config::Reader& r, const std::string& section,
                               const std::string& key, eval::TaskOptionType type) {
  std::vector<double> out;
  r.EachValue(*r.Find(section, key), section, key, [&](const toml::node& v) {
    switch (type) {
      case eval::TaskOptionType::kFlag:
        if (v.is_boolean()) {
          out.push_back(v.as_boolean()->get() ? 1.0 : 0.0);
          return;
        }
        if (v.is_integer() && (v.as_integer()->get() == 0 || v.as_integer()->get() == 1)) {
          Fail(r.file(), v,
               fmt::format("{}.{} is true or false: write {} = {}", section, key, key,
                           v.as_integer()->get() == 1 ? "true" : "false"));
        }
        Fail(r.file(), v,
             fmt::format("{}.{} must be true or false, got {}", section, key, config::TypeName(v)));
      case eval::TaskOptionType::kInteger:
        if (!v.is_integer()) {
          Fail(r.file(), v,
               fmt::format("{}.{} must be an integer, got {}", section, key, config::TypeName(v)));
        }
        out.push_back(static_cast<double>(v.as_integer()->get()));
        return;
      case eval::TaskOptionType::kNumber:
        if (v.is_integer()) {
          out.push_back(static_cast<double>(v.as_integer()->get()));
        } else if (v.is_floating_point()) {
          out.push_back(v.as_floating_point()->get());
        } else {
          Fail(r.file(), v,
               fmt::format("{}.{} must be a number, got {}", section, key, config::TypeName(v)));
        }
        return;
    }
  });
  return out;
}

class RecallKind final : public MeasureKind {
 public:
  std::vector<std::string_view> Names() const override { return {kRecall}; }

  SectionKeys Sections() const override { return {{"task", {}}, {"train", config::TrainKeys()}}; }

  std::vector<std::string> Settings(const ExperimentConfig& c) const override {
    std::vector<std::string> lines =
        config::FieldLines(c.recall.train, [](eval::TrainOptions& t, auto&& visit) {
          eval::VisitConfigFields(t, [&](const char* key, auto& field, auto least) {
            visit("train", key, field, least);
          });
        });
    lines.push_back(fmt::format("train.lr = [{}]", fmt::join(c.recall.lrs, ", ")));
    lines.push_back(
        fmt::format("train.parallel = \"{}\"", eval::ParallelName(c.recall.train.parallel)));
    return lines;
  }

  void Read(const config::Reader& r, ExperimentConfig& c) const override {
    const std::string& file = r.file();
    RecallSettings& s = c.recall;
    s.task = r.String("task", "kind", "", /*required=*/true);
    std::map<std::string, eval::TaskOptionType> options;
    try {
      options = eval::TaskOptions(s.task);
    } catch (const std::exception& e) {
      Fail(file, r.Node("task", "kind"), fmt::format("task.kind: {}", e.what()));
    }
    std::vector<std::string> option_names;
    for (const auto& [name, type] : options) option_names.push_back(name);
    for (const auto& [key, node] : r.Entries("task")) {
      if (key == "kind") continue;
      if (key == "eval_distances" && s.task == "distance_recall") {
        s.eval_distances = r.Integers("task", key, {}, /*required=*/true);
        continue;
      }
      if (!options.count(key)) {
        Fail(file, *node,
             fmt::format("unknown key '{}' in [task] for kind {}; expected one of: kind, {}", key,
                         s.task, fmt::join(option_names, ", ")));
      }
      const std::vector<double> v = TaskValues(r, "task", key, options.at(key));
      if (v.size() != 1) Fail(file, *node, fmt::format("task.{} must be one number", key));
      s.task_options[key] = v[0];
    }
    for (const auto& [key, node] : r.Entries("sweep")) {
      if (key == "overrides") {
        s.model_overrides = r.Strings("sweep", "overrides");
      } else if (options.count(key)) {
        s.task_sweeps[key] = TaskValues(r, "sweep", key, options.at(key));
      } else {
        Fail(file, *node,
             fmt::format("unknown key '{}' in [sweep] of a {} recall experiment; expected "
                         "overrides or one of the task's options: {}",
                         key, s.task, fmt::join(option_names, ", ")));
      }
    }
    s.lrs = r.Numbers("train", "lr", s.lrs);
    for (double lr : s.lrs) {
      if (!(lr > 0.0)) {
        Fail(file, r.Node("train", "lr"), fmt::format("train.lr {} must be > 0", lr));
      }
    }
    eval::VisitConfigFields(s.train, [&](const char* key, auto& field, auto least) {
      config::ReadField(r, "train", key, field, least);
    });
    s.train.parallel = r.Choice("train", "parallel", s.train.parallel, &eval::ParseParallel);
    if (s.train.parallel == eval::Parallel::kData && s.train.graph) {
      Fail(file, r.Node("train", "parallel"),
           "train.parallel = \"data\" with train.graph = true: a captured step cannot hold the "
           "ranks' gradient all-reduce yet; set graph = false");
    }
    for (const ModelEntry& m : c.models) {
      if (m.checkpoint.rfind("preset:", 0) != 0) {
        throw std::invalid_argument(
            fmt::format("{}: models.{}: recall experiments train from scratch: give a preset "
                        "(preset:NAME,...), not the checkpoint folder '{}'",
                        file, m.label, m.checkpoint));
      }
    }
    // Every point's task must be possible, and every model with every override: checked now, not
    // hours into the sweep.
    for (const ExperimentPoint& p : Points(c)) {
      try {
        eval::MakeTask(s.task, p.task_options);
        for (int64_t d : s.eval_distances) eval::MakeTask(s.task, EvalTaskOptions(p, d));
      } catch (const std::exception& e) {
        throw std::invalid_argument(fmt::format("{}: point {}: {}", file, Key(p), e.what()));
      }
      try {
        ValidateConfig(PresetWithOverrides(RecallModelSpec(p)));
      } catch (const std::exception& e) {
        throw std::invalid_argument(fmt::format("{}: point {}: {}", file, Key(p), e.what()));
      }
    }
  }

  // Models, then overrides, then learning rates, then the task sweeps in key order.
  std::vector<ExperimentPoint> Points(const ExperimentConfig& c) const override {
    const RecallSettings& s = c.recall;
    std::vector<std::map<std::string, double>> tasks = {s.task_options};
    for (const auto& [key, values] : s.task_sweeps) {
      std::vector<std::map<std::string, double>> next;
      for (const auto& t : tasks) {
        for (double v : values) {
          auto options = t;
          options[key] = v;
          next.push_back(options);
        }
      }
      tasks = std::move(next);
    }
    std::vector<ExperimentPoint> points;
    for (const ModelEntry& m : c.models) {
      for (const std::string& overrides : s.model_overrides) {
        for (double lr : s.lrs) {
          for (const auto& options : tasks) {
            ExperimentPoint p;
            p.index = static_cast<int64_t>(points.size());
            p.model = m.label;
            p.checkpoint = m.checkpoint;
            p.batch = s.train.batch;
            p.overrides = overrides;
            p.lr = lr;
            p.task_options = options;
            points.push_back(p);
          }
        }
      }
    }
    return points;
  }

  // The task sets the context: a recall point is named by its overrides and learning rate.
  std::string Key(const ExperimentPoint& p) const override {
    std::string key = fmt::format("model={}", p.model);
    if (!p.overrides.empty()) key += fmt::format(" overrides={}", p.overrides);
    key += fmt::format(" lr={}", p.lr);
    for (const auto& [k, v] : p.task_options) key += fmt::format(" {}={}", k, v);
    return key;
  }

  bool NeedsModel() const override { return false; }
  bool Parallel() const override { return true; }

  PointResult Run(const PointContext& context, const ExperimentPoint& p) const override {
    return MeasureRecall(context.config, p, context.work_dir);
  }

  std::string OneLine(const PointResult& r) const override {
    if (!r.ok()) return NotMeasured(r);
    return fmt::format("accuracy {:.4f} (examples {:.4f}) after {} steps", r.Metric("accuracy"),
                       r.Metric("example_accuracy"), static_cast<int64_t>(r.Metric("steps_done")));
  }

  std::string Table(const std::vector<PointResult>& results) const override {
    std::string s =
        "| model | overrides | lr | task | accuracy | examples right | steps | state KiB | "
        "parameters | status |\n| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- "
        "|\n";
    for (const PointResult& r : results) {
      std::string task;
      for (const auto& [k, v] : r.point.task_options) task += fmt::format("{}={} ", k, v);
      s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.point.model,
                       r.point.overrides.empty() ? "-" : r.point.overrides, r.point.lr, task,
                       NumberCell(r.Metric("accuracy"), "{:.4f}"),
                       NumberCell(r.Metric("example_accuracy"), "{:.4f}"),
                       NumberCell(r.Metric("steps_done"), "{:.0f}"),
                       NumberCell(r.Metric("state_bytes_at_seq_len") / 1024.0, "{:.1f}"),
                       NumberCell(r.Metric("parameters"), "{:.0f}"), StatusCell(r));
    }
    return s;
  }

  // Each point's overrides and learning rate, the task's kind, and the training curves.
  void WriteColumns(h5::Group& root, const ExperimentConfig& c,
                    const std::vector<PointResult>& results) const override {
    const int64_t n = static_cast<int64_t>(results.size());
    std::vector<std::string> overrides;
    std::vector<double> lr;
    for (const PointResult& r : results) {
      overrides.push_back(r.point.overrides);
      lr.push_back(r.point.lr);
    }
    root.WriteStrings("points/overrides", overrides);
    root.WriteFloat64("points/lr", {n}, lr.data());
    root.SetAttr("", "task", c.recall.task);
    bool any_series = false;
    for (const char* name : {"train_loss", "train_grad_norm", "train_lr", "eval_step",
                             "eval_accuracy", "eval_distance", "accuracy_at_distance"}) {
      std::vector<std::vector<double>> rows;
      for (const PointResult& r : results) {
        const auto it = r.series.find(name);
        rows.push_back(it == r.series.end() ? std::vector<double>{} : it->second);
      }
      int64_t w = 0;
      const std::vector<double> padded = NanPadded(rows, &w);
      if (w > 0) root.WriteFloat64(std::string("series/") + name, {n, w}, padded.data());
      any_series = any_series || w > 0;
    }
    if (any_series) {
      root.SetAttr("series", "note",
                   std::string("per point (row): train_loss, train_grad_norm (before clipping) "
                               "and train_lr per step; eval_accuracy at eval_step "
                               "steps; accuracy_at_distance at each eval_distance after "
                               "training; NaN-padded"));
    }
  }
};

}  // namespace

const MeasureKind& RecallMeasure() {
  static const RecallKind kind;
  return kind;
}

}  // namespace griffin::experiments
