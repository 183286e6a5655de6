// Makes a task from its kind and options by name (what experiment configs give), so every task
// option has one spelling: mqar {vocab, seq_len, pairs, power_a}, distance_recall {vocab, seq_len,
// pairs, distance, distance_max}, passkey {seq_len, digits, depth}, niah {vocab, seq_len, needles,
// key_tokens, value_tokens, depth}, phonebook {entries, digits, names}.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "eval/tasks/task.h"

namespace griffin::eval {

// The option names `kind` accepts; throws std::invalid_argument for an unknown kind.
const std::set<std::string>& TaskOptionNames(const std::string& kind);

// Options absent from `options` take the task's defaults. Throws std::invalid_argument naming an
// unknown kind or option, or an impossible combination.
std::shared_ptr<const SyntheticTask> MakeTask(const std::string& kind,
                                              const std::map<std::string, double>& options);

}  // namespace griffin::eval
