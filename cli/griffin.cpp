// The `griffin` command: parses arguments and calls the library. No logic lives here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "core/runtime/provenance.h"

int main(int argc, char** argv) {
  CLI::App app{"griffin: RecurrentGemma (Griffin) vs Gemma research and benchmarking harness"};
  app.set_version_flag("--version", [] {
    return griffin::FormatProvenance(griffin::CollectProvenance());
  });
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (app.get_subcommands().empty()) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "griffin: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
