// Makes a task from its kind and options by name (what experiment configs give), so every task
// option has one spelling: mqar {vocab, seq_len, pairs, power_a}, distance_recall {vocab, seq_len,
// pairs, distance, distance_max}, passkey {seq_len, digits, depth}, niah {vocab, seq_len, needles,
// key_tokens, value_tokens, depth}, phonebook {entries, digits, names}.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "eval/tasks/task.h"

namespace griffin::eval {

// What an option's value is: configs give integers as TOML integers and flags as true/false.
enum class TaskOptionType { kInteger, kNumber, kFlag };

// The options `kind` accepts, with their types; throws std::invalid_argument for an unknown kind.
const std::map<std::string, TaskOptionType>& TaskOptions(const std::string& kind);

// Options absent from `options` take the task's defaults; flags are 0 or 1 here. Throws
// std::invalid_argument naming an unknown kind or option, or an impossible combination.
std::shared_ptr<const SyntheticTask> MakeTask(const std::string& kind,
                                              const std::map<std::string, double>& options);

}  // namespace griffin::eval
