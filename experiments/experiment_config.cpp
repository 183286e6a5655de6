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
#include "core/runtime/device_name.h"
#include "experiments/config_reader.h"
#include "experiments/measure_kind.h"
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

const MeasureKind& ExperimentConfig::Kind() const {
  if (kind == nullptr) throw std::logic_error("experiment config: no measure kind (not loaded)");
  return *kind;
}

namespace {

// Every kind's names, for the error that lists them: "a, b, c or d".
std::string KnownNames() {
  std::vector<std::string> names;
  for (const MeasureKind* k : MeasureKinds()) {
    for (std::string_view n : k->Names()) names.emplace_back(n);
  }
  const std::string last = names.back();
  names.pop_back();
  return names.empty() ? last : fmt::format("{} or {}", fmt::join(names, ", "), last);
}

// The kind experiment.measure's names belong to: one kind, whatever the order.
const MeasureKind* ReadKind(const Reader& r, const std::vector<std::string>& measures) {
  const MeasureKind* kind = nullptr;  // Reader::Strings refuses an empty list
  for (const std::string& m : measures) {
    if (std::count(measures.begin(), measures.end(), m) > 1) {
      Fail(r.file(), r.Node("experiment", "measure"),
           fmt::format("experiment.measure lists '{}' twice", m));
    }
    const MeasureKind* k = FindMeasureKind(m);
    if (k == nullptr) {
      Fail(r.file(), r.Node("experiment", "measure"),
           fmt::format("experiment.measure '{}' is not {}", m, KnownNames()));
    }
    if (kind != nullptr && k != kind) {
      Fail(r.file(), r.Node("experiment", "measure"),
           fmt::format("experiment.measure: {} and {} are different kinds of experiment, each "
                       "measured on its own",
                       measures.front(), m));
    }
    kind = k;
  }
  return kind;
}

// The sections of every kind: what a file may hold at all.
SectionKeys Schema() {
  SectionKeys schema = config::CommonSections();
  for (const MeasureKind* k : MeasureKinds()) {
    for (const auto& [section, keys] : k->Sections()) schema[section] = keys;
  }
  return schema;
}

// Sections of other kinds are mistakes in this experiment: say whose they are.
void RefuseOtherKindsSections(const Reader& r, const MeasureKind& kind) {
  const SectionKeys own = kind.Sections();
  for (const MeasureKind* other : MeasureKinds()) {
    if (other == &kind) continue;
    for (const auto& [section, keys] : other->Sections()) {
      if (own.count(section)) continue;
      for (const auto& [key, node] : r.Entries(section)) {
        const auto names = other->Names();
        Fail(r.file(), *node,
             fmt::format("[{}] belongs to {} experiments (experiment.measure = [\"{}\"])", section,
                         fmt::join(names, " and "), names.front()));
      }
    }
  }
}

}  // namespace

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
  r.CheckKeys(Schema());

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
  c.kind = ReadKind(r, c.measures);
  config::VisitRunFields(c, [&](const char* section, const char* key, auto& field, auto least) {
    config::ReadField(r, section, key, field, least);
  });
  if (const toml::node* device = r.Find("run", "device")) {
    try {
      ParseDeviceName(c.device);  // whether this machine has it is checked when the run starts
    } catch (const std::invalid_argument& e) {
      Fail(path, *device, fmt::format("run.device {}", e.what()));
    }
  }
  c.models = r.Models();
  RefuseOtherKindsSections(r, *c.kind);
  c.kind->Read(r, c);

  c.resolved_toml = ResolvedToml(root);
  return c;
}

std::vector<ExperimentPoint> ExperimentPoints(const ExperimentConfig& c) {
  return c.Kind().Points(c);
}

std::string PointKey(const ExperimentConfig& c, const ExperimentPoint& p) {
  return c.Kind().Key(p);
}

}  // namespace griffin::experiments
