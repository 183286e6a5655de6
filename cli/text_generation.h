// Shared by `generate --prompt` and `chat`: finding the tokenizer and streaming one reply.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/model_args.h"
#include "core/io/tokenizer.h"
#include "core/runtime/generate.h"

namespace griffin::cli {

// The sampling options `generate` and `chat` share (--greedy, --temperature, --top-k, --top-p,
// --repetition-penalty, --sample-seed); Options() reads them after parsing.
class SamplingArgs {
 public:
  void AddTo(CLI::App* cmd);
  SamplingOptions Options() const;

 private:
  SamplingOptions values_;
  bool greedy_flag_ = false;
  CLI::Option* temperature_ = nullptr;
};

// `path`, or CHECKPOINT/tokenizer.model; checks the tokenizer fits the model's vocabulary.
Tokenizer LoadTokenizerFor(const ModelArgs& model_args, const std::string& path,
                           const LanguageModel& model);

struct ReplyStats {
  int64_t tokens = 0;
  double first_token_s = 0.0;
  std::vector<double> step_s;  // between consecutive tokens after the first
  bool ended_turn = false;     // stopped on EOS or <end_of_turn>
};

// Streams the reply to `tokens` to stdout as text. Stops on EOS, <end_of_turn> (unless
// ignore_end, for length benchmarks) and `stops`; never samples an id the tokenizer lacks.
ReplyStats StreamReply(Conversation& conversation, const std::vector<int64_t>& tokens,
                       const Tokenizer& tokenizer, GenerateOptions options,
                       const std::vector<std::string>& stops, bool ignore_end = false);

}  // namespace griffin::cli
