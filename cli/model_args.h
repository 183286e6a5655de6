// Options every model-running subcommand shares (--checkpoint, --device, --dtype, --seed, --scan),
// and turning them into a loaded model.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/model/language_model.h"

namespace griffin::cli {

struct ModelArgs {
  std::string checkpoint;
  std::string device = "cpu";
  std::string dtype;  // empty: the checkpoint's own
  uint64_t seed = 0;
  std::string scan = "reference";
  std::string conv = "reference";
};

void AddModelOptions(CLI::App* cmd, ModelArgs& args);
std::unique_ptr<LanguageModel> LoadModelFromArgs(const ModelArgs& args);

// Accepts integers > 0 with a readable message (CLI11's PositiveNumber prints a 300-digit bound).
const CLI::Validator& PositiveInteger();

// The command line as one string, for provenance in result files.
std::string CommandLine(int argc, char** argv);

}  // namespace griffin::cli
