#include "cli/text_generation.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "core/io/paths.h"

namespace griffin::cli {

void SamplingArgs::AddTo(CLI::App* cmd) {
  auto* greedy = cmd->add_flag("--greedy", greedy_flag_, "argmax decoding (the default)");
  temperature_ = cmd->add_option("--temperature", values_.temperature,
                                 "sample at this temperature instead of greedy")
                     ->check(CLI::PositiveNumber);
  cmd->add_option("--top-k", values_.top_k, "keep the k most likely tokens (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", values_.top_p, "nucleus mass to keep")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repetition-penalty", values_.repetition_penalty,
                  "> 1 discourages tokens already in the context")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sample-seed", values_.seed, "seed of the sampler");
  greedy->excludes(temperature_);
}

SamplingOptions SamplingArgs::Options() const {
  SamplingOptions o = values_;
  o.greedy = temperature_ == nullptr || temperature_->count() == 0;
  return o;
}

Tokenizer LoadTokenizerFor(const ModelArgs& a, const std::string& given,
                           const LanguageModel& model) {
  std::string path = given;
  if (path.empty()) {
    if (a.checkpoint.rfind("preset:", 0) == 0) {
      throw std::invalid_argument("text prompts with a preset checkpoint need --tokenizer PATH");
    }
    path = paths::Join(a.checkpoint, "tokenizer.model");
  }
  Tokenizer tokenizer = Tokenizer::Load(path);
  if (tokenizer.vocab_size() > model.config().vocab_size) {
    throw std::invalid_argument(fmt::format("{} has {} pieces but the model only {} embeddings",
                                            path, tokenizer.vocab_size(),
                                            model.config().vocab_size));
  }
  if (tokenizer.vocab_size() < model.config().vocab_size) {
    fmt::print(stderr,
               "[tokenizer] {} has {} pieces, the model {} embeddings: ids >= {} are never "
               "sampled\n",
               path, tokenizer.vocab_size(), model.config().vocab_size, tokenizer.vocab_size());
  }
  return tokenizer;
}

ReplyStats StreamReply(Conversation& conversation, const std::vector<int64_t>& tokens,
                       const Tokenizer& tokenizer, GenerateOptions o,
                       const std::vector<std::string>& stop_strings, bool ignore_end) {
  o.stop_ids.clear();
  if (!ignore_end) {
    o.stop_ids.push_back(tokenizer.eos_id());
    if (tokenizer.end_of_turn_id() >= 0) o.stop_ids.push_back(tokenizer.end_of_turn_id());
  }
  o.sampling.vocab_limit = tokenizer.vocab_size();
  StreamDecoder stream(tokenizer);
  StopStrings stops(stop_strings);
  ReplyStats stats;
  using Clock = std::chrono::steady_clock;
  auto last = Clock::now();
  o.on_token = [&](int64_t id) {
    const auto now = Clock::now();
    const double gap = std::chrono::duration<double>(now - last).count();
    last = now;
    if (stats.tokens++ == 0) {
      stats.first_token_s = gap;
    } else {
      stats.step_s.push_back(gap);
    }
    if (std::find(o.stop_ids.begin(), o.stop_ids.end(), id) != o.stop_ids.end()) {
      stats.ended_turn = true;
      return true;  // Generate stops on it; it is not printed
    }
    std::fputs(stops.Push(stream.Push(id)).c_str(), stdout);
    std::fflush(stdout);
    return !stops.stopped();
  };
  conversation.Continue(tokens, o);
  std::fputs(stops.Push(stream.Flush()).c_str(), stdout);
  std::fputs(stops.Flush().c_str(), stdout);
  std::fputs("\n", stdout);
  std::fflush(stdout);
  return stats;
}

}  // namespace griffin::cli
