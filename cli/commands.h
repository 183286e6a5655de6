// Each subcommand registers its options and a callback that calls the library.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace griffin::cli {
void AddLogitsCommand(CLI::App& app, const std::string& command_line);
void AddGenerateCommand(CLI::App& app);
void AddBenchCommand(CLI::App& app, const std::string& command_line);
void AddChatCommand(CLI::App& app);
void AddRunCommand(CLI::App& app, const std::string& command_line);
void AddSoakCommand(CLI::App& app, const std::string& command_line);
}  // namespace griffin::cli
