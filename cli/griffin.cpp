// The `griffin` command: parses arguments and calls the library. No logic lives here.
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/runtime/cpu_math.h"
#include "core/runtime/provenance.h"

int main(int argc, char** argv) {
  griffin::RequestReproducibleCpuMath();  // before anything touches MKL
  CLI::App app{"griffin: RecurrentGemma (Griffin) vs Gemma research and benchmarking harness"};
  app.set_version_flag("--version",
                       [] { return griffin::FormatProvenance(griffin::CollectProvenance()); });
  app.require_subcommand(1);
  const std::string command_line = griffin::cli::CommandLine(argc, argv);
  griffin::cli::AddLogitsCommand(app, command_line);
  griffin::cli::AddGenerateCommand(app);
  griffin::cli::AddBenchCommand(app, command_line);
  griffin::cli::AddChatCommand(app);
  griffin::cli::AddRunCommand(app, command_line);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const c10::Error& e) {
    fmt::print(stderr, "griffin: error: {}\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "griffin: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
