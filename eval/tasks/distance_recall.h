// Distance-controlled recall (docs/EVALS.md section 2): MQAR in which every query sits exactly
// `distance` tokens after its key-value pair, so accuracy can be read against distance / window
// (W/4 ... 16W): the synthetic form of Griffin's phonebook cliff at its attention window.
// Keys come from [1, V/2), values from [V/2, V) (distinct within an example); every other token
// is filler: random ids from the value range (never a key), or 0 with random_non_queries off.
// Layout at distance d: groups of m = min(pairs, d / 2) pairs, k1 v1 ... km vm, then the group's
// queries d later (every other token), then the next group. With d >= 2 x pairs that is one block
// of pairs and one of queries; below it each query still has m - 1 other keys between its pair and
// itself, so a short distance is still a lookup among m pairs, not "repeat the last value" (with
// one pair per group, as up to 7d71bfb, every model scored ~1.0 at d = 8). The first group starts
// at a random offset, so position is no cue.
#pragma once

#include <algorithm>

#include "eval/tasks/task.h"

namespace griffin::eval {

struct DistanceRecallOptions {
  int64_t vocab = 8192;
  int64_t seq_len = 256;
  int64_t pairs = 8;
  int64_t distance = 16;  // tokens from a context key to its query (>= 2)
  // > distance: every example draws its distance log-uniformly from [distance, distance_max]
  // (one model trained over a range, then evaluated at each fixed distance). Log-uniform gives
  // every octave of the W/4 ... 16W grid the same share of training; drawn uniformly, 95% of
  // the examples of [8, 512] would lie beyond W = 32.
  int64_t distance_max = 0;
  // As Zoology's flag of that name: filler from the value range, or else the id 0 (neither key
  // nor value), as in Zoology's Fig. 2 runs.
  bool random_non_queries = true;
};

class DistanceRecall : public SyntheticTask {
 public:
  explicit DistanceRecall(DistanceRecallOptions o);  // the layout must fit seq_len
  std::string name() const override { return "distance_recall"; }
  int64_t vocab_size() const override { return o_.vocab; }
  int64_t seq_len() const override { return o_.seq_len; }
  int64_t answers_per_example() const override { return o_.pairs; }
  TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const override;
  // Tokens from the first pair's key to the last query's key, at distance d.
  int64_t Span(int64_t d) const;

 private:
  int64_t GroupSize(int64_t d) const { return std::min(o_.pairs, d / 2); }
  // Offset of pair j's key from the first key at distance d.
  int64_t KeyOffset(int64_t j, int64_t d) const;
  int64_t LogUniform(Rng& rng) const;  // a distance of [distance, distance_max]
  int64_t MaxDistance() const { return std::max(o_.distance, o_.distance_max); }
  DistanceRecallOptions o_;
};

}  // namespace griffin::eval
