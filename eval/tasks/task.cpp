#include "eval/tasks/task.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <numeric>
#include <unordered_map>

namespace griffin::eval {

uint64_t BatchSeed(uint64_t seed, int64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t Rng::Uniform(int64_t lo, int64_t hi) {
  TORCH_CHECK(hi > lo, "Rng::Uniform: empty range [", lo, ", ", hi, ")");
  const uint64_t n = static_cast<uint64_t>(hi - lo);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
  uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return lo + static_cast<int64_t>(x % n);
}

double Rng::Unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

std::vector<int64_t> Rng::Distinct(int64_t lo, int64_t hi, int64_t count) {
  TORCH_CHECK(count <= hi - lo, "cannot draw ", count, " distinct values from [", lo, ", ", hi,
              ")");
  // A partial Fisher-Yates shuffle of [lo, hi) that stores only the positions it has swapped:
  // the same draws and the same values as shuffling a dense copy, without writing hi - lo
  // entries per call (an MQAR batch of 256 rows at vocabulary 8,192 draws 16 keys and 16 values
  // from 4,096 each per row: 2 M entries written by the dense copy, for 8,192 values kept).
  std::unordered_map<int64_t, int64_t> moved;
  const auto at = [&](int64_t i) {
    const auto it = moved.find(i);
    return it == moved.end() ? lo + i : it->second;
  };
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = Uniform(i, hi - lo);
    const int64_t vi = at(i), vj = at(j);
    moved[j] = vi;
    out[static_cast<size_t>(i)] = vj;
  }
  return out;
}

std::vector<int64_t> Rng::WeightedDistinct(const std::vector<double>& weights, int64_t count) {
  TORCH_CHECK(count <= static_cast<int64_t>(weights.size()), "cannot draw ", count,
              " distinct indices from ", weights.size());
  std::vector<double> w = weights;
  std::vector<int64_t> out;
  for (int64_t k = 0; k < count; ++k) {
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    TORCH_CHECK(total > 0.0, "WeightedDistinct: no weight left to draw from");
    double u = Unit() * total;
    size_t chosen = w.size();
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == 0.0) continue;
      chosen = i;  // the last one with weight, should rounding run u past the end
      if (u < w[i]) break;
      u -= w[i];
    }
    out.push_back(static_cast<int64_t>(chosen));
    w[chosen] = 0.0;
  }
  return out;
}

BatchBuilder::BatchBuilder(int64_t batch, int64_t length, int64_t fill)
    : batch_(batch),
      length_(length),
      tokens_(static_cast<size_t>(batch * length), fill),
      targets_(static_cast<size_t>(batch * length), kIgnore),
      distances_(static_cast<size_t>(batch * length), 0) {}

void BatchBuilder::Score(int64_t b, int64_t t, int64_t answer, int64_t distance) {
  TORCH_CHECK(t >= 0 && t < length_, "scored position ", t, " outside [0, ", length_, ")");
  targets_[b * length_ + t] = answer;
  distances_[b * length_ + t] = distance;
}

TaskBatch BatchBuilder::Finish() const {
  const auto tensor = [&](const std::vector<int64_t>& v) {
    return at::tensor(v, at::kLong).view({batch_, length_});
  };
  return {tensor(tokens_), tensor(targets_), tensor(distances_)};
}

}  // namespace griffin::eval
