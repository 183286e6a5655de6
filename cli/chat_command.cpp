// griffin chat: an interactive conversation in the Gemma instruction format. The decode state is
// kept across turns, so each turn feeds only its own tokens; after each reply the state's bytes
// and the speed are shown (flat for RecurrentGemma, growing for Gemma).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/text_generation.h"
#include "core/runtime/speed_bench.h"

namespace griffin::cli {

void AddChatCommand(CLI::App& app) {
  struct Args {
    ModelArgs model;
    std::string tokenizer;
    int64_t max_new_tokens = 256;
    SamplingArgs sampling;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("chat", "interactive chat (one user message per line; end with Ctrl-D)");
  AddModelOptions(cmd, args->model);
  cmd->add_option("--tokenizer", args->tokenizer,
                  "sentencepiece model (default: CHECKPOINT/tokenizer.model)");
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "longest reply")
      ->check(PositiveInteger())
      ->capture_default_str();
  args->sampling.AddTo(cmd);
  cmd->callback([args] {
    const auto model = LoadModelFromArgs(args->model);
    const Tokenizer tokenizer = LoadTokenizerFor(args->model, args->tokenizer, *model);
    if (tokenizer.start_of_turn_id() < 0) {
      throw std::invalid_argument(tokenizer.path() + " has no <start_of_turn>: no chat format");
    }
    GenerateOptions o;
    o.max_new_tokens = args->max_new_tokens;
    o.sampling = args->sampling.Options();
    const at::InferenceMode inference;
    Conversation conversation(*model, o.sampling.seed);
    bool first = true, ended_turn = true;
    std::string line;
    fmt::print(stderr, "[chat] {} ({}); one message per line, Ctrl-D to end\n",
               model->config().name, DTypeName(model->config().dtype));
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      // The model's last <end_of_turn> is already in the context; a reply cut by the length
      // limit gets one before the next user turn.
      const std::string text =
          (first ? "" : (ended_turn ? "\n" : "<end_of_turn>\n")) + FormatUserTurn(line);
      std::vector<int64_t> tokens = tokenizer.Encode(text);
      if (first) tokens.insert(tokens.begin(), tokenizer.bos_id());
      first = false;
      const ReplyStats r = StreamReply(conversation, tokens, tokenizer, o, {});
      ended_turn = r.ended_turn;
      const double step = Quantile(r.step_s, 0.5);
      fmt::print(stderr,
                 "[chat] {} tokens in context, state {:.2f} MiB; reply {} tokens, first after "
                 "{:.1f} ms, then {:.1f} tokens/s\n",
                 conversation.tokens_held(), conversation.state().Bytes() / 1048576.0, r.tokens,
                 r.first_token_s * 1e3, step > 0 ? 1.0 / step : 0.0);
    }
  });
}

}  // namespace griffin::cli
