#include "eval/tasks/distance_recall.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace griffin::eval {

DistanceRecall::DistanceRecall(DistanceRecallOptions o) : o_(o) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(
        fmt::format("distance_recall (vocab {}, seq_len {}, pairs {}, distance {}): {}", o_.vocab,
                    o_.seq_len, o_.pairs, o_.distance, why));
  };
  if (o_.pairs < 1) throw fail("pairs must be >= 1");
  if (o_.distance < 2) throw fail("distance must be >= 2 (a query cannot sit on its value)");
  if (o_.vocab / 2 - 1 < o_.pairs) throw fail("too few keys in [1, vocab / 2)");
  if (o_.distance_max != 0 && o_.distance_max < o_.distance) {
    throw fail("distance_max must be 0 (fixed distance) or >= distance");
  }
  int64_t widest = 0;  // the periodic layout may be longer at a shorter distance
  for (int64_t d = o_.distance; d <= MaxDistance(); ++d) widest = std::max(widest, Span(d));
  if (widest + 1 > o_.seq_len) {
    throw fail(fmt::format("the layout needs seq_len >= {}", widest + 1));
  }
}

int64_t DistanceRecall::KeyOffset(int64_t j, int64_t d) const {
  const int64_t m = GroupSize(d);
  // A group is 2m tokens of pairs, then its queries from d on, the last at d + 2(m - 1), and the
  // filler slot after it.
  return (j / m) * (d + 2 * m) + 2 * (j % m);
}

int64_t DistanceRecall::Span(int64_t d) const { return KeyOffset(o_.pairs - 1, d) + d; }

int64_t DistanceRecall::LogUniform(Rng& rng) const {
  // exp of a uniform draw over [log distance, log(distance_max + 1)), floored: each integer d
  // gets the mass of [d, d + 1) on the log scale.
  const double lo = std::log(static_cast<double>(o_.distance));
  const double hi = std::log(static_cast<double>(o_.distance_max + 1));
  const auto d = static_cast<int64_t>(std::floor(std::exp(lo + (hi - lo) * rng.Unit())));
  return std::clamp(d, o_.distance, o_.distance_max);
}

TaskBatch DistanceRecall::Batch(int64_t batch, uint64_t seed, int64_t index) const {
  Rng rng(BatchSeed(seed, index));
  const int64_t N = o_.pairs, V = o_.vocab, L = o_.seq_len;
  BatchBuilder out(batch, L, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = out.row(b);
    if (o_.random_non_queries) {
      for (int64_t t = 0; t < L; ++t) row[t] = rng.Uniform(V / 2, V);
    }
    const std::vector<int64_t> keys = rng.Distinct(1, V / 2, N);
    const std::vector<int64_t> values = rng.Distinct(V / 2, V, N);
    const int64_t D = o_.distance_max > o_.distance ? LogUniform(rng) : o_.distance;
    // The value is the target at the query key: the last query key only has to be an input.
    const int64_t start = rng.Uniform(0, L - Span(D));
    for (int64_t j = 0; j < N; ++j) {
      const int64_t key = start + KeyOffset(j, D);
      row[key] = keys[j];
      row[key + 1] = values[j];
      row[key + D] = keys[j];
      out.Score(b, key + D, values[j], D);
    }
  }
  return out.Finish();
}

}  // namespace griffin::eval
