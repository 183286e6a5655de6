#include "eval/tasks/needle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace griffin::eval {
namespace {

void CheckDepth(const std::string& task, double depth) {
  if (depth > 1.0) {
    throw std::invalid_argument(
        fmt::format("{}: depth {} must be in [0, 1] (or negative: random)", task, depth));
  }
}

// Filler tokens before the needle for `free` filler tokens in all at `depth` (< 0: random).
int64_t FillerBefore(Rng& rng, int64_t free, double depth) {
  if (depth < 0.0) return rng.Uniform(0, free + 1);
  return static_cast<int64_t>(std::llround(depth * static_cast<double>(free)));
}

}  // namespace

Passkey::Passkey(PasskeyOptions o) : o_(o) {
  CheckDepth("passkey", o_.depth);
  if (o_.digits < 1 || o_.sentence < 1) {
    throw std::invalid_argument("passkey: digits and sentence must be >= 1");
  }
  if (o_.seq_len < 2 * o_.digits + 2) {
    throw std::invalid_argument(
        fmt::format("passkey: seq_len {} cannot hold two markers and "
                    "twice {} digits",
                    o_.seq_len, o_.digits));
  }
}

TaskBatch Passkey::Batch(int64_t batch, uint64_t seed, int64_t index) const {
  Rng rng(BatchSeed(seed, index));
  const int64_t L = o_.seq_len, k = o_.digits;
  // Layout: filler x before, key marker, digits, filler, query marker, digits (the last digit is
  // a target only): L = free + 2 + 2k - 1.
  const int64_t free = L - 2 * k - 1;
  BatchBuilder out(batch, L, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = out.row(b);
    const int64_t phase = rng.Uniform(0, o_.sentence);
    for (int64_t t = 0; t < L; ++t) row[t] = kFirstFiller + (phase + t) % o_.sentence;
    std::vector<int64_t> key(static_cast<size_t>(k));
    for (int64_t& d : key) d = kFirstDigit + rng.Uniform(0, 10);
    const int64_t at = FillerBefore(rng, free, o_.depth);  // the key marker's position
    row[at] = kKeyMark;
    std::copy(key.begin(), key.end(), row + at + 1);
    const int64_t query = L - k;  // the query marker; digits 1 .. k-1 follow as inputs
    row[query] = kQueryMark;
    std::copy(key.begin(), key.end() - 1, row + query + 1);
    for (int64_t i = 0; i < k; ++i) out.Score(b, query + i, key[i], query - at);
  }
  return out.Finish();
}

MultiKeyNeedle::MultiKeyNeedle(NeedleOptions o) : o_(o) {
  CheckDepth("niah", o_.depth);
  if (o_.needles < 1 || o_.key_tokens < 1 || o_.value_tokens < 1) {
    throw std::invalid_argument("niah: needles, key_tokens and value_tokens must be >= 1");
  }
  third_ = (o_.vocab - 2) / 3;
  if (third_ < 2) throw std::invalid_argument(fmt::format("niah: vocab {} too small", o_.vocab));
  const int64_t keys = static_cast<int64_t>(std::pow(static_cast<double>(third_), o_.key_tokens));
  if (keys < o_.needles) {
    throw std::invalid_argument(
        fmt::format("niah: vocab {} gives fewer than {} distinct keys", o_.vocab, o_.needles));
  }
  const int64_t used = o_.needles * NeedleLength() + 1 + o_.key_tokens + o_.value_tokens - 1;
  if (used > o_.seq_len) {
    throw std::invalid_argument(
        fmt::format("niah: {} needles and the query need {} tokens, more "
                    "than seq_len {}",
                    o_.needles, used, o_.seq_len));
  }
}

TaskBatch MultiKeyNeedle::Batch(int64_t batch, uint64_t seed, int64_t index) const {
  Rng rng(BatchSeed(seed, index));
  const int64_t L = o_.seq_len, n = o_.needles, K = o_.key_tokens, Vt = o_.value_tokens;
  const int64_t key_lo = 2, value_lo = 2 + third_, hay_lo = 2 + 2 * third_;
  const int64_t query_len = 1 + K + Vt - 1;  // marker, key, value tokens but the last
  const int64_t free = L - query_len - n * NeedleLength();
  BatchBuilder out(batch, L, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = out.row(b);
    // Distinct keys (as token tuples), random values.
    std::vector<std::vector<int64_t>> keys;
    while (static_cast<int64_t>(keys.size()) < n) {
      std::vector<int64_t> key(static_cast<size_t>(K));
      for (int64_t& t : key) t = rng.Uniform(key_lo, key_lo + third_);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    std::vector<std::vector<int64_t>> values(static_cast<size_t>(n));
    for (auto& v : values) {
      v.resize(static_cast<size_t>(Vt));
      for (int64_t& t : v) t = rng.Uniform(value_lo, value_lo + third_);
    }
    // Filler before each needle: the queried needle (index 0) at the depth, the others at
    // uniform places of the filler (needles kept whole, in the order their places fall).
    std::vector<std::pair<int64_t, int64_t>> places;  // (filler before, needle)
    places.emplace_back(FillerBefore(rng, free, o_.depth), 0);
    for (int64_t j = 1; j < n; ++j) places.emplace_back(rng.Uniform(0, free + 1), j);
    std::stable_sort(places.begin(), places.end());
    int64_t t = 0, filler_done = 0, queried_at = 0;
    for (const auto& [before, j] : places) {
      for (; filler_done < before; ++filler_done) row[t++] = rng.Uniform(hay_lo, hay_lo + third_);
      if (j == 0) queried_at = t;
      row[t++] = kNeedleMark;
      for (int64_t x : keys[j]) row[t++] = x;
      for (int64_t x : values[j]) row[t++] = x;
    }
    for (; filler_done < free; ++filler_done) row[t++] = rng.Uniform(hay_lo, hay_lo + third_);
    row[t++] = kQueryMark;
    for (int64_t x : keys[0]) row[t++] = x;
    const int64_t first_answer_input = t - 1;  // the last key token predicts the first value
    for (int64_t i = 0; i + 1 < Vt; ++i) row[t++] = values[0][i];
    for (int64_t i = 0; i < Vt; ++i) {
      out.Score(b, first_answer_input + i, values[0][i], first_answer_input - (queried_at + K));
    }
  }
  return out.Finish();
}

}  // namespace griffin::eval
