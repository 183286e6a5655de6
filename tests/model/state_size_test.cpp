// Decode-state memory at the real 2B shapes (no weights needed: the caches are written
// directly): bytes counted from shapes == analytic bytes, the storages measured == the reserved
// count (and == analytic once fixed shapes are filled), a buffer larger than its shape caught,
// Gemma-2B grows 18 KiB of keys/values per token in bf16, RecurrentGemma-2B stays flat, a growing
// cache reserves whole chunks, and a context longer than memory allows is a clear error.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/model/attention_cache.h"
#include "core/model/config.h"
#include "core/model/model_state.h"
#include "test_util.h"

namespace griffin {
namespace {

// Feeds `tokens` tokens (one document) into every attention cache of the state.
void Fill(ModelState& state, const ModelConfig& c, int64_t tokens, int64_t already) {
  const at::Tensor kv =
      at::ones({state.batch(), tokens, c.num_kv_heads, c.head_dim}, at::kBFloat16);
  const at::Tensor pos =
      at::arange(already, already + tokens, at::kLong).expand({state.batch(), tokens});
  for (AttentionCache& cache : state.attention)
    cache.Write(kv, kv, pos, at::ones_like(pos), at::full({1}, already, at::kLong));
  state.Advance(tokens);
}

TEST(StateSize, Gemma2BGrows18KiBPerTokenAndMatchesAnalytic) {
  const ModelConfig c = PresetConfig("gemma-2b");
  ModelState state(c, 1, at::kCPU, at::kBFloat16);
  int64_t seen = 0;
  for (int64_t target : {1, 1024, 1025, 3000}) {
    Fill(state, c, target - seen, seen);
    seen = target;
    const StateSize want = AnalyticStateSize(c, 1, seen, at::kBFloat16);
    EXPECT_EQ(state.Bytes(), want.total()) << seen << " tokens";
    EXPECT_EQ(want.attention, seen * 18 * 1024);  // 18 layers x K and V x 256 x bf16
    // Reserved space is whole chunks of 1024 tokens.
    const int64_t chunks = (seen + 1023) / 1024;
    EXPECT_EQ(state.ReservedBytes() - state.Bytes(),
              (chunks * 1024 - seen) * 18 * AttentionCache::BytesPerToken(1, 256, at::kBFloat16));
  }
}

// The storages measured, not the shapes: a growing cache's whole chunks, and once a decode's
// fixed shapes are filled (exactly the room asked), exactly the analytic count.
TEST(StateSize, StoragesMeasuredEqualReservedAndFilledFixedShapesEqualAnalytic) {
  const ModelConfig c = PresetConfig("gemma-2b");
  ModelState state(c, 2, at::kCPU, at::kBFloat16);
  Fill(state, c, 1500, 0);
  EXPECT_EQ(state.StorageBytes(), state.ReservedBytes());
  EXPECT_GT(state.StorageBytes(), AnalyticStateSize(c, 2, 1500, at::kBFloat16).total());
  state.FixShapes(7);  // shrinks the 2048-slot chunks to exactly 1507 slots
  Fill(state, c, 7, 1500);
  state.UnfixShapes();
  EXPECT_EQ(state.StorageBytes(), AnalyticStateSize(c, 2, 1507, at::kBFloat16).total());
  EXPECT_EQ(state.Bytes(), state.StorageBytes());
}

// What the shapes cannot see: a view of a larger buffer counts the whole buffer, and two views
// of one buffer count it once.
TEST(StateSize, DistinctStorageBytesCountsWholeBuffersOnce) {
  const at::Tensor big = at::zeros({100, 8}, at::kFloat);
  EXPECT_EQ(DistinctStorageBytes({big.narrow(0, 0, 10)}), 100 * 8 * 4);
  EXPECT_EQ(DistinctStorageBytes({big.narrow(0, 0, 10), big.narrow(0, 10, 10), big}), 100 * 8 * 4);
  EXPECT_EQ(DistinctStorageBytes({big, at::zeros({3}, at::kLong), at::Tensor()}), 3200 + 24);
}

TEST(StateSize, RecurrentGemma2BIsFlat) {
  const ModelConfig c = PresetConfig("recurrentgemma-2b");
  ModelState state(c, 1, at::kCPU, at::kBFloat16);
  const int64_t empty = state.Bytes();
  EXPECT_EQ(empty, AnalyticStateSize(c, 1, 0, at::kBFloat16).total());
  int64_t seen = 0;
  for (int64_t target : {100, 2048, 5000}) {
    Fill(state, c, target - seen, seen);
    seen = target;
    EXPECT_EQ(state.Bytes(), empty) << seen << " tokens";
    EXPECT_EQ(state.ReservedBytes(), empty);
    EXPECT_EQ(state.StorageBytes(), empty);
  }
  // 8 rings of 2048 x 256 keys and values in bf16 = 16 MiB; 18 RG-LRU states in fp32.
  const StateSize s = AnalyticStateSize(c, 1, 1 << 20, at::kBFloat16);
  EXPECT_EQ(s.attention, 8 * 2048 * 2 * 256 * 2);
  EXPECT_EQ(s.recurrent, 18 * (2560 * 4 + 3 * 2560 * 2));
}

TEST(StateSize, HawkHasNoAttentionState) {
  const StateSize s = AnalyticStateSize(PresetConfig("hawk-2b"), 4, 100000, at::kBFloat16);
  EXPECT_EQ(s.attention, 0);
  EXPECT_EQ(s.recurrent, 4 * 26 * (2560 * 4 + 3 * 2560 * 2));
}

TEST(StateSize, ContextLongerThanMemoryIsAClearError) {
  // 2^24 rows x 64 KV heads x 256 dims of fp32 keys per token: far beyond this machine.
  // The inputs are broadcast views of one element: nothing big is allocated before the cache.
  constexpr int64_t kBatch = 1 << 24;
  AttentionCache cache(kBatch, 64, 256, /*window=*/0, at::kFloat, at::kCPU, /*chunk=*/1024);
  const at::Tensor kv = at::zeros({1, 1, 64, 256}).expand({kBatch, 1, 64, 256});
  const at::Tensor pos = at::zeros({1, 1}, at::kLong).expand({kBatch, 1});
  testing::ExpectErrorContaining([&] { cache.Write(kv, kv, pos, pos, at::zeros({1}, at::kLong)); },
                                 {"cannot grow to 1024 tokens", "longer than memory allows"});
}

TEST(Overrides, BuildTheAblationFamily) {
  const ModelConfig global = PresetWithOverrides("tiny-griffin,window=0");
  EXPECT_EQ(global.attention_window, 0);
  const ModelConfig deep = PresetWithOverrides("tiny-griffin,pattern=RRRA,layers=8");
  EXPECT_EQ(deep.num_layers(), 8);
  EXPECT_EQ(deep.blocks[3], BlockType::kAttention);
  EXPECT_EQ(deep.blocks[7], BlockType::kAttention);
  EXPECT_EQ(deep.blocks[6], BlockType::kRecurrent);
  EXPECT_EQ(PresetWithOverrides("recurrentgemma-2b,layers=9").CountBlocks(BlockType::kAttention),
            3);
  EXPECT_EQ(PresetWithOverrides("tiny-gemma,kv_heads=4").num_kv_heads, 4);
  testing::ExpectErrorContaining([] { PresetWithOverrides("tiny-griffin,windw=3"); },
                                 {"unknown model override 'windw'", "window"});
  testing::ExpectErrorContaining([] { PresetWithOverrides("tiny-griffin,window=abc"); },
                                 {"'abc' is not an integer"});
  testing::ExpectErrorContaining([] { PresetWithOverrides("tiny-griffin,pattern=RXA"); },
                                 {"letters R (recurrent) and A (attention)"});
  testing::ExpectErrorContaining([] { PresetWithOverrides("tiny-gemma,kv_heads=3"); },
                                 {"num_kv_heads (3) must divide num_heads (4)"});
  testing::ExpectErrorContaining([] { PresetWithOverrides("tiny-griffin,heads=5"); },
                                 {"must divide"});
}

}  // namespace
}  // namespace griffin
