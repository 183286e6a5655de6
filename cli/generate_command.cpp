// griffin generate: continue a prompt of token ids; the last stdout line is the new ids.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/runtime/generate.h"

namespace griffin::cli {

void AddGenerateCommand(CLI::App& app) {
  struct Args {
    ModelArgs model;
    std::vector<int64_t> ids;
    int64_t max_new_tokens = 32;
    bool greedy = false;
    double temperature = 1.0;
    int64_t top_k = 0;
    double top_p = 1.0;
    uint64_t sample_seed = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("generate", "continue a prompt of token ids");
  AddModelOptions(cmd, args->model);
  // --seed seeds random weights (shared option); sampling has its own seed.
  cmd->add_option("--ids", args->ids, "prompt token ids, comma separated")
      ->required()
      ->delimiter(',');
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate")
      ->required()
      ->check(PositiveInteger());
  auto* greedy = cmd->add_flag("--greedy", args->greedy, "argmax decoding (the default)");
  auto* temp = cmd->add_option("--temperature", args->temperature, "sampling temperature")
                   ->check(CLI::PositiveNumber);
  cmd->add_option("--top-k", args->top_k, "keep the k most likely tokens (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", args->top_p, "nucleus mass to keep")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--sample-seed", args->sample_seed, "seed of the sampler");
  greedy->excludes(temp);
  cmd->callback([args, temp] {
    const auto model = LoadModelFromArgs(args->model);
    GenerateOptions o;
    o.max_new_tokens = args->max_new_tokens;
    o.sampling.greedy = temp->count() == 0;
    o.sampling.temperature = args->temperature;
    o.sampling.top_k = args->top_k;
    o.sampling.top_p = args->top_p;
    o.sampling.seed = args->sample_seed;
    const at::InferenceMode inference;
    const std::vector<int64_t> out = Generate(*model, args->ids, o);
    fmt::print("{}\n", fmt::join(out, " "));
  });
}

}  // namespace griffin::cli
