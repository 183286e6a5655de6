// griffin generate: continue a prompt, given as token ids (the last stdout line is the new ids)
// or as text (streamed as it is generated, with per-token latency at the end).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/text_generation.h"
#include "core/io/paths.h"
#include "core/runtime/generate.h"
#include "core/runtime/speed_bench.h"

namespace griffin::cli {
namespace {

struct GenerateArgs {
  ModelArgs model;
  std::vector<int64_t> ids;
  std::vector<std::string> prompts;
  std::string tokenizer;
  bool chat = false;
  std::vector<std::string> stops;
  bool ignore_eos = false;
  std::string latency_out;
  int64_t max_new_tokens = 32;
  SamplingArgs sampling;
};

// Per-token latency as JSON (every step kept), written atomically.
void WriteLatency(const std::string& path, const LanguageModel& model, size_t prompt_tokens,
                  int64_t state_bytes, const ReplyStats& r,
                  const std::vector<DepthLatency>& depths) {
  nlohmann::json j;
  j["model"] = model.config().name;
  j["dtype"] = std::string(DTypeName(model.config().dtype));
  j["device"] = model.device().str();
  j["prompt_tokens"] = prompt_tokens;
  j["new_tokens"] = r.tokens;
  j["state_bytes"] = state_bytes;
  j["time_to_first_token_ms"] = r.first_token_s * 1e3;
  std::vector<double> ms;
  for (double s : r.step_s) ms.push_back(s * 1e3);
  j["step_ms"] = ms;
  j["step_ms_note"] = "step_ms[i]: wall time from output token i+1 to token i+2, sampling included";
  for (const DepthLatency& d : depths) {
    j["at_depth"].push_back({{"token", d.token},
                             {"span", d.span},
                             {"median_ms", d.median_s * 1e3},
                             {"p99_ms", d.p99_s * 1e3}});
  }
  paths::WriteFileAtomically(path, j.dump(1) + "\n");
}

// Text mode: stream the continuation, then report time to first token and per-token latency.
void GenerateText(const LanguageModel& model, const GenerateArgs& a, const GenerateOptions& o) {
  const Tokenizer tokenizer = LoadTokenizerFor(a.model, a.tokenizer, model);
  if (a.prompts.size() > 1 && !a.latency_out.empty()) {
    throw std::invalid_argument(
        "--latency-out is for one prompt (a batch has no per-token stream)");
  }
  if (a.prompts.size() > 1) {  // a batch: left-padded, generated together, printed per prompt
    std::vector<std::vector<int64_t>> ids;
    for (const std::string& p : a.prompts) ids.push_back(PromptIds(tokenizer, p, a.chat));
    GenerateOptions batch = o;
    batch.sampling.vocab_limit = tokenizer.vocab_size();
    if (!a.ignore_eos) {
      batch.stop_ids = {tokenizer.eos_id()};
      if (tokenizer.end_of_turn_id() >= 0) batch.stop_ids.push_back(tokenizer.end_of_turn_id());
    }
    const auto outs = GenerateBatch(model, ids, batch, tokenizer.pad_id());
    for (size_t i = 0; i < outs.size(); ++i) {
      std::vector<int64_t> shown = outs[i];
      if (!shown.empty() && std::find(batch.stop_ids.begin(), batch.stop_ids.end(), shown.back()) !=
                                batch.stop_ids.end()) {
        shown.pop_back();
      }
      StopStrings stops(a.stops);
      const std::string text = stops.Push(tokenizer.Decode(shown));
      fmt::print("[{}] {}{}\n", i, text, stops.Flush());
    }
    return;
  }
  const std::vector<int64_t> prompt = PromptIds(tokenizer, a.prompts[0], a.chat);
  Conversation conversation(model, o.sampling.seed);
  const ReplyStats r = StreamReply(conversation, prompt, tokenizer, o, a.stops, a.ignore_eos);
  if (r.tokens == 0) return;
  fmt::print(stderr,
             "[generate] {} prompt tokens, {} new: time to first token {:.1f} ms; "
             "per token median {:.2f} ms, p99 {:.2f} ms; state {:.2f} MiB\n",
             prompt.size(), r.tokens, r.first_token_s * 1e3, Quantile(r.step_s, 0.5) * 1e3,
             Quantile(r.step_s, 0.99) * 1e3, conversation.state().Bytes() / 1048576.0);
  const std::vector<DepthLatency> depths = LatencyAtDepths(r.step_s);
  if (r.tokens >= 1000) {
    for (const DepthLatency& d : depths) {
      fmt::print(stderr, "[generate]   at token {:>7}: median {:.2f} ms, p99 {:.2f} ms (last {})\n",
                 d.token, d.median_s * 1e3, d.p99_s * 1e3, d.span);
    }
  }
  if (!a.latency_out.empty()) {
    WriteLatency(a.latency_out, model, prompt.size(), conversation.state().Bytes(), r, depths);
  }
}

}  // namespace

void AddGenerateCommand(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "continue a prompt (token ids or text)");
  AddModelOptions(cmd, args->model);
  auto* ids =
      cmd->add_option("--ids", args->ids, "prompt token ids, comma separated")->delimiter(',');
  auto* prompt = cmd->add_option("--prompt", args->prompts,
                                 "prompt text; streams the continuation (repeat for a batch)");
  ids->excludes(prompt);
  cmd->add_option("--tokenizer", args->tokenizer,
                  "sentencepiece model (default: CHECKPOINT/tokenizer.model)");
  cmd->add_flag("--chat", args->chat, "wrap the prompt in the Gemma instruction format")
      ->needs(prompt);
  cmd->add_option("--stop", args->stops, "stop when this text appears (repeatable)")->needs(prompt);
  cmd->add_flag("--ignore-eos", args->ignore_eos,
                "keep going through EOS and <end_of_turn> (length and latency runs)")
      ->needs(prompt);
  cmd->add_option("--latency-out", args->latency_out,
                  "write time to first token and every per-token latency as JSON")
      ->needs(prompt);
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate")
      ->required()
      ->check(PositiveInteger());
  args->sampling.AddTo(cmd);
  cmd->callback([args, ids, prompt] {
    if (ids->count() == 0 && prompt->count() == 0) {
      throw std::invalid_argument("generate needs --ids or --prompt");
    }
    const auto model = LoadModelFromArgs(args->model);
    GenerateOptions o;
    o.max_new_tokens = args->max_new_tokens;
    o.sampling = args->sampling.Options();
    const at::InferenceMode inference;
    if (prompt->count() > 0) {
      GenerateText(*model, *args, o);
      return;
    }
    const std::vector<int64_t> out = Generate(*model, args->ids, o);
    fmt::print("{}\n", fmt::join(out, " "));
  });
}

}  // namespace griffin::cli
