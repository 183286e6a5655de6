// Needle in a haystack and passkey retrieval on real checkpoints, with their tokenizer
// (docs/EVALS.md section 3):
//  - niah: public-domain haystack text (data/haystack/*.txt, repeated when the prompt is longer)
//    with the needle sentence "The special magic number for {key} is {value}." inserted between
//    sentences at the asked depth, then the question; in the chat format when the tokenizer has
//    it. The value is a 7-digit number, the key two words (RULER's form).
//  - passkey: the filler "The grass is green. ..." with "The pass key is {k}. Remember it. {k} is
//    the pass key." at the depth, then "What is the pass key? The pass key is" (k: 5 digits).
// A trial is scored by exact match: the value appears in the greedy continuation. Prompts are
// deterministic from (seed, length, depth, trial); their length is the asked one within the
// length of one sentence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/tokenizer.h"
#include "core/model/language_model.h"

namespace griffin::eval {

struct TextNiahOptions {
  std::string kind = "niah";  // niah | passkey
  std::string haystack_dir;   // niah: every *.txt in it, in name order
  int64_t trials = 4;
  int64_t max_new_tokens = 16;
  bool chat = true;  // niah: the chat format (when the tokenizer has it); passkey never
  uint64_t seed = 0;
};

struct TextNiahTrial {
  std::vector<int64_t> ids;  // BOS + prompt
  std::string answer;        // what must appear in the output
  int64_t needle_at = 0;     // index in `ids` where the needle sentence starts
};

struct TextNiahResult {
  int64_t trials = 0, correct = 0;
  double prompt_tokens = 0;          // mean prompt length
  std::vector<std::string> outputs;  // the decoded continuation of every trial
};

// Whether `output` contains `answer` as a whole number: the digits are neither preceded nor
// followed by another digit, so "1234567" is not found in "12345678" (a different number).
bool AnswerFound(std::string_view output, std::string_view answer);

class TextNiah {
 public:
  TextNiah(const Tokenizer& tokenizer, TextNiahOptions options);
  // The prompt of trial `trial` at about `length` tokens with the needle at `depth` in [0, 1].
  TextNiahTrial Make(int64_t length, double depth, int64_t trial) const;
  TextNiahResult Measure(const LanguageModel& model, int64_t length, double depth) const;
  // Fewest prompt tokens possible (no haystack at all).
  int64_t MinLength() const;

 private:
  struct Parts {
    std::vector<int64_t> before, needle, after;  // around the haystack
    std::string answer;
  };
  Parts MakeParts(uint64_t seed) const;

  const Tokenizer& tokenizer_;
  TextNiahOptions o_;
  std::vector<std::vector<int64_t>> sentences_;  // the haystack, tokenized sentence by sentence
};

}  // namespace griffin::eval
