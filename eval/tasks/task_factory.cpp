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

const std::map<std::string, std::map<std::string, TaskOptionType>>& Kinds() {
  constexpr TaskOptionType kInt = TaskOptionType::kInteger, kReal = TaskOptionType::kNumber,
                           kFlag = TaskOptionType::kFlag;
  static const std::map<std::string, std::map<std::string, TaskOptionType>> kinds = {
      {"mqar",
       {{"vocab", kInt},
        {"seq_len", kInt},
        {"pairs", kInt},
        {"power_a", kReal},
        {"random_non_queries", kFlag}}},
      {"distance_recall",
       {{"vocab", kInt},
        {"seq_len", kInt},
        {"pairs", kInt},
        {"distance", kInt},
        {"distance_max", kInt},
        {"random_non_queries", kFlag}}},
      {"passkey", {{"seq_len", kInt}, {"digits", kInt}, {"depth", kReal}}},
      {"niah",
       {{"vocab", kInt},
        {"seq_len", kInt},
        {"needles", kInt},
        {"key_tokens", kInt},
        {"value_tokens", kInt},
        {"depth", kReal}}},
      {"phonebook", {{"entries", kInt}, {"digits", kInt}, {"names", kInt}}},
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

const std::map<std::string, TaskOptionType>& TaskOptions(const std::string& kind) {
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
  const std::map<std::string, TaskOptionType>& known = TaskOptions(kind);
  for (const auto& [key, value] : options) {
    if (!known.count(key)) {
      std::vector<std::string> names;
      for (const auto& [name, type] : known) names.push_back(name);
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
