#include "core/runtime/generate.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

#include "core/model/positions.h"

namespace griffin {
namespace {
at::Tensor Row(const std::vector<int64_t>& ids, int64_t offset, int64_t count) {
  return at::tensor(std::vector<int64_t>(ids.begin() + offset, ids.begin() + offset + count),
                    at::kLong)
      .unsqueeze(0);
}
}  // namespace

int64_t SampleToken(const at::Tensor& logits_in, const SamplingOptions& o, at::Generator& gen,
                    const std::vector<int64_t>& context) {
  at::Tensor logits = logits_in.to(at::kCPU, at::kFloat).flatten().clone();
  if (o.repetition_penalty != 1.0 && !context.empty()) {
    if (!(o.repetition_penalty > 0)) throw std::invalid_argument("repetition penalty must be > 0");
    const at::Tensor seen = std::get<0>(at::_unique(at::tensor(context, at::kLong)));
    const at::Tensor v = logits.index_select(0, seen);
    logits.index_copy_(0, seen,
                       at::where(v > 0, v / o.repetition_penalty, v * o.repetition_penalty));
  }
  if (o.vocab_limit < 0) throw std::invalid_argument("vocab limit must be >= 0");
  if (o.vocab_limit > 0 && o.vocab_limit < logits.numel())
    logits = logits.narrow(0, 0, o.vocab_limit);
  if (o.greedy) return logits.argmax().item<int64_t>();
  if (!(o.temperature > 0)) throw std::invalid_argument("temperature must be > 0");
  at::Tensor scores = logits / o.temperature;
  if (o.top_k > 0 && o.top_k < scores.numel()) {
    const at::Tensor kth = std::get<0>(scores.topk(o.top_k)).min();
    scores = scores.masked_fill(scores < kth, -std::numeric_limits<float>::infinity());
  }
  at::Tensor probs = at::softmax(scores, 0);
  if (o.top_p < 1.0) {
    // Keep the smallest set of most likely tokens whose mass reaches top_p.
    auto [sorted, order] = probs.sort(0, /*descending=*/true);
    const at::Tensor mass_before = sorted.cumsum(0) - sorted;
    sorted = sorted.masked_fill(mass_before >= o.top_p, 0.0);
    probs = at::zeros_like(probs).scatter_(0, order, sorted);
    probs = probs / probs.sum();
  }
  return at::multinomial(probs, 1, false, gen).item<int64_t>();
}

Conversation::Conversation(const LanguageModel& model, uint64_t sampling_seed)
    : model_(model),
      state_(model.NewState(1)),
      generator_(at::make_generator<at::CPUGeneratorImpl>(sampling_seed)) {}

std::vector<int64_t> Conversation::Continue(const std::vector<int64_t>& tokens,
                                            const GenerateOptions& o) {
  context_.insert(context_.end(), tokens.begin(), tokens.end());
  const int64_t pending = static_cast<int64_t>(context_.size()) - fed_;
  if (pending <= 0) throw std::invalid_argument("generate: the prompt is empty");
  at::Tensor logits = model_.Forward(Row(context_, fed_, pending), PositionRows(1, fed_, pending),
                                     *state_, nullptr, /*last_logits_only=*/true);
  fed_ += pending;
  std::vector<int64_t> out;
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    const int64_t next =
        SampleToken(logits[0][logits.size(1) - 1], o.sampling, generator_, context_);
    out.push_back(next);
    context_.push_back(next);  // fed with the next step, or with the next Continue
    if (o.on_token && !o.on_token(next)) break;
    if (std::find(o.stop_ids.begin(), o.stop_ids.end(), next) != o.stop_ids.end()) break;
    if (step + 1 == o.max_new_tokens) break;
    logits = model_.Forward(Row(context_, fed_, 1), PositionRows(1, fed_, 1), *state_);
    ++fed_;
  }
  return out;
}

std::vector<int64_t> Generate(const LanguageModel& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& o) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt is empty");
  return Conversation(model, o.sampling.seed).Continue(prompt, o);
}

std::vector<std::vector<int64_t>> GenerateBatch(const LanguageModel& model,
                                                const std::vector<std::vector<int64_t>>& prompts,
                                                const GenerateOptions& o, int64_t pad_id) {
  if (prompts.empty()) throw std::invalid_argument("generate: no prompts");
  for (const auto& p : prompts) {
    if (p.empty()) throw std::invalid_argument("generate: a prompt is empty");
  }
  const int64_t B = static_cast<int64_t>(prompts.size());
  auto [tokens, positions] = LeftPadBatch(prompts, pad_id);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.sampling.seed);
  auto state = model.NewState(B);
  at::Tensor logits = model.Forward(tokens, positions, *state, nullptr, /*last_logits_only=*/true);
  at::Tensor next_pos = positions.select(1, positions.size(1) - 1).unsqueeze(1) + 1;  // [B, 1]
  std::vector<std::vector<int64_t>> out(B), context = prompts;
  std::vector<bool> done(B, false);
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    const at::Tensor last = logits.select(1, logits.size(1) - 1).to(at::kCPU);
    std::vector<int64_t> chosen(B, pad_id);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;  // finished rows keep stepping on a pad; their output is closed
      chosen[b] = SampleToken(last[b], o.sampling, gen, context[b]);
      out[b].push_back(chosen[b]);
      context[b].push_back(chosen[b]);
      done[b] = std::find(o.stop_ids.begin(), o.stop_ids.end(), chosen[b]) != o.stop_ids.end();
      all_done = all_done && done[b];
    }
    if (all_done || step + 1 == o.max_new_tokens) break;
    logits = model.Forward(at::tensor(chosen, at::kLong).unsqueeze(1), next_pos, *state);
    next_pos = next_pos + 1;
  }
  return out;
}

at::Tensor SequenceLogits(const LanguageModel& model, const std::vector<int64_t>& ids,
                          std::optional<int64_t> decode_from, const ActivationHook* hook) {
  const int64_t T = static_cast<int64_t>(ids.size());
  const int64_t P = decode_from.value_or(T);
  if (P < 0 || P > T) {
    throw std::invalid_argument("--decode-from " + std::to_string(P) + " must be in [0, " +
                                std::to_string(T) + "]");
  }
  auto state = model.NewState(1);
  std::vector<at::Tensor> parts;
  if (P > 0)
    parts.push_back(
        model.Forward(Row(ids, 0, P), PositionRows(1, 0, P), *state, hook)[0].to(at::kCPU));
  for (int64_t t = P; t < T; ++t) {
    parts.push_back(
        model.Forward(Row(ids, t, 1), PositionRows(1, t, 1), *state, hook)[0].to(at::kCPU));
  }
  if (parts.empty()) return at::empty({0, model.config().vocab_size}, at::kFloat);
  return at::cat(parts, 0);
}

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const std::string& s : stops_) {
    if (s.empty()) throw std::invalid_argument("a stop string is empty");
  }
}

std::string StopStrings::Push(const std::string& delta) {
  if (stopped_) return "";
  held_ += delta;
  for (const std::string& stop : stops_) {
    const size_t at = held_.find(stop);
    if (at != std::string::npos) {
      stopped_ = true;
      std::string out = held_.substr(0, at);
      held_.clear();
      return out;
    }
  }
  // Keep back the longest suffix of the text that is a prefix of some stop string.
  size_t keep = 0;
  for (const std::string& stop : stops_) {
    for (size_t n = std::min(stop.size() - 1, held_.size()); n > keep; --n) {
      if (held_.compare(held_.size() - n, n, stop, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStrings::Flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  return out;
}

std::pair<at::Tensor, at::Tensor> LeftPadBatch(const std::vector<std::vector<int64_t>>& seqs,
                                               int64_t pad_id) {
  size_t longest = 0;
  for (const auto& s : seqs) longest = std::max(longest, s.size());
  const int64_t B = static_cast<int64_t>(seqs.size()), T = static_cast<int64_t>(longest);
  at::Tensor tokens = at::full({B, T}, pad_id, at::kLong);
  at::Tensor positions = at::full({B, T}, -1, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = static_cast<int64_t>(seqs[b].size());
    tokens[b].narrow(0, T - n, n).copy_(at::tensor(seqs[b], at::kLong));
    positions[b].narrow(0, T - n, n).copy_(at::arange(n, at::kLong));
  }
  return {tokens, positions};
}

}  // namespace griffin
