#include "eval/tasks/task_factory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <stdexcept>

#include "eval/tasks/distance_recall.h"
#include "eval/tasks/mqar.h"
#include "eval/tasks/needle.h"
#include "eval/tasks/phonebook.h"

namespace griffin::eval {
namespace {

const std::map<std::string, std::set<std::string>>& Kinds() {
  static const std::map<std::string, std::set<std::string>> kinds = {
      {"mqar", {"vocab", "seq_len", "pairs", "power_a", "random_non_queries"}},
      {"distance_recall",
       {"vocab", "seq_len", "pairs", "distance", "distance_max", "random_non_queries"}},
      {"passkey", {"seq_len", "digits", "depth"}},
      {"niah", {"vocab", "seq_len", "needles", "key_tokens", "value_tokens", "depth"}},
      {"phonebook", {"entries", "digits", "names"}},
  };
  return kinds;
}

// Reads option `key` into `field` when given; integer fields reject fractions.
class Options {
 public:
  Options(std::string kind, const std::map<std::string, double>& given)
      : kind_(std::move(kind)), given_(given) {}
  void Int(const char* key, int64_t& field) const {
    const auto it = given_.find(key);
    if (it == given_.end()) return;
    if (std::floor(it->second) != it->second) {
      throw std::invalid_argument(
          fmt::format("task {}: {} must be an integer, got {}", kind_, key, it->second));
    }
    field = static_cast<int64_t>(it->second);
  }
  void Flag(const char* key, bool& field) const {
    const auto it = given_.find(key);
    if (it == given_.end()) return;
    if (it->second != 0.0 && it->second != 1.0) {
      throw std::invalid_argument(
          fmt::format("task {}: {} must be 0 or 1, got {}", kind_, key, it->second));
    }
    field = it->second == 1.0;
  }
  void Real(const char* key, double& field) const {
    const auto it = given_.find(key);
    if (it != given_.end()) field = it->second;
  }

 private:
  std::string kind_;
  const std::map<std::string, double>& given_;
};

}  // namespace

const std::set<std::string>& TaskOptionNames(const std::string& kind) {
  const auto it = Kinds().find(kind);
  if (it == Kinds().end()) {
    std::vector<std::string> names;
    for (const auto& [k, v] : Kinds()) names.push_back(k);
    throw std::invalid_argument(
        fmt::format("task kind '{}' is not one of: {}", kind, fmt::join(names, ", ")));
  }
  return it->second;
}

std::shared_ptr<const SyntheticTask> MakeTask(const std::string& kind,
                                              const std::map<std::string, double>& options) {
  const std::set<std::string>& names = TaskOptionNames(kind);
  for (const auto& [key, value] : options) {
    if (!names.count(key)) {
      throw std::invalid_argument(fmt::format("task {}: unknown option '{}'; expected one of: {}",
                                              kind, key, fmt::join(names, ", ")));
    }
  }
  const Options get(kind, options);
  if (kind == "mqar") {
    MqarOptions o;
    get.Int("vocab", o.vocab);
    get.Int("seq_len", o.seq_len);
    get.Int("pairs", o.pairs);
    get.Real("power_a", o.power_a);
    get.Flag("random_non_queries", o.random_non_queries);
    return std::make_shared<Mqar>(o);
  }
  if (kind == "distance_recall") {
    DistanceRecallOptions o;
    get.Int("vocab", o.vocab);
    get.Int("seq_len", o.seq_len);
    get.Int("pairs", o.pairs);
    get.Int("distance", o.distance);
    get.Int("distance_max", o.distance_max);
    get.Flag("random_non_queries", o.random_non_queries);
    return std::make_shared<DistanceRecall>(o);
  }
  if (kind == "passkey") {
    PasskeyOptions o;
    get.Int("seq_len", o.seq_len);
    get.Int("digits", o.digits);
    get.Real("depth", o.depth);
    return std::make_shared<Passkey>(o);
  }
  if (kind == "niah") {
    NeedleOptions o;
    get.Int("vocab", o.vocab);
    get.Int("seq_len", o.seq_len);
    get.Int("needles", o.needles);
    get.Int("key_tokens", o.key_tokens);
    get.Int("value_tokens", o.value_tokens);
    get.Real("depth", o.depth);
    return std::make_shared<MultiKeyNeedle>(o);
  }
  PhonebookOptions o;  // the only kind left
  get.Int("entries", o.entries);
  get.Int("digits", o.digits);
  get.Int("names", o.names);
  return std::make_shared<Phonebook>(o);
}

}  // namespace griffin::eval
