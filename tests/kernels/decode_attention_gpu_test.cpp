// One token's attention kernels against their ATen composition (core/model/attention.cpp), on
// random caches of awkward sizes: rings and growing caches whose slots hold other documents,
// later positions and positions outside the window (invisible) beside visible ones, growing
// caches whose slots past the token's stream index hold visible-looking garbage (never read),
// heads of 8 to 256 channels (the vector and the element paths), 1 to 16 query heads per key
// head, float32 and bfloat16. The output within the dtype's tolerance; the cache after the write
// bit for bit (RoPE rounds as ApplyRope does).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/model/attention.h"
#include "core/model/layers.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

struct Case {
  int64_t batch, heads, kv_heads, head_dim, slots;
  bool ring;
  int64_t start;  // the token's stream index
  double rope_fraction;
  at::ScalarType dtype;
};

struct Buffers {
  at::Tensor keys, values, key_pos, key_docs;
  Buffers Clone() const {
    return {keys.clone(), values.clone(), key_pos.clone(), key_docs.clone()};
  }
};

class DecodeAttentionCuda : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeAttentionCuda, MatchesReferenceAndWritesTheSameSlot) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(c.slots * 7 + c.heads);
  const auto cuda = [&](const at::Tensor& t) { return t.to(at::kCUDA); };
  const int64_t B = c.batch, S = c.slots, KV = c.kv_heads, hd = c.head_dim;
  const at::Tensor qpos = at::arange(5000, 5000 + B, at::kLong).unsqueeze(1);
  const at::Tensor qdoc = at::full({B, 1}, 1, at::kLong);
  const int64_t window = c.ring ? S : 0;
  // Positions from before the window to after the token, documents 0 and 1: about a third of
  // the slots visible.
  const Buffers cache{
      cuda(at::randn({B, S, KV, hd}, gen).to(c.dtype)),
      cuda(at::randn({B, S, KV, hd}, gen).to(c.dtype)),
      cuda(qpos - S - 2 + at::randint(0, S + 4, {B, S}, gen, at::kLong)),
      cuda(at::randint(0, 2, {B, S}, gen, at::kLong)),
  };
  const at::Tensor qkv = cuda((at::randn({B, 1, (c.heads + 2 * KV) * hd}, gen) * 2).to(c.dtype));
  const at::Tensor inv_freq = RopeInverseFrequencies(hd, c.rope_fraction, 10000.0, at::kCUDA);
  const at::Tensor start = cuda(at::full({1}, c.start, at::kLong));
  std::vector<at::Tensor> outs;
  std::vector<Buffers> after;
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    const Buffers b = cache.Clone();
    outs.push_back(
        DecodeAttention({qkv, cuda(qpos), cuda(qdoc), start, inv_freq, b.keys, b.values, b.key_pos,
                         b.key_docs, c.heads, window, 1.0 / std::sqrt(static_cast<double>(hd))},
                        impl));
    after.push_back(b);
  }
  const double tol = c.dtype == at::kBFloat16 ? 1e-2 : 1e-5;
  EXPECT_EQ(outs[1].sizes(), at::IntArrayRef({B, 1, c.heads * hd}));
  EXPECT_LE(RelativeError(outs[1], outs[0]), tol);
  EXPECT_TRUE(at::equal(after[1].keys, after[0].keys)) << "keys";
  EXPECT_TRUE(at::equal(after[1].values, after[0].values)) << "values";
  EXPECT_TRUE(at::equal(after[1].key_pos, after[0].key_pos)) << "positions";
  EXPECT_TRUE(at::equal(after[1].key_docs, after[0].key_docs)) << "documents";
  EXPECT_FALSE(at::equal(after[1].keys, cache.keys)) << "the token was not written";
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const Case& c : std::vector<Case>{
           {1, 10, 1, 256, 2048, true, 9000, 0.5, {}},    // RecurrentGemma-2B's local attention
           {1, 8, 1, 256, 3072, false, 2500, 1.0, {}},    // Gemma-2B, a growing cache
           {2, 16, 1, 256, 1024, false, 1023, 0.5, {}},   // RecurrentGemma-9B's heads, last slot
           {3, 12, 4, 64, 130, true, 131, 1.0, {}},       // three heads a key head
           {2, 3, 1, 20, 37, true, 36, 0.5, {}},          // element path (20 channels)
           {2, 5, 5, 8, 9, false, 0, 1.0, {}},            // nothing cached: the token alone
           {1, 8, 1, 256, 70000, false, 65537, 1.0, {}},  // many splits
       }) {
    if (!testing::InTestGrid(c.batch * c.slots * c.kv_heads * c.head_dim)) continue;
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
      Case d = c;
      d.dtype = dt;
      cases.push_back(d);
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return "B" + std::to_string(c.batch) + "_H" + std::to_string(c.heads) + "_KV" +
         std::to_string(c.kv_heads) + "_D" + std::to_string(c.head_dim) + "_S" +
         std::to_string(c.slots) + (c.ring ? "_ring" : "_grow") + "_at" + std::to_string(c.start) +
         (c.dtype == at::kFloat ? "_f32" : "_bf16");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, DecodeAttentionCuda, ::testing::ValuesIn(Cases()), CaseName);

}  // namespace
}  // namespace griffin
