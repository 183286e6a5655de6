// The synthetic recall tasks: exactly reproducible from (seed, batch index), the statistics each
// task specifies (MQAR's key/value ranges and power-law query gaps, distance recall's fixed
// distance, passkey and needle depths, phonebook answers), answers scored only where they should
// be, and bad options rejected with a clear message.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "eval/tasks/distance_recall.h"
#include "eval/tasks/mqar.h"
#include "eval/tasks/needle.h"
#include "eval/tasks/phonebook.h"
#include "eval/tasks/task_factory.h"
#include "test_util.h"

namespace griffin::eval {
namespace {

int64_t At(const at::Tensor& t, int64_t b, int64_t i) { return t[b][i].item<int64_t>(); }

std::vector<int64_t> Scored(const TaskBatch& t, int64_t b) {
  const auto targets = t.targets.accessor<int64_t, 2>();
  std::vector<int64_t> pos;
  for (int64_t i = 0; i < t.targets.size(1); ++i) {
    if (targets[b][i] != kIgnore) pos.push_back(i);
  }
  return pos;
}

void ExpectReproducible(const SyntheticTask& task) {
  const TaskBatch a = task.Batch(4, 7, 3), b = task.Batch(4, 7, 3);
  EXPECT_TRUE(at::equal(a.inputs, b.inputs) && at::equal(a.targets, b.targets) &&
              at::equal(a.distances, b.distances))
      << task.name();
  EXPECT_FALSE(at::equal(a.inputs, task.Batch(4, 7, 4).inputs)) << task.name() << ": index";
  EXPECT_FALSE(at::equal(a.inputs, task.Batch(4, 8, 3).inputs)) << task.name() << ": seed";
  EXPECT_EQ(a.inputs.sizes(), (std::vector<int64_t>{4, task.seq_len()}));
  EXPECT_LT(a.inputs.max().item<int64_t>(), task.vocab_size());
  EXPECT_GE(a.inputs.min().item<int64_t>(), 0);
  for (int64_t b = 0; b < 4; ++b) {
    EXPECT_EQ(static_cast<int64_t>(Scored(a, b).size()), task.answers_per_example()) << task.name();
  }
}

// Distinct stores only the positions its partial shuffle moved; it must draw exactly what
// shuffling a dense copy of [lo, hi) draws, so that every task's batches (and the recall results
// trained on them) stay what they were.
TEST(Rng, DistinctDrawsWhatADenseShuffleDraws) {
  struct Case {
    int64_t lo, hi, count;
  };
  for (const Case c : {Case{1, 4096, 16}, Case{4096, 8192, 16}, Case{0, 7, 7}, Case{3, 4, 1},
                       Case{10, 20, 0}, Case{0, 1000000, 300}, Case{-5, 5, 9}}) {
    for (uint64_t seed : {0ull, 1ull, 12345ull}) {
      Rng dense_rng(seed);
      std::vector<int64_t> all(static_cast<size_t>(c.hi - c.lo));
      for (size_t i = 0; i < all.size(); ++i) all[i] = c.lo + static_cast<int64_t>(i);
      for (int64_t i = 0; i < c.count; ++i) {
        std::swap(all[i], all[dense_rng.Uniform(i, c.hi - c.lo)]);
      }
      all.resize(static_cast<size_t>(c.count));
      Rng rng(seed);
      EXPECT_EQ(rng.Distinct(c.lo, c.hi, c.count), all)
          << fmt::format("[{}, {}) count {} seed {}", c.lo, c.hi, c.count, seed);
      EXPECT_EQ(rng.Unit(), dense_rng.Unit()) << "the two consumed different draws";
    }
  }
}

TEST(Tasks, AllAreReproducibleAndWellFormed) {
  ExpectReproducible(Mqar({}));
  ExpectReproducible(DistanceRecall({}));
  ExpectReproducible(DistanceRecall({.distance = 4}));
  ExpectReproducible(Passkey({}));
  ExpectReproducible(MultiKeyNeedle({}));
  ExpectReproducible(Phonebook({}));
}

TEST(Mqar, KeysValuesAndQueriesFollowZoology) {
  const Mqar task({.vocab = 8192, .seq_len = 128, .pairs = 8, .random_non_queries = false});
  const TaskBatch t = task.Batch(16, 1, 0);
  for (int64_t b = 0; b < 16; ++b) {
    std::set<int64_t> keys, values;
    for (int64_t j = 0; j < 8; ++j) {
      const int64_t k = At(t.inputs, b, 2 * j), v = At(t.inputs, b, 2 * j + 1);
      EXPECT_TRUE(k >= 1 && k < 4096 && v >= 4096 && v < 8192);
      keys.insert(k);
      values.insert(v);
    }
    EXPECT_EQ(keys.size(), 8u);  // distinct within an example
    EXPECT_EQ(values.size(), 8u);
    for (int64_t q : Scored(t, b)) {
      EXPECT_GE(q, 16);
      EXPECT_EQ((q - 16) % 2, 0);  // a gap slot
      const int64_t j = (q - At(t.distances, b, q)) / 2;
      EXPECT_EQ(At(t.inputs, b, q), At(t.inputs, b, 2 * j)) << "the query is the key";
      EXPECT_EQ(At(t.targets, b, q), At(t.inputs, b, 2 * j + 1)) << "the target is its value";
      EXPECT_EQ(At(t.inputs, b, q + 1), 0) << "the value is not shown after the query";
    }
  }
}

TEST(Mqar, QueryGapsFollowThePowerLaw) {
  // One pair, seq_len 64: 31 gap slots, P(g) proportional to (g + 1)^(a - 1), a = 0.01.
  const Mqar task({.vocab = 8192, .seq_len = 64, .pairs = 1});
  std::vector<double> p(31);
  for (int g = 0; g < 31; ++g) p[g] = std::pow(g + 1.0, -0.99);
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  std::vector<int64_t> count(31, 0);
  const int64_t n = 20000;
  const TaskBatch t = task.Batch(n, 3, 0);
  for (int64_t b = 0; b < n; ++b) ++count[(Scored(t, b)[0] - 2) / 2];
  for (int g : {0, 1, 2, 10, 30}) {
    const double want = n * p[g] / total, sigma = std::sqrt(want);
    EXPECT_NEAR(count[g], want, 5 * sigma) << "gap slot " << g;
  }
}

TEST(DistanceRecall, EveryQueryIsExactlyTheDistanceAfterItsKey) {
  for (int64_t d : {2, 5, 16, 64, 200}) {
    const DistanceRecall task({.vocab = 1024, .seq_len = 512, .pairs = 8, .distance = d});
    const TaskBatch t = task.Batch(8, 2, 1);
    std::set<int64_t> starts;
    for (int64_t b = 0; b < 8; ++b) {
      const std::vector<int64_t> q = Scored(t, b);
      ASSERT_EQ(q.size(), 8u);
      starts.insert(q[0]);
      for (int64_t i : q) {
        EXPECT_EQ(At(t.distances, b, i), d);
        EXPECT_EQ(At(t.inputs, b, i), At(t.inputs, b, i - d)) << "the key, d tokens back";
        EXPECT_LT(At(t.inputs, b, i), 512) << "keys from [1, V/2)";
        EXPECT_EQ(At(t.targets, b, i), At(t.inputs, b, i - d + 1)) << "its value";
      }
      // No other token is a key: filler comes from the value range.
      int64_t key_tokens = 0;
      for (int64_t i = 0; i < 512; ++i) key_tokens += At(t.inputs, b, i) < 512;
      EXPECT_EQ(key_tokens, 16);
    }
    EXPECT_GT(starts.size(), 1u) << "the layout starts at random offsets";
  }
  testing::ExpectErrorContaining(
      [] { DistanceRecall({.seq_len = 64, .pairs = 8, .distance = 100}); },
      {"distance_recall", "needs seq_len >= 115"});
  testing::ExpectErrorContaining([] { DistanceRecall({.distance = 1}); },
                                 {"distance must be >= 2"});
}

TEST(DistanceRecall, ShortDistancesAreStillALookupAmongPairs) {
  // Between a pair's key and its query lie the keys of min(pairs, d / 2) - 1 other pairs (the
  // later pairs of its group, or the earlier pairs' queries), so no distance reduces the task to
  // repeating the most recent value.
  for (int64_t d : {4, 8, 9, 16, 64}) {
    const DistanceRecall task(
        {.vocab = 1024, .seq_len = 300, .pairs = 8, .distance = d, .random_non_queries = false});
    const TaskBatch t = task.Batch(4, 6, 0);
    const int64_t others = std::min<int64_t>(8, d / 2) - 1;
    for (int64_t b = 0; b < 4; ++b) {
      for (int64_t q : Scored(t, b)) {
        int64_t keys_between = 0;
        for (int64_t i = q - d + 1; i < q; ++i)
          keys_between += At(t.inputs, b, i) != 0 && At(t.inputs, b, i) < 512;
        EXPECT_EQ(keys_between, others) << "distance " << d << ", query at " << q;
      }
    }
  }
}

TEST(DistanceRecall, MixedDistancesStayInTheirRange) {
  const DistanceRecall task(
      {.vocab = 1024, .seq_len = 256, .pairs = 4, .distance = 6, .distance_max = 200});
  const TaskBatch t = task.Batch(64, 3, 0);
  std::set<int64_t> seen;
  for (int64_t b = 0; b < 64; ++b) {
    const std::vector<int64_t> q = Scored(t, b);
    ASSERT_EQ(q.size(), 4u);
    const int64_t d = At(t.distances, b, q[0]);
    seen.insert(d);
    EXPECT_TRUE(d >= 6 && d <= 200) << d;
    for (int64_t i : q) {
      EXPECT_EQ(At(t.distances, b, i), d) << "one distance per example";
      EXPECT_EQ(At(t.inputs, b, i), At(t.inputs, b, i - d));
      EXPECT_EQ(At(t.targets, b, i), At(t.inputs, b, i - d + 1));
    }
  }
  EXPECT_GT(seen.size(), 30u);
  EXPECT_TRUE(seen.count(6)) << "the shortest distance is drawn most often";
  testing::ExpectErrorContaining(
      [] { DistanceRecall({.seq_len = 256, .pairs = 4, .distance = 6, .distance_max = 300}); },
      {"needs seq_len >= 307"});
  testing::ExpectErrorContaining([] { DistanceRecall({.distance = 16, .distance_max = 8}); },
                                 {"distance_max must be 0"});
}

TEST(DistanceRecall, WithoutRandomFillerEveryOtherTokenIsZero) {
  // Built through the factory, as a config's [task] table builds it.
  const auto task = MakeTask("distance_recall", {{"vocab", 1024},
                                                 {"seq_len", 300},
                                                 {"pairs", 8},
                                                 {"distance", 8},
                                                 {"distance_max", 100},
                                                 {"random_non_queries", 0}});
  const TaskBatch t = task->Batch(16, 5, 0);
  for (int64_t b = 0; b < 16; ++b) {
    std::set<int64_t> structured;  // each pair's key and value and its query
    for (int64_t q : Scored(t, b)) {
      const int64_t d = At(t.distances, b, q);
      structured.insert({q - d, q - d + 1, q});
      EXPECT_TRUE(At(t.inputs, b, q - d) >= 1 && At(t.inputs, b, q - d) < 512);
      EXPECT_GE(At(t.inputs, b, q - d + 1), 512);
    }
    ASSERT_EQ(structured.size(), 24u);
    for (int64_t i = 0; i < 300; ++i) {
      if (!structured.count(i)) EXPECT_EQ(At(t.inputs, b, i), 0) << "position " << i;
    }
  }
  testing::ExpectErrorContaining(
      [] {
        MakeTask("distance_recall", {{"random_non_queries", 2}});
      },
      {"distance_recall", "random_non_queries must be 0 or 1, got 2"});
  testing::ExpectErrorContaining(
      [] {
        MakeTask("mqar", {{"random_non_queries", 0.5}});
      },
      {"mqar", "random_non_queries must be 0 or 1"});
}

TEST(DistanceRecall, MixedDistancesGiveEveryOctaveTheSameShare) {
  // [8, 511] is six octaves [8, 16), ..., [256, 512): log-uniform draws put 1/6 in each.
  const DistanceRecall task(
      {.vocab = 4096, .seq_len = 640, .pairs = 8, .distance = 8, .distance_max = 511});
  const int64_t n = 6000;
  const TaskBatch t = task.Batch(n, 4, 0);
  std::vector<int64_t> per_octave(6, 0);
  for (int64_t b = 0; b < n; ++b) {
    const int64_t d = At(t.distances, b, Scored(t, b)[0]);
    ASSERT_TRUE(d >= 8 && d <= 511) << d;
    ++per_octave[static_cast<size_t>(std::log2(static_cast<double>(d))) - 3];
  }
  for (int64_t count : per_octave) {
    // Binomial(6000, 1/6): sd 29; 5 sd either side.
    EXPECT_NEAR(static_cast<double>(count), n / 6.0, 145.0) << fmt::format("{}", per_octave);
  }
}

TEST(Passkey, DigitsAreUniformAndDepthPlacesTheKey) {
  const Passkey task({.seq_len = 128, .digits = 5});
  const TaskBatch t = task.Batch(2000, 4, 0);
  std::vector<int64_t> count(10, 0);
  for (int64_t b = 0; b < 2000; ++b) {
    const std::vector<int64_t> q = Scored(t, b);
    ASSERT_EQ(q.size(), 5u);
    EXPECT_EQ(At(t.inputs, b, q[0]), Passkey::kQueryMark);
    const int64_t key_at = q[0] - At(t.distances, b, q[0]);
    EXPECT_EQ(At(t.inputs, b, key_at), Passkey::kKeyMark);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(At(t.targets, b, q[i]), At(t.inputs, b, key_at + 1 + i));
      ++count[At(t.targets, b, q[i]) - Passkey::kFirstDigit];
    }
  }
  for (int64_t c : count) EXPECT_NEAR(c, 1000, 5 * std::sqrt(1000.0));
  // 128 tokens hold 117 filler tokens: depth 0 puts the key first, depth 1 after all of them.
  for (auto [depth, want] :
       std::vector<std::pair<double, int64_t>>{{0.0, 0}, {0.5, 59}, {1.0, 117}}) {
    const TaskBatch d = Passkey({.seq_len = 128, .digits = 5, .depth = depth}).Batch(3, 1, 0);
    for (int64_t b = 0; b < 3; ++b) EXPECT_EQ(At(d.inputs, b, want), Passkey::kKeyMark) << depth;
  }
}

TEST(MultiKeyNeedle, TheQueriedNeedleSitsAtTheDepthAmongDistractors) {
  const NeedleOptions o{.vocab = 302,
                        .seq_len = 400,
                        .needles = 4,
                        .key_tokens = 2,
                        .value_tokens = 3,
                        .depth = 0.25};
  const MultiKeyNeedle task(o);
  const TaskBatch t = task.Batch(16, 5, 0);
  for (int64_t b = 0; b < 16; ++b) {
    int64_t marks = 0;
    for (int64_t i = 0; i < 400; ++i) marks += At(t.inputs, b, i) == MultiKeyNeedle::kNeedleMark;
    EXPECT_EQ(marks, 4);
    const std::vector<int64_t> q = Scored(t, b);
    ASSERT_EQ(q.size(), 3u);
    // The queried needle's key ends `distance` tokens before the first answer input.
    const int64_t key_end = q[0] - At(t.distances, b, q[0]);
    const int64_t needle = key_end - 2;
    EXPECT_EQ(At(t.inputs, b, needle), MultiKeyNeedle::kNeedleMark);
    EXPECT_EQ(At(t.inputs, b, needle + 1), At(t.inputs, b, q[0] - 1));
    EXPECT_EQ(At(t.inputs, b, needle + 2), At(t.inputs, b, q[0]));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(At(t.targets, b, q[i]), At(t.inputs, b, needle + 3 + i));
    // Filler before the needle: 25% of the 400 - 5 - 4 x 6 = 371 filler tokens, plus any
    // distractors placed before it (each 6 tokens).
    EXPECT_EQ((needle - 93) % 6, 0) << needle;
  }
}

TEST(Phonebook, TheAnswerIsTheAskedEntrysNumber) {
  const Phonebook task({.entries = 30, .digits = 4, .names = 16});
  EXPECT_EQ(task.seq_len(), 30 * 8 + 3 + 3);
  const TaskBatch t = task.Batch(8, 6, 0);
  for (int64_t b = 0; b < 8; ++b) {
    std::set<std::pair<int64_t, int64_t>> names;
    for (int64_t e = 0; e < 30; ++e) {
      names.emplace(At(t.inputs, b, 8 * e), At(t.inputs, b, 8 * e + 1));
      EXPECT_EQ(At(t.inputs, b, 8 * e + 2), Phonebook::kColon);
      EXPECT_EQ(At(t.inputs, b, 8 * e + 7), Phonebook::kSemicolon);
    }
    EXPECT_EQ(names.size(), 30u);
    const std::vector<int64_t> q = Scored(t, b);
    ASSERT_EQ(q.size(), 4u);
    const int64_t entry = q[0] - At(t.distances, b, q[0]) - 2;
    EXPECT_EQ(At(t.inputs, b, entry), At(t.inputs, b, q[0] - 2));
    EXPECT_EQ(At(t.inputs, b, entry + 1), At(t.inputs, b, q[0] - 1));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(At(t.targets, b, q[i]), At(t.inputs, b, entry + 3 + i));
  }
}

TEST(Tasks, BadOptionsAreClear) {
  testing::ExpectErrorContaining([] { Mqar({.seq_len = 63}); }, {"mqar", "seq_len must be even"});
  testing::ExpectErrorContaining([] { Mqar({.vocab = 60, .seq_len = 64}); },
                                 {"vocab must exceed seq_len"});
  testing::ExpectErrorContaining([] { Mqar({.seq_len = 64, .pairs = 17}); },
                                 {"4 x pairs must be <= seq_len"});
  testing::ExpectErrorContaining([] { Passkey({.depth = 1.5}); }, {"passkey", "depth 1.5"});
  testing::ExpectErrorContaining([] { MultiKeyNeedle({.seq_len = 20, .needles = 8}); },
                                 {"niah", "more than seq_len 20"});
  testing::ExpectErrorContaining([] { Phonebook({.entries = 300, .names = 16}); },
                                 {"phonebook", "300 entries"});
}

}  // namespace
}  // namespace griffin::eval
