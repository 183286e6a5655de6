// The one-token attention op's ATen reference (core/model/attention.h, DecodeAttention) against
// the attention block's chunk path it stands in for on a GPU: the same outputs and the same cache
// after several steps, for a ring that wraps and for a growing cache, with a document that starts
// part-way through a row; and its argument checks, each naming the tensor.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/model/attention.h"
#include "core/model/layers.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

struct AttentionSetup {
  ModelConfig config;
  AttentionWeights weights;
  at::Tensor inv_freq;
};

AttentionSetup MakeSetup(int64_t window) {
  AttentionSetup s;
  ModelConfig& c = s.config;
  c.width = 24;
  c.num_heads = 6;
  c.num_kv_heads = 2;
  c.head_dim = 10;
  c.rope_fraction = 0.5;
  c.rope_base = 10000.0;
  c.attention_window = window;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3 + window);
  const int64_t H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim, D = c.width;
  s.weights.q_w = at::randn({H * hd, D}, gen) / std::sqrt(double(D));
  s.weights.k_w = at::randn({KV * hd, D}, gen) / std::sqrt(double(D));
  s.weights.v_w = at::randn({KV * hd, D}, gen) / std::sqrt(double(D));
  s.weights.o_w = at::randn({D, H * hd}, gen) / std::sqrt(double(H * hd));
  s.inv_freq = RopeInverseFrequencies(hd, c.rope_fraction, c.rope_base, at::kCPU);
  return s;
}

class DecodeAttentionReference : public ::testing::TestWithParam<int64_t> {};

// Row 0 is one document from position 0; row 1 starts a second document at stream index 9.
TEST_P(DecodeAttentionReference, EqualsTheChunkPathStepByStep) {
  const int64_t window = GetParam();
  const AttentionSetup s = MakeSetup(window);
  const ModelConfig& c = s.config;
  const int64_t B = 2, prefill = 12, steps = 9;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const at::Tensor x = at::randn({B, prefill + steps, c.width}, gen);
  at::Tensor positions = at::arange(prefill + steps, at::kLong).repeat({B, 1});
  positions[1].narrow(0, 9, prefill + steps - 9) -= 9;
  const at::Tensor docs = positions.eq(0).cumsum(1);
  AttentionCache chunked(B, c.num_kv_heads, c.head_dim, window, at::kFloat, at::kCPU);
  AttentionCache op(B, c.num_kv_heads, c.head_dim, window, at::kFloat, at::kCPU);
  const auto part = [](const at::Tensor& t, int64_t from, int64_t n) {
    return t.narrow(1, from, n);
  };
  for (AttentionCache* cache : {&chunked, &op}) {
    AttentionBlock(part(x, 0, prefill), part(positions, 0, prefill), part(docs, 0, prefill),
                   s.weights, c, *cache, at::zeros({1}, at::kLong), StreamShape{}, s.inv_freq);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  for (int64_t t = prefill; t < prefill + steps; ++t) {
    const at::Tensor xt = part(x, t, 1), pt = part(positions, t, 1), dt = part(docs, t, 1);
    const at::Tensor start = at::full({1}, t, at::kLong);
    const at::Tensor want =
        AttentionBlock(xt, pt, dt, s.weights, c, chunked, start, StreamShape{}, s.inv_freq);
    const at::Tensor qkv = at::cat({at::linear(xt, s.weights.q_w), at::linear(xt, s.weights.k_w),
                                    at::linear(xt, s.weights.v_w)},
                                   -1);
    op.MakeRoom(1);
    const AttentionCache::Buffers buf = op.buffers();
    const at::Tensor got =
        at::linear(DecodeAttention({qkv, pt, dt, start, s.inv_freq, buf.keys, buf.values,
                                    buf.positions, buf.docs, c.num_heads, window, scale},
                                   OpImpl::kReference),
                   s.weights.o_w);
    op.CountWritten(1);
    EXPECT_LE(RelativeError(got, want), 1e-6) << "step " << t;
  }
  EXPECT_EQ(op.held(), chunked.held());
  EXPECT_LE(RelativeError(op.keys(), chunked.keys()), 1e-6);
  EXPECT_TRUE(at::equal(op.positions(), chunked.positions()));
  EXPECT_TRUE(at::equal(op.docs(), chunked.docs()));
}

INSTANTIATE_TEST_SUITE_P(RingAndGrowing, DecodeAttentionReference, ::testing::Values(5, 0),
                         [](const auto& info) { return info.param ? "ring" : "growing"; });

void ExpectCheckError(const DecodeAttentionTensors& t, const std::string& text) {
  try {
    CheckDecodeAttentionTensors(t);
    ADD_FAILURE() << "no error; expected one containing '" << text << "'";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(DecodeAttentionChecks, NameTheBadTensor) {
  const at::Tensor keys = at::zeros({1, 4, 1, 8});
  const at::Tensor pos = at::zeros({1, 4}, at::kLong), one = at::zeros({1, 1}, at::kLong);
  const DecodeAttentionTensors good{at::zeros({1, 1, 4 * 8}),
                                    one,
                                    one,
                                    at::zeros({1}, at::kLong),
                                    at::ones({2}),
                                    keys,
                                    keys.clone(),
                                    pos,
                                    pos.clone(),
                                    2,
                                    0,
                                    1.0};
  EXPECT_NO_THROW(CheckDecodeAttentionTensors(good));
  DecodeAttentionTensors t = good;
  t.keys = at::zeros({1, 4, 1, 16}).narrow(3, 0, 8);
  ExpectCheckError(t, "keys must be contiguous");
  t = good;
  t.qkv = at::zeros({1, 1, 3 * 8});
  ExpectCheckError(t, "qkv must be");
  t = good;
  t.window = 3;
  ExpectCheckError(t, "a ring of 4 slots needs window 4");
  t = good;
  t.key_docs = at::zeros({1, 4}, at::kInt);
  ExpectCheckError(t, "key_docs must be int64");
  t = good;
  t.inv_freq = at::ones({5});
  ExpectCheckError(t, "inv_freq must be float32");
  t = good;
  t.heads = 0;
  ExpectCheckError(t, "0 query heads");
  // 65536 rows of one key head: more block rows than a launch takes (views: nothing allocated).
  t = good;
  t.keys = at::zeros({1, 1, 1, 1}).expand({65536, 4, 1, 8});
  ExpectCheckError(t, "65535 block rows");
}

}  // namespace
}  // namespace griffin
