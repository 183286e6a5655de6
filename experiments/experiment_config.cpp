#include "experiments/experiment_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <toml++/toml.h>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/io/paths.h"
#include "core/model/config.h"

namespace griffin::experiments {
namespace {

// Where a key or value came from: FILE:LINE:COLUMN, or the --set that made it.
std::string Where(const std::string& file, const toml::source_region& s) {
  if (s.begin.line == 0) return fmt::format("{} (--set)", file);
  return fmt::format("{}:{}:{}", file, s.begin.line, s.begin.column);
}

[[noreturn]] void Fail(const std::string& file, const toml::node& node, const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", Where(file, node.source()), what));
}

[[noreturn]] void FailAtKey(const std::string& file, const toml::key& key,
                            const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", Where(file, key.source()), what));
}

std::string TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "a list";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// The keys each section accepts ([models] takes any label).
const std::map<std::string, std::set<std::string>>& Schema() {
  static const std::map<std::string, std::set<std::string>> schema = {
      {"experiment", {"name", "description", "measure"}},
      {"run", {"device", "dtype", "seed", "scan", "conv", "prefill_chunk", "decode"}},
      {"models", {}},
      {"sweep", {"context", "batch"}},
      {"memory", {"budget_gib"}},
      {"latency", {"repeats", "warmup", "decode_tokens"}},
  };
  return schema;
}

class Reader {
 public:
  Reader(std::string file, const toml::table& root) : file_(std::move(file)), root_(root) {}

  void CheckKeys() const {
    for (const auto& [key, node] : root_) {
      const std::string k(key.str());
      const auto it = Schema().find(k);
      if (it == Schema().end()) {
        FailAtKey(file_, key,
                  fmt::format("unknown section [{}]; expected one of: {}", k, SectionNames()));
      }
      if (!node.is_table()) Fail(file_, node, fmt::format("[{}] must be a table", k));
      if (it->second.empty()) continue;
      for (const auto& [sub, value] : *node.as_table()) {
        if (!it->second.count(std::string(sub.str()))) {
          FailAtKey(file_, sub,
                    fmt::format("unknown key '{}' in [{}]; expected one of: {}", sub.str(), k,
                                fmt::join(it->second, ", ")));
        }
      }
    }
  }

  const toml::node* Find(const std::string& section, const std::string& key) const {
    const toml::table* t = root_[section].as_table();
    return t == nullptr ? nullptr : t->get(key);
  }

  std::string String(const std::string& section, const std::string& key, std::string fallback,
                     bool required = false) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) {
      if (required) throw std::invalid_argument(Missing(section, key));
      return fallback;
    }
    if (!n->is_string()) Fail(file_, *n, Expected(section, key, "a string", *n));
    return std::string(n->as_string()->get());
  }

  int64_t Integer(const std::string& section, const std::string& key, int64_t fallback,
                  int64_t min) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    if (!n->is_integer()) Fail(file_, *n, Expected(section, key, "an integer", *n));
    const int64_t v = n->as_integer()->get();
    if (v < min) Fail(file_, *n, fmt::format("{}.{} must be >= {}, got {}", section, key, min, v));
    return v;
  }

  double Number(const std::string& section, const std::string& key, double fallback) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (!n->is_floating_point()) Fail(file_, *n, Expected(section, key, "a number", *n));
    return n->as_floating_point()->get();
  }

  // An integer or a list of positive integers (a sweep dimension).
  std::vector<int64_t> Integers(const std::string& section, const std::string& key,
                                std::vector<int64_t> fallback, bool required) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) {
      if (required) throw std::invalid_argument(Missing(section, key));
      return fallback;
    }
    std::vector<int64_t> out;
    auto take = [&](const toml::node& v) {
      if (!v.is_integer()) {
        Fail(file_, v, Expected(section, key, "an integer or a list of integers", v));
      }
      const int64_t x = v.as_integer()->get();
      if (x < 1) Fail(file_, v, fmt::format("{}.{} values must be >= 1, got {}", section, key, x));
      out.push_back(x);
    };
    if (const toml::array* a = n->as_array()) {
      if (a->empty()) Fail(file_, *n, fmt::format("{}.{} is an empty list", section, key));
      for (const toml::node& v : *a) take(v);
    } else {
      take(*n);
    }
    return out;
  }

  std::vector<std::string> Strings(const std::string& section, const std::string& key) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) throw std::invalid_argument(Missing(section, key));
    std::vector<std::string> out;
    auto take = [&](const toml::node& v) {
      if (!v.is_string()) Fail(file_, v, Expected(section, key, "a string or a list", v));
      out.emplace_back(v.as_string()->get());
    };
    if (const toml::array* a = n->as_array()) {
      for (const toml::node& v : *a) take(v);
    } else {
      take(*n);
    }
    if (out.empty()) Fail(file_, *n, fmt::format("{}.{} is an empty list", section, key));
    return out;
  }

  std::vector<ModelEntry> Models() const {
    const toml::table* t = root_["models"].as_table();
    if (t == nullptr || t->empty()) {
      throw std::invalid_argument(
          fmt::format("{}: [models] is missing or empty: name at least one, e.g. griffin = "
                      "\"preset:tiny-griffin\"",
                      file_));
    }
    std::vector<ModelEntry> out;
    for (const auto& [label, node] : *t) {
      const std::string name(label.str());
      const toml::node* checkpoint = &node;
      int64_t max_context = 0;
      if (const toml::table* entry = node.as_table()) {
        for (const auto& [k, v] : *entry) {
          if (k.str() != "checkpoint" && k.str() != "max_context") {
            FailAtKey(file_, k,
                      fmt::format("unknown key '{}' in models.{}; expected checkpoint, max_context",
                                  k.str(), name));
          }
        }
        checkpoint = entry->get("checkpoint");
        if (checkpoint == nullptr)
          Fail(file_, node, fmt::format("models.{} needs a checkpoint", name));
        if (const toml::node* m = entry->get("max_context")) {
          if (!m->is_integer() || m->as_integer()->get() < 1) {
            Fail(file_, *m, fmt::format("models.{}.max_context must be a positive integer", name));
          }
          max_context = m->as_integer()->get();
        }
      }
      if (!checkpoint->is_string()) {
        Fail(file_, *checkpoint, Expected("models", name, "a string (or a table)", *checkpoint));
      }
      const std::string spec(checkpoint->as_string()->get());
      if (spec.rfind("preset:", 0) == 0) {
        try {  // an impossible preset or override is an error now, not after hours of sweep
          ValidateConfig(PresetWithOverrides(spec.substr(7)));
        } catch (const std::exception& e) {
          Fail(file_, *checkpoint, fmt::format("models.{}: {}", name, e.what()));
        }
      } else if (!paths::IsDirectory(spec)) {
        Fail(file_, *checkpoint,
             fmt::format("models.{}: checkpoint folder '{}' does not exist", name, spec));
      }
      out.push_back({name, spec, max_context});
    }
    return out;
  }

  const toml::node& Node(const std::string& section, const std::string& key) const {
    return *Find(section, key);
  }
  const std::string& file() const { return file_; }

 private:
  std::string Missing(const std::string& section, const std::string& key) const {
    return fmt::format("{}: [{}] {} is required", file_, section, key);
  }
  static std::string Expected(const std::string& section, const std::string& key,
                              const std::string& want, const toml::node& got) {
    return fmt::format("{}.{} must be {}, got {}", section, key, want, TypeName(got));
  }
  static std::string SectionNames() {
    std::vector<std::string> names;
    for (const auto& [k, v] : Schema()) names.push_back(k);
    return fmt::format("{}", fmt::join(names, ", "));
  }

  std::string file_;
  const toml::table& root_;
};

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
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
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
  return fmt::format("model={} context={} batch={}", model, context, batch);
}

ExperimentConfig LoadExperiment(const std::string& path,
                                const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(path);
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
    if (m != kMemoryPerToken && m != kLatencyAtLength) {
      Fail(path, r.Node("experiment", "measure"),
           fmt::format("experiment.measure '{}' is not {} or {}", m, kMemoryPerToken,
                       kLatencyAtLength));
    }
  }
  c.device = r.String("run", "device", c.device);
  c.dtype = r.String("run", "dtype", c.dtype);
  try {
    ParseDType(c.dtype);
  } catch (const std::exception& e) {
    Fail(path, r.Node("run", "dtype"), fmt::format("run.dtype: {}", e.what()));
  }
  c.seed = static_cast<uint64_t>(r.Integer("run", "seed", 0, 0));
  c.scan = r.String("run", "scan", c.scan);
  c.conv = r.String("run", "conv", c.conv);
  if (c.conv != "reference" && c.conv != "cuda") {
    Fail(path, r.Node("run", "conv"),
         fmt::format("run.conv '{}' is not reference or cuda", c.conv));
  }
  c.prefill_chunk = r.Integer("run", "prefill_chunk", 0, 0);
  c.decode = r.String("run", "decode", c.decode);
  if (c.decode != "eager" && c.decode != "graph") {
    Fail(path, r.Node("run", "decode"),
         fmt::format("run.decode '{}' is not eager or graph", c.decode));
  }
  if (c.scan != "reference" && c.scan != "cuda") {
    Fail(path, r.Node("run", "scan"),
         fmt::format("run.scan '{}' is not reference or cuda", c.scan));
  }
  c.models = r.Models();
  c.contexts = r.Integers("sweep", "context", {}, /*required=*/true);
  c.batches = r.Integers("sweep", "batch", {1}, /*required=*/false);
  c.budget_gib = r.Number("memory", "budget_gib", 0.0);
  if (c.budget_gib < 0)
    Fail(path, r.Node("memory", "budget_gib"), "memory.budget_gib must be >= 0");
  c.repeats = r.Integer("latency", "repeats", c.repeats, 1);
  c.warmup = r.Integer("latency", "warmup", c.warmup, 0);
  c.decode_tokens = r.Integer("latency", "decode_tokens", c.decode_tokens, 1);

  std::ostringstream os;
  os << root;
  c.resolved_toml = os.str();
  return c;
}

std::vector<ExperimentPoint> ExperimentPoints(const ExperimentConfig& c) {
  std::vector<ExperimentPoint> points;
  for (const ModelEntry& m : c.models) {
    for (int64_t b : c.batches) {
      for (int64_t t : c.contexts) {
        if (m.max_context > 0 && t > m.max_context) continue;
        points.push_back({static_cast<int64_t>(points.size()), m.label, m.checkpoint, t, b});
      }
    }
  }
  return points;
}

}  // namespace griffin::experiments
