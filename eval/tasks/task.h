// Synthetic recall tasks for models trained from scratch (docs/EVALS.md section 2).
// A task makes batches of token sequences with next-token targets that count only at the answer
// positions (kIgnore elsewhere), deterministically: batch `index` of a stream seeded `seed` is the
// same on every machine and in every run, independent of the batches before it, so a resumed
// training run sees exactly the data an uninterrupted one would.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace griffin::eval {

inline constexpr int64_t kIgnore = -100;  // target of a position that is not scored

struct TaskBatch {
  at::Tensor inputs;   // int64 [batch, seq_len]
  at::Tensor targets;  // int64 [batch, seq_len]: the next token at scored positions, else kIgnore
  // int64 [batch, seq_len]: for each scored position, the distance in tokens back to where its
  // answer was given in the context (0 elsewhere), for accuracy-by-distance grids.
  at::Tensor distances;
};

class SyntheticTask {
 public:
  virtual ~SyntheticTask() = default;
  virtual std::string name() const = 0;
  virtual int64_t vocab_size() const = 0;  // ids used are in [0, vocab_size)
  virtual int64_t seq_len() const = 0;
  // Batch `index` of the stream `seed` (train and eval streams use different seeds).
  virtual TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const = 0;
  // Answer tokens per example (all scored positions of one example).
  virtual int64_t answers_per_example() const = 0;
};

// A generator seed for batch `index` of stream `seed` (SplitMix64 of both: well mixed, so nearby
// seeds and indices give unrelated batches).
uint64_t BatchSeed(uint64_t seed, int64_t index);

// The random numbers the generators draw: std::mt19937_64 (specified bit for bit by the standard)
// with its own unbiased integer sampling, since std:: distributions differ between libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  int64_t Uniform(int64_t lo, int64_t hi);  // uniform in [lo, hi)
  double Unit();                            // uniform in [0, 1)
  // `count` distinct values of [lo, hi), in random order.
  std::vector<int64_t> Distinct(int64_t lo, int64_t hi, int64_t count);
  // `count` distinct indices of `weights`, drawn one after another with probability proportional
  // to the weights of those not drawn yet (numpy's choice(replace=False, p=...)).
  std::vector<int64_t> WeightedDistinct(const std::vector<double>& weights, int64_t count);

 private:
  std::mt19937_64 engine_;
};

// Sequences under construction: one row of `length` input tokens per example, and the answers
// scored at chosen positions.
class BatchBuilder {
 public:
  BatchBuilder(int64_t batch, int64_t length, int64_t fill);
  int64_t* row(int64_t b) { return tokens_.data() + b * length_; }
  // The model, having read input position t of row b, must predict `answer`; the answer was
  // given `distance` tokens before t.
  void Score(int64_t b, int64_t t, int64_t answer, int64_t distance);
  TaskBatch Finish() const;

 private:
  int64_t batch_, length_;
  std::vector<int64_t> tokens_, targets_, distances_;
};

}  // namespace griffin::eval
