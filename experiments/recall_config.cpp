// The [task], [train] and [sweep] sections of a recall experiment (and the [sweep] check of the
// others), on the strict reader of config_reader.h.
#include "experiments/recall_config.h"

#include <type_traits>

#include "eval/tasks/task_factory.h"
#include "experiments/config_reader.h"

namespace griffin::experiments {

using config::Fail;

void ReadSweepAndRecall(const config::Reader& r, ExperimentConfig& c) {
  const std::string& file = r.file();
  if (c.Measures(kNiahText)) {
    NiahSettings& n = c.niah;
    n.kind = r.String("niah", "kind", n.kind);
    if (n.kind != "niah" && n.kind != "passkey") {
      Fail(file, r.Node("niah", "kind"),
           fmt::format("niah.kind '{}' is not niah or passkey", n.kind));
    }
    n.depths = r.Numbers("niah", "depths", n.depths);
    for (double d : n.depths) {
      if (d < 0.0 || d > 1.0) {
        Fail(file, r.Node("niah", "depths"), fmt::format("niah.depths: {} is not in [0, 1]", d));
      }
    }
    n.trials = r.Integer("niah", "trials", n.trials, 1);
    n.max_new_tokens = r.Integer("niah", "max_new_tokens", n.max_new_tokens, 1);
    n.chat = r.Boolean("niah", "chat", n.chat);
    // Paths are taken as given (relative to the working directory, as checkpoint folders are).
    n.haystack = r.String("niah", "haystack", n.haystack);
    if (n.kind == "niah" && !paths::IsDirectory(n.haystack)) {
      Fail(
          file,
          r.Find("niah", "haystack") ? r.Node("niah", "haystack") : r.Node("experiment", "measure"),
          fmt::format("niah.haystack: folder '{}' does not exist", n.haystack));
    }
    n.tokenizer = r.String("niah", "tokenizer", "");
    for (const ModelEntry& m : c.models) {
      const std::string tok =
          n.tokenizer.empty() ? paths::Join(m.checkpoint, "tokenizer.model") : n.tokenizer;
      if (!paths::Exists(tok)) {
        throw std::invalid_argument(fmt::format(
            "{}: models.{}: no tokenizer at '{}': set niah.tokenizer (presets have none)", file,
            m.label, tok));
      }
    }
  } else {
    for (const auto& [key, node] : r.Entries("niah")) {
      Fail(file, *node,
           "[niah] belongs to niah_text experiments (experiment.measure = [\"niah_text\"])");
    }
  }
  if (!c.Measures(kRecall)) {
    for (const auto& [key, node] : r.Entries("sweep")) {
      if (key != "context" && key != "batch") {
        Fail(file, *node,
             fmt::format("unknown key '{}' in [sweep]; expected one of: batch, context "
                         "(task options and overrides sweep in recall experiments)",
                         key));
      }
    }
    for (const auto& [key, node] : r.Entries("task")) {
      Fail(file, *node, "[task] belongs to recall experiments (experiment.measure = [\"recall\"])");
    }
    for (const auto& [key, node] : r.Entries("train")) {
      Fail(file, *node,
           "[train] belongs to recall experiments (experiment.measure = [\"recall\"])");
    }
    return;
  }
  RecallSettings& s = c.recall;
  s.task = r.String("task", "kind", "", /*required=*/true);
  std::set<std::string> option_names;
  try {
    option_names = eval::TaskOptionNames(s.task);
  } catch (const std::exception& e) {
    Fail(file, r.Node("task", "kind"), fmt::format("task.kind: {}", e.what()));
  }
  for (const auto& [key, node] : r.Entries("task")) {
    if (key == "kind") continue;
    if (key == "eval_distances" && s.task == "distance_recall") {
      s.eval_distances = r.Integers("task", key, {}, /*required=*/true);
      continue;
    }
    if (!option_names.count(key)) {
      Fail(file, *node,
           fmt::format("unknown key '{}' in [task] for kind {}; expected one of: kind, {}", key,
                       s.task, fmt::join(option_names, ", ")));
    }
    const std::vector<double> v = r.Numbers("task", key, {});
    if (v.size() != 1) Fail(file, *node, fmt::format("task.{} must be one number", key));
    s.task_options[key] = v[0];
  }
  for (const auto& [key, node] : r.Entries("sweep")) {
    if (key == "overrides") {
      s.model_overrides = r.Strings("sweep", "overrides");
    } else if (option_names.count(key)) {
      s.task_sweeps[key] = r.Numbers("sweep", key, {});
    } else {
      Fail(file, *node,
           fmt::format("unknown key '{}' in [sweep] of a {} recall experiment; expected "
                       "overrides or one of the task's options: {}",
                       key, s.task, fmt::join(option_names, ", ")));
    }
  }
  s.lrs = r.Numbers("train", "lr", s.lrs);
  for (double lr : s.lrs) {
    if (!(lr > 0.0)) Fail(file, r.Node("train", "lr"), fmt::format("train.lr {} must be > 0", lr));
  }
  eval::VisitConfigFields(s.train, [&](const char* key, auto& field, auto least) {
    using Field = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<Field, int64_t>) {
      field = r.Integer("train", key, field, least);
    } else if constexpr (std::is_same_v<Field, double>) {
      field = r.Number("train", key, field, least);
    } else {
      field = r.Boolean("train", key, field);
    }
  });
  for (const ModelEntry& m : c.models) {
    if (m.checkpoint.rfind("preset:", 0) != 0) {
      throw std::invalid_argument(fmt::format(
          "{}: models.{}: recall experiments train from scratch: give a preset (preset:NAME,...), "
          "not the checkpoint folder '{}'",
          file, m.label, m.checkpoint));
    }
  }
  // Every point's task must be possible, and every model with every override: checked now, not
  // hours into the sweep.
  ExperimentConfig probe = c;
  for (const ExperimentPoint& p : ExperimentPoints(probe)) {
    try {
      eval::MakeTask(s.task, p.task_options);
      for (int64_t d : s.eval_distances) eval::MakeTask(s.task, EvalTaskOptions(p, d));
    } catch (const std::exception& e) {
      throw std::invalid_argument(fmt::format("{}: point {}: {}", file, p.Key(), e.what()));
    }
    const std::string spec = RecallModelSpec(p);
    try {
      ValidateConfig(PresetWithOverrides(spec));
    } catch (const std::exception& e) {
      throw std::invalid_argument(fmt::format("{}: point {}: {}", file, p.Key(), e.what()));
    }
  }
}

std::map<std::string, double> EvalTaskOptions(const ExperimentPoint& p, int64_t distance) {
  std::map<std::string, double> o = p.task_options;
  o["distance"] = static_cast<double>(distance);
  o.erase("distance_max");
  return o;
}

std::string RecallModelSpec(const ExperimentPoint& p) {
  std::string spec = p.checkpoint.substr(7);  // after "preset:"
  if (!p.overrides.empty()) spec += "," + p.overrides;
  return spec;
}

}  // namespace griffin::experiments
