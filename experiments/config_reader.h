// The strict TOML reading behind experiment configs (internal to experiments/): typed getters
// whose errors name FILE:LINE:COLUMN (or the --set that made the value), and the sections every
// experiment has (each kind adds its own: measure_kind.h). Included by the .cpp files that parse
// config sections.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/io/paths.h"
#include "core/model/config.h"
#include "eval/train/train_options.h"
#include "experiments/experiment_config.h"
#include "experiments/toml.h"

namespace griffin::experiments::config {

// Where a key or value came from: FILE:LINE:COLUMN, or the --set that made it.
inline std::string Where(const std::string& file, const toml::source_region& s) {
  if (s.begin.line == 0) return fmt::format("{} (--set)", file);
  return fmt::format("{}:{}:{}", file, s.begin.line, s.begin.column);
}

[[noreturn]] inline void Fail(const std::string& file, const toml::node& node,
                              const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", Where(file, node.source()), what));
}

[[noreturn]] inline void FailAtKey(const std::string& file, const toml::key& key,
                                   const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", Where(file, key.source()), what));
}

inline std::string TypeName(const toml::node& n) {
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

// [train]'s keys: the trainer's config fields (eval::VisitConfigFields), lr, which may be a
// list (swept), and parallel ("none" or "data": how a launch's ranks train).
inline std::set<std::string> TrainKeys() {
  std::set<std::string> keys = {"lr", "parallel"};
  eval::TrainOptions o;
  eval::VisitConfigFields(o, [&](const char* key, auto&, auto) { keys.insert(key); });
  return keys;
}

class Reader {
 public:
  Reader(std::string file, const toml::table& root) : file_(std::move(file)), root_(root) {}

  // Every section and key of the file is in `schema` (section -> keys; no keys: any).
  void CheckKeys(const std::map<std::string, std::set<std::string>>& schema) const {
    for (const auto& [key, node] : root_) {
      const std::string k(key.str());
      const auto it = schema.find(k);
      if (it == schema.end()) {
        std::vector<std::string> names;
        for (const auto& [name, keys] : schema) names.push_back(name);
        FailAtKey(
            file_, key,
            fmt::format("unknown section [{}]; expected one of: {}", k, fmt::join(names, ", ")));
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

  // A string naming one of an enum's values, parsed once here by `parse` (which throws
  // std::invalid_argument naming the value and the choices); its error gets FILE:LINE:COLUMN.
  template <typename E>
  E Choice(const std::string& section, const std::string& key, E fallback,
           E (*parse)(std::string_view)) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    const std::string text = String(section, key, "");
    try {
      return parse(text);
    } catch (const std::invalid_argument& e) {
      Fail(file_, *n, fmt::format("{}.{}: {}", section, key, e.what()));
    }
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
  // The same, at least `least` (NaN is not); a missing key gives `fallback` unchecked, as
  // Integer does.
  double Number(const std::string& section, const std::string& key, double fallback,
                double least) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    const double v = Number(section, key, fallback);
    if (!(v >= least)) {
      Fail(file_, *n, fmt::format("{}.{} must be >= {}, got {}", section, key, least, v));
    }
    return v;
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
    EachValue(*n, section, key, take);
    return out;
  }

  bool Boolean(const std::string& section, const std::string& key, bool fallback) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) Fail(file_, *n, Expected(section, key, "true or false", *n));
    return n->as_boolean()->get();
  }

  // Calls take(v) for a single value, or for every element of a non-empty list.
  template <typename Take>
  void EachValue(const toml::node& n, const std::string& section, const std::string& key,
                 Take&& take) const {
    if (const toml::array* a = n.as_array()) {
      if (a->empty()) Fail(file_, n, fmt::format("{}.{} is an empty list", section, key));
      for (const toml::node& v : *a) take(v);
    } else {
      take(n);
    }
  }

  // A number or a list of numbers (a sweep dimension).
  std::vector<double> Numbers(const std::string& section, const std::string& key,
                              std::vector<double> fallback) const {
    const toml::node* n = Find(section, key);
    if (n == nullptr) return fallback;
    std::vector<double> out;
    auto take = [&](const toml::node& v) {
      if (v.is_integer()) {
        out.push_back(static_cast<double>(v.as_integer()->get()));
      } else if (v.is_floating_point()) {
        out.push_back(v.as_floating_point()->get());
      } else {
        Fail(file_, v, Expected(section, key, "a number or a list of numbers", v));
      }
    };
    EachValue(*n, section, key, take);
    return out;
  }

  // The keys present in `section` (empty when it is absent).
  std::vector<std::pair<std::string, const toml::node*>> Entries(const std::string& section) const {
    std::vector<std::pair<std::string, const toml::node*>> out;
    if (const toml::table* t = root_[section].as_table()) {
      for (const auto& [k, v] : *t) out.emplace_back(std::string(k.str()), &v);
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
  std::string file_;
  const toml::table& root_;
};

// Reads section.key into `field` when the file has it, as the field's type says: an integer or a
// number at least `least`, an enum parsed by `least` (its parser), an unsigned integer, a boolean,
// a string, a list of numbers (`least` unused for the last four). A missing key keeps the field's
// value. With a visitor over an options struct's fields (each calls visit(section, key, field,
// least)), one list gives the keys, their reading and their bounds.
template <typename Field, typename Least>
void ReadField(const Reader& r, const std::string& section, const std::string& key, Field& field,
               Least least) {
  if constexpr (std::is_enum_v<Field>) {
    field = r.Choice(section, key, field, least);  // `least` is the enum's parser here
  } else if constexpr (std::is_same_v<Field, uint64_t>) {
    field = static_cast<uint64_t>(r.Integer(section, key, static_cast<int64_t>(field), 0));
  } else if constexpr (std::is_same_v<Field, int64_t>) {
    field = r.Integer(section, key, field, static_cast<int64_t>(least));
  } else if constexpr (std::is_same_v<Field, double>) {
    field = r.Number(section, key, field, static_cast<double>(least));
  } else if constexpr (std::is_same_v<Field, bool>) {
    field = r.Boolean(section, key, field);
  } else if constexpr (std::is_same_v<Field, std::string>) {
    field = r.String(section, key, field);
  } else {
    static_assert(std::is_same_v<Field, std::vector<double>>, "a field type ReadField knows");
    field = r.Numbers(section, key, field);
  }
}

// A field's value as TOML writes it (what --dry-run prints for every setting).
template <typename Field>
std::string FieldText(const Field& f) {
  if constexpr (std::is_same_v<Field, DType>) {
    return fmt::format("\"{}\"", DTypeName(f));
  } else if constexpr (std::is_same_v<Field, OpImpl>) {
    return fmt::format("\"{}\"", OpImplName(f));
  } else if constexpr (std::is_same_v<Field, DecodeMode>) {
    return fmt::format("\"{}\"", DecodeModeName(f));
  } else if constexpr (std::is_same_v<Field, bool>) {
    return f ? "true" : "false";
  } else if constexpr (std::is_same_v<Field, std::string>) {
    return fmt::format("\"{}\"", f);
  } else if constexpr (std::is_same_v<Field, std::vector<double>>) {
    return fmt::format("[{}]", fmt::join(f, ", "));
  } else {
    return fmt::format("{}", f);
  }
}

// "section.key = value" for every field a visitor names, defaults included.
template <typename Options, typename VisitFields>
std::vector<std::string> FieldLines(const Options& options, VisitFields&& visit_fields) {
  std::vector<std::string> lines;
  Options copy = options;
  visit_fields(copy, [&](const char* section, const char* key, auto& field, auto) {
    lines.push_back(fmt::format("{}.{} = {}", section, key, FieldText(field)));
  });
  return lines;
}

// The sections and keys a field visitor names: visit_fields(config, visitor) on a scratch value.
template <typename Options, typename VisitFields>
std::map<std::string, std::set<std::string>> FieldSections(VisitFields&& visit_fields) {
  std::map<std::string, std::set<std::string>> sections;
  Options scratch;
  visit_fields(scratch, [&](const char* section, const char* key, auto&, auto) {
    sections[section].insert(key);
  });
  return sections;
}

// [run]: each key once.
template <typename Visit>
void VisitRunFields(ExperimentConfig& c, Visit&& visit) {
  visit("run", "device", c.device, 0);
  visit("run", "dtype", c.dtype, &ParseDType);
  visit("run", "seed", c.seed, 0);
  visit("run", "scan", c.scan, &ParseOpImpl);  // the RG-LRU implementation
  visit("run", "conv", c.conv, &ParseOpImpl);  // the Conv1D implementation
  visit("run", "prefill_chunk", c.prefill_chunk, int64_t{0});
  visit("run", "decode", c.decode, &ParseDecodeMode);
}

// The sections every experiment has, with their keys ([models] takes any label; [sweep] is
// checked by the experiment's kind). Each kind adds its own (MeasureKind::Sections).
inline std::map<std::string, std::set<std::string>> CommonSections() {
  std::map<std::string, std::set<std::string>> sections = FieldSections<ExperimentConfig>(
      [](ExperimentConfig& c, auto&& visit) { VisitRunFields(c, visit); });
  sections["experiment"] = {"name", "description", "measure"};
  sections["models"] = {};
  sections["sweep"] = {};
  return sections;
}

}  // namespace griffin::experiments::config
