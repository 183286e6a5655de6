#include "experiments/experiment_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/io/paths.h"
#include "core/model/config.h"
#include "experiments/config_reader.h"
#include "experiments/recall_config.h"
#include "experiments/toml.h"

namespace griffin::experiments {

DecodeMode ParseDecodeMode(std::string_view name) {
  if (name == "eager") return DecodeMode::kEager;
  if (name == "graph") return DecodeMode::kGraph;
  throw std::invalid_argument(
      fmt::format("unknown decode mode '{}' (choices: eager, graph)", name));
}

std::string_view DecodeModeName(DecodeMode mode) {
  return mode == DecodeMode::kGraph ? "graph" : "eager";
}

namespace {

using config::Fail;
using config::FailAtKey;
using config::Reader;

// "section.key=value": the value parsed as TOML, or taken as a string when it is not TOML.
void ApplyOverride(toml::table& root, const std::string& text) {
  const size_t eq = text.find('=');
  const size_t dot = text.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
    throw std::invalid_argument(fmt::format(
        "--set '{}': expected section.key=value (e.g. sweep.context=[1024,2048])", text));
  }
  const std::string section = text.substr(0, dot);
  const std::string key = text.substr(dot + 1, eq - dot - 1);
  const std::string value = text.substr(eq + 1);
  if (key.empty()) throw std::invalid_argument(fmt::format("--set '{}': empty key", text));
  toml::table parsed;
  try {
    CheckTomlCharacters(value, "--set");
    parsed = toml::parse("v = " + value);
  } catch (const std::exception&) {  // not TOML (toml::parse_error, or outside ASCII): a string
    parsed.insert_or_assign("v", value);
  }
  if (!root.contains(section)) root.insert_or_assign(section, toml::table{});
  toml::table* t = root[section].as_table();
  if (t == nullptr)
    throw std::invalid_argument(fmt::format("--set '{}': [{}] is not a table", text, section));
  // Re-create the node so its source region is empty: errors then point at the --set.
  toml::node& v = *parsed.get("v");
  v.visit([&](auto& n) {
    using N = std::decay_t<decltype(n)>;
    if constexpr (toml::is_value<N>) {
      t->insert_or_assign(key, toml::value<typename N::value_type>(n.get()));
    } else {
      N copy = n;
      t->insert_or_assign(key, std::move(copy));
    }
  });
}

}  // namespace

bool ExperimentConfig::Measures(const std::string& what) const {
  return std::find(measures.begin(), measures.end(), what) != measures.end();
}

std::string ExperimentPoint::Key() const {
  std::string key = fmt::format("model={}", model);
  if (lr > 0.0) {  // a recall point
    if (!overrides.empty()) key += fmt::format(" overrides={}", overrides);
    key += fmt::format(" lr={}", lr);
  } else {
    key += fmt::format(" context={} batch={}", context, batch);
  }
  for (const auto& [k, v] : task_options) key += fmt::format(" {}={}", k, v);
  return key;
}

ExperimentConfig LoadExperiment(const std::string& path,
                                const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open the file", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CheckTomlCharacters(text, path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    if (s.begin.line == 0) {
      throw std::invalid_argument(fmt::format("{}: {}", path, e.description()));
    }
    throw std::invalid_argument(
        fmt::format("{}:{}:{}: {}", path, s.begin.line, s.begin.column, e.description()));
  }
  for (const std::string& o : overrides) ApplyOverride(root, o);
  const Reader r(path, root);
  r.CheckKeys();

  ExperimentConfig c;
  c.path = path;
  c.overrides = overrides;
  c.name = r.String("experiment", "name", "", /*required=*/true);
  if (c.name.empty() || c.name.find_first_of("/\\ ") != std::string::npos) {
    Fail(path, r.Node("experiment", "name"),
         fmt::format("experiment.name '{}' must be non-empty, without spaces or slashes (it "
                     "names the result file)",
                     c.name));
  }
  c.description = r.String("experiment", "description", "");
  c.measures = r.Strings("experiment", "measure");
  for (const std::string& m : c.measures) {
    if (m != kMemoryPerToken && m != kLatencyAtLength && m != kRecall && m != kNiahText) {
      Fail(path, r.Node("experiment", "measure"),
           fmt::format("experiment.measure '{}' is not {}, {}, {} or {}", m, kMemoryPerToken,
                       kLatencyAtLength, kRecall, kNiahText));
    }
  }
  if (c.Measures(kRecall) && c.measures.size() > 1) {
    Fail(path, r.Node("experiment", "measure"),
         "experiment.measure: recall trains models and is measured on its own");
  }
  if (c.Measures(kNiahText) && c.measures.size() > 1) {
    Fail(path, r.Node("experiment", "measure"),
         "experiment.measure: niah_text is measured on its own");
  }
  c.device = r.String("run", "device", c.device);
  c.dtype = r.Choice("run", "dtype", c.dtype, &ParseDType);
  c.seed = static_cast<uint64_t>(r.Integer("run", "seed", 0, 0));
  c.scan = r.Choice("run", "scan", c.scan, &ParseOpImpl);
  c.conv = r.Choice("run", "conv", c.conv, &ParseOpImpl);
  c.prefill_chunk = r.Integer("run", "prefill_chunk", 0, 0);
  c.decode = r.Choice("run", "decode", c.decode, &ParseDecodeMode);
  c.models = r.Models();
  if (!c.Measures(kRecall)) c.contexts = r.Integers("sweep", "context", {}, /*required=*/true);
  c.batches = r.Integers("sweep", "batch", {1}, /*required=*/false);
  c.budget_gib = r.Number("memory", "budget_gib", 0.0);
  if (c.budget_gib < 0)
    Fail(path, r.Node("memory", "budget_gib"), "memory.budget_gib must be >= 0");
  c.repeats = r.Integer("latency", "repeats", c.repeats, 1);
  c.warmup = r.Integer("latency", "warmup", c.warmup, 0);
  c.decode_tokens = r.Integer("latency", "decode_tokens", c.decode_tokens, 1);

  ReadSweepAndRecall(r, c);

  c.resolved_toml = ResolvedToml(root);
  return c;
}

namespace {

// Models, then overrides, then learning rates, then the task sweeps in key order.
std::vector<ExperimentPoint> RecallPoints(const ExperimentConfig& c) {
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

}  // namespace

std::vector<ExperimentPoint> ExperimentPoints(const ExperimentConfig& c) {
  if (c.Measures(kRecall)) return RecallPoints(c);
  // niah_text: each length at every depth.
  const std::vector<double> depths =
      c.Measures(kNiahText) ? c.niah.depths : std::vector<double>{-1.0};
  std::vector<ExperimentPoint> points;
  for (const ModelEntry& m : c.models) {
    for (int64_t b : c.batches) {
      for (int64_t t : c.contexts) {
        if (m.max_context > 0 && t > m.max_context) continue;
        for (double d : depths) {
          ExperimentPoint p{static_cast<int64_t>(points.size()), m.label, m.checkpoint, t, b};
          if (d >= 0.0) p.task_options["depth"] = d;
          points.push_back(p);
        }
      }
    }
  }
  return points;
}

}  // namespace griffin::experiments
