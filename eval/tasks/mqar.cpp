#include "eval/tasks/mqar.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace griffin::eval {

Mqar::Mqar(MqarOptions o) : o_(o) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(fmt::format("mqar (vocab {}, seq_len {}, pairs {}): {}", o_.vocab,
                                             o_.seq_len, o_.pairs, why));
  };
  if (o_.pairs < 1) throw fail("pairs must be >= 1");
  if (o_.seq_len % 2 != 0) throw fail("seq_len must be even");
  if (o_.vocab <= o_.seq_len) throw fail("vocab must exceed seq_len");
  if (4 * o_.pairs > o_.seq_len) throw fail("4 x pairs must be <= seq_len");
  if (o_.vocab / 2 - 1 < o_.pairs) throw fail("too few keys in [1, vocab / 2)");
  if (!(o_.power_a > 0.0)) throw fail("power_a must be > 0");
  const int64_t space = (o_.seq_len - 2 * o_.pairs) / 2;
  for (int64_t g = 0; g < space; ++g) {
    gap_weights_.push_back(std::pow(static_cast<double>(g + 1), o_.power_a - 1.0));
  }
}

TaskBatch Mqar::Batch(int64_t batch, uint64_t seed, int64_t index) const {
  Rng rng(BatchSeed(seed, index));
  const int64_t N = o_.pairs, L = o_.seq_len, V = o_.vocab;
  BatchBuilder out(batch, L, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = out.row(b);
    const std::vector<int64_t> keys = rng.Distinct(1, V / 2, N);
    const std::vector<int64_t> values = rng.Distinct(V / 2, V, N);
    if (o_.random_non_queries) {
      for (int64_t t = 2 * N; t < L; ++t) row[t] = rng.Uniform(0, V);
    }
    for (int64_t j = 0; j < N; ++j) {
      row[2 * j] = keys[j];
      row[2 * j + 1] = values[j];
    }
    // As Zoology: the value is the target at the query key; the input after it stays filler.
    const std::vector<int64_t> gaps = rng.WeightedDistinct(gap_weights_, N);
    for (int64_t j = 0; j < N; ++j) {
      const int64_t q = 2 * N + 2 * gaps[j];
      row[q] = keys[j];
      out.Score(b, q, values[j], q - 2 * j);
    }
  }
  return out.Finish();
}

}  // namespace griffin::eval
