// Token-level generation through a model's decode state: prefill the prompt once, then one token
// per step. Sampling: greedy, or temperature with optional top-k / top-p, seeded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model/language_model.h"

namespace griffin {

struct SamplingOptions {
  bool greedy = true;
  double temperature = 1.0;
  int64_t top_k = 0;   // 0 = off
  double top_p = 1.0;  // 1 = off
  // > 1 discourages tokens already in the context (CTRL-style: positive logits divided by it,
  // negative ones multiplied); 1 = off. Applies to greedy decoding too.
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
  // Only ids below this are ever sampled (0 = the whole vocabulary): a tokenizer with fewer
  // pieces than the model has embeddings (a test tokenizer on a preset with random weights)
  // cannot decode the rest.
  int64_t vocab_limit = 0;
};

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  SamplingOptions sampling;
  std::vector<int64_t> stop_ids;  // stop after emitting any of these (e.g. EOS)
  // Called after each new token with its id; return false to stop early.
  std::function<bool(int64_t)> on_token;
};

// Picks the next token from float32 logits [vocab] (CPU or GPU); `context` (prompt and output so
// far) feeds the repetition penalty.
int64_t SampleToken(const at::Tensor& logits, const SamplingOptions& options, at::Generator& gen,
                    const std::vector<int64_t>& context = {});

// Holds back generated text that could be the start of a stop string, so a stop string is never
// printed: Push returns the text safe to show; once a stop string appears, stopped() is true and
// the text before it is all that was returned.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);  // empty strings throw
  std::string Push(const std::string& delta);
  std::string Flush();  // the held-back tail at the end of generation (empty once stopped)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

// A conversation with one model through one decode state (batch 1): each Continue feeds only the
// new tokens (plus the last sampled one, not yet fed) and generates, so earlier turns are never
// prefilled again. The state stays as big as the model's state for the context held.
class Conversation {
 public:
  Conversation(const LanguageModel& model, uint64_t sampling_seed);
  // Feeds `tokens` (may be empty after the first turn), then generates up to max_new_tokens.
  std::vector<int64_t> Continue(const std::vector<int64_t>& tokens, const GenerateOptions& options);
  const DecodeState& state() const { return *state_; }
  int64_t tokens_held() const { return static_cast<int64_t>(context_.size()); }

 private:
  const LanguageModel& model_;
  std::unique_ptr<DecodeState> state_;
  at::Generator generator_;
  std::vector<int64_t> context_;  // every token fed or sampled so far
  int64_t fed_ = 0;               // tokens of context_ already through the state
};

// Generates up to max_new_tokens after `prompt` (batch 1; prompt[0] is usually BOS at position 0).
// Returns only the new ids.
std::vector<int64_t> Generate(const LanguageModel& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options);

// Several prompts at once, left-padded into one batch (pads at position -1 stay out of every
// state); each row stops on its own at a stop id. Returns each row's new ids. Greedy rows give
// exactly what Generate gives each prompt alone; sampled rows draw from one seeded generator.
std::vector<std::vector<int64_t>> GenerateBatch(const LanguageModel& model,
                                                const std::vector<std::vector<int64_t>>& prompts,
                                                const GenerateOptions& options, int64_t pad_id = 0);

// Logits [T, vocab] of `ids` (batch 1): positions < decode_from go through one prefill call, the
// rest one token at a time through the decode state. decode_from absent = everything prefilled.
// `hook` sees every named activation of every Forward call made.
at::Tensor SequenceLogits(const LanguageModel& model, const std::vector<int64_t>& ids,
                          std::optional<int64_t> decode_from, const ActivationHook* hook = nullptr);

// Left-pads sequences of different lengths into one batch as the reference sampler does: pads get
// `pad_id` and position -1, every sequence's own tokens positions 0, 1, ...
std::pair<at::Tensor, at::Tensor> LeftPadBatch(const std::vector<std::vector<int64_t>>& seqs,
                                               int64_t pad_id);

}  // namespace griffin
