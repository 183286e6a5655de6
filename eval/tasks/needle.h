// Needle retrieval in a synthetic-token haystack (docs/EVALS.md sections 2-3, in token form for
// models trained from scratch):
//  - passkey: filler that repeats one "sentence" of tokens, a key marker and `digits` digit
//    tokens at a chosen depth, more filler, then a query marker; the digits are scored after it.
//  - multi-key NIAH: a haystack of random tokens holding `needles` needles (marker, key tokens,
//    value tokens) at random places, the queried one at the chosen depth; after the query marker
//    and the queried key, its value tokens are scored.
// depth in [0, 1] is the fraction of the filler before the (queried) needle; a negative depth
// draws it uniformly per example.
#pragma once

#include "eval/tasks/task.h"

namespace griffin::eval {

struct PasskeyOptions {
  int64_t seq_len = 256;
  int64_t digits = 5;
  double depth = -1.0;
  int64_t sentence = 16;  // distinct filler tokens in the repeated sentence
};

class Passkey : public SyntheticTask {
 public:
  // Token layout: 0 key marker, 1 query marker, 2..11 digits, then the filler sentence.
  static constexpr int64_t kKeyMark = 0, kQueryMark = 1, kFirstDigit = 2, kFirstFiller = 12;
  explicit Passkey(PasskeyOptions o);
  std::string name() const override { return "passkey"; }
  int64_t vocab_size() const override { return kFirstFiller + o_.sentence; }
  int64_t seq_len() const override { return o_.seq_len; }
  int64_t answers_per_example() const override { return o_.digits; }
  TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const override;

 private:
  PasskeyOptions o_;
};

struct NeedleOptions {
  int64_t vocab = 1024;
  int64_t seq_len = 512;
  int64_t needles = 4;
  int64_t key_tokens = 2;
  int64_t value_tokens = 2;
  double depth = -1.0;
};

class MultiKeyNeedle : public SyntheticTask {
 public:
  // Token layout: 0 needle marker, 1 query marker; the rest split into thirds: keys, values,
  // haystack.
  static constexpr int64_t kNeedleMark = 0, kQueryMark = 1;
  explicit MultiKeyNeedle(NeedleOptions o);
  std::string name() const override { return "niah"; }
  int64_t vocab_size() const override { return o_.vocab; }
  int64_t seq_len() const override { return o_.seq_len; }
  int64_t answers_per_example() const override { return o_.value_tokens; }
  TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const override;

 private:
  int64_t NeedleLength() const { return 1 + o_.key_tokens + o_.value_tokens; }
  NeedleOptions o_;
  int64_t third_;  // tokens in each of the key, value and haystack ranges
};

}  // namespace griffin::eval
