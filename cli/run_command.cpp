// griffin run EXPERIMENT.toml: resolve the config, run (or resume) its points, print the summary
// table and the path of the HDF5 file.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "experiments/experiment_config.h"
#include "experiments/runner.h"

namespace griffin::cli {

void AddRunCommand(CLI::App& app, const std::string& command_line) {
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    std::string out = "runs";
    bool dry_run = false;
    bool resume = false;
    int jobs = 1;
    int worker = -1;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("run", "run an experiment config (TOML) into one HDF5 file");
  cmd->add_option("config", args->config, "experiment TOML file")->required();
  cmd->add_option("--set", args->overrides, "override: section.key=value (repeatable)");
  cmd->add_option("--out", args->out, "directory for the result file")->capture_default_str();
  cmd->add_flag("--dry-run", args->dry_run, "print the resolved config and the points; run none");
  cmd->add_flag("--resume", args->resume, "complete an interrupted run from its journal");
  cmd->add_option("--jobs", args->jobs,
                  "recall experiments: train this many points at once in worker processes (a small "
                  "model's step is bound by the host, so one process leaves the GPU mostly idle)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  // Set by a parent run for its worker processes only.
  cmd->add_option("--worker", args->worker)->group("")->check(CLI::Range(0, 63));
  cmd->callback([args, command_line] {
    const experiments::ExperimentConfig config =
        experiments::LoadExperiment(args->config, args->overrides);
    if (args->dry_run) {
      fmt::print("{}", experiments::DescribePlan(config));
      return;
    }
    experiments::RunOptions o;
    o.out_dir = args->out;
    o.resume = args->resume;
    o.command_line = command_line;
    o.jobs = args->jobs;
    o.worker = args->worker;
    // A worker is this binary with the parent's config and overrides.
    o.worker_command = {
        "/proc/self/exe",          "run", args->config, "--out", args->out, "--jobs",
        std::to_string(args->jobs)};
    for (const std::string& s : args->overrides) {
      o.worker_command.push_back("--set");
      o.worker_command.push_back(s);
    }
    const at::InferenceMode inference;
    const experiments::RunOutcome out = experiments::RunExperiment(config, o);
    if (o.worker >= 0 || out.h5_path.empty()) return;  // a worker, or a rank other than 0
    fmt::print("{}\nresults: {}\n", experiments::SummaryTable(config, out.results), out.h5_path);
  });
}

}  // namespace griffin::cli
