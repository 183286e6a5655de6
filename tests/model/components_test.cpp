// Griffin's components against closed-form vectors (computed in float64 from the equations of
// docs/MODEL.md section 3) and the RMSNorm vector of the official implementation's test suite.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/kernels/op_impl.h"
#include "core/model/config.h"
#include "core/model/conv1d.h"
#include "core/model/layers.h"
#include "core/model/rglru.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

at::Tensor T(std::vector<float> v) { return at::tensor(v, at::kFloat); }

TEST(RmsNorm, MatchesReferenceVector) {
  const at::Tensor y = RmsNorm(T({0.1f, 0.2f}), at::zeros({2}), 1e-6);
  EXPECT_LE(RelativeError(y, T({0.6324429f, 1.2648858f})), 1e-6);
}

// Every floating dtype a model may run in (float16 from a checkpoint's torch_dtype too): computed
// in float32, returned in x's dtype.
TEST(RmsNorm, TakesEveryFloatingDtype) {
  for (const at::ScalarType dtype : {at::kHalf, at::kBFloat16, at::kDouble}) {
    const at::Tensor y = RmsNorm(T({0.1f, 0.2f}).to(dtype), at::zeros({2}).to(dtype), 1e-6);
    EXPECT_EQ(y.scalar_type(), dtype);
    EXPECT_LE(RelativeError(y.to(at::kFloat), T({0.6324429f, 1.2648858f})), 1e-2);
  }
}

class RgLruVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    w_.a_param = T({0, 1, -1, 2});
    w_.input_gate_w = at::zeros({2, 2, 2});
    w_.input_gate_b = T({0, 1, -1, 0.5}).view({2, 2});
    w_.a_gate_w = at::zeros({2, 2, 2});
    w_.a_gate_b = T({0, -1, 2, 0.25}).view({2, 2});
    c_ = T({1, -2, 0.5, 3, 0.25, 1.5, -1, 2, -0.5, 0, 2, -1}).view({1, 3, 4});
  }
  RecurrentWeights w_;
  at::Tensor c_;
};

TEST_F(RgLruVectors, PrefillMatchesClosedForm) {
  at::Tensor state = at::zeros({1, 4});
  const at::Tensor y =
      RgLru(c_, at::tensor({0, 1, 2}, at::kLong).unsqueeze(0), w_, state, OpImpl::kReference);
  const at::Tensor want = T({0.5f, -1.4621172f, 0.1344707f, 1.8673780f,        //
                             0.1560056f, 1.0079888f, -0.2525191f, 1.2450496f,  //
                             -0.2397609f, 0.0597512f, 0.5068446f, -0.6223721f})
                              .view({1, 3, 4});
  EXPECT_LE(RelativeError(y, want), 1e-6);
  EXPECT_LE(RelativeError(state, want[0][2].unsqueeze(0)), 1e-6);
}

TEST_F(RgLruVectors, DecodeStepAndResetMatchClosedForm) {
  at::Tensor state = at::zeros({1, 4});
  RgLru(c_.narrow(1, 0, 2), at::tensor({0, 1}, at::kLong).unsqueeze(0), w_, state,
        OpImpl::kReference);
  at::Tensor step_state = state.clone();
  const at::Tensor y2 = RgLru(c_.narrow(1, 2, 1), at::tensor({2}, at::kLong).unsqueeze(0), w_,
                              step_state, OpImpl::kReference);
  EXPECT_LE(RelativeError(y2.flatten(), T({-0.2397609f, 0.0597512f, 0.5068446f, -0.6223721f})),
            1e-6);
  const at::Tensor y2_reset = RgLru(c_.narrow(1, 2, 1), at::tensor({0}, at::kLong).unsqueeze(0), w_,
                                    state, OpImpl::kReference);
  EXPECT_LE(RelativeError(y2_reset.flatten(), T({-0.25f, 0.0f, 0.5378828f, -0.6224593f})), 1e-6);
}

TEST(CausalConv1d, MatchesClosedFormWithAndWithoutResets) {
  const at::Tensor w = T({1, 10, 2, 20, 3, 30, 4, 40}).view({4, 2});
  const at::Tensor b = T({0.5, 0.05});
  at::Tensor u = at::empty({1, 5, 2});
  for (int t = 0; t < 5; ++t) {
    u[0][t][0] = t + 1.0;
    u[0][t][1] = -(t + 1.0);
  }
  at::Tensor tail = at::zeros({1, 3, 2}), tail_pos = at::full({1, 3}, -1, at::kLong);
  const at::Tensor y = CausalConv1d(u, at::arange(5, at::kLong).unsqueeze(0), w, b, tail, tail_pos);
  EXPECT_LE(
      RelativeError(y, T({4.5, -39.95, 11.5, -109.95, 20.5, -199.95, 30.5, -299.95, 40.5, -399.95})
                           .view({1, 5, 2})),
      1e-6);
  tail.zero_();
  tail_pos.fill_(-1);
  const at::Tensor yr =
      CausalConv1d(u, at::tensor({0, 1, 2, 0, 1}, at::kLong).unsqueeze(0), w, b, tail, tail_pos);
  EXPECT_LE(RelativeError(yr.narrow(1, 3, 2), T({16.5, -159.95, 32.5, -319.95}).view({1, 2, 2})),
            1e-6);
  // The tail holds the last three inputs and their positions for the next chunk.
  EXPECT_TRUE(at::equal(tail_pos, at::tensor({2, 0, 1}, at::kLong).unsqueeze(0)));
}

TEST(Rope, HalfRotationMatchesClosedForm) {
  const at::Tensor x = at::arange(1, 9, at::kFloat).view({1, 1, 1, 8});
  const at::Tensor p1 = ApplyRope(x, at::full({1, 1}, 1, at::kLong), 0.5, 10000.0);
  EXPECT_LE(
      RelativeError(p1.flatten(), T({-1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f, 5, 6, 7, 8})),
      1e-6);
  const at::Tensor p1000 = ApplyRope(x, at::full({1, 1}, 1000, at::kLong), 0.5, 10000.0);
  EXPECT_LE(RelativeError(p1000.flatten(),
                          T({-1.9182595f, 0.4979414f, 2.5140168f, -4.4443283f, 5, 6, 7, 8})),
            1e-5);
}

TEST(OutputAndEmbedding, SoftCapGeluAndEmbedScale) {
  ModelConfig c = PresetConfig("tiny-griffin");
  ModelWeights w;
  w.embed = at::eye(4);
  c.width = 4;
  c.logit_soft_cap = 30.0;
  const at::Tensor logits = OutputLogits(T({10, 30, 100, -50}).unsqueeze(0), w, c);
  EXPECT_LE(RelativeError(logits.flatten(), T({9.645382f, 22.847825f, 29.923739f, -27.933288f})),
            1e-6);
  EXPECT_NEAR(at::gelu(T({1, -1}), "tanh")[0].item<double>(), 0.8411920, 1e-6);
  // sqrt(2560) = 50.596 rounds to 50.5 in bf16; Gemma rounds to the activation dtype.
  ModelConfig rg = PresetConfig("recurrentgemma-2b");
  rg.vocab_size = 3;
  const at::Tensor e = at::ones({3, 2560});
  EXPECT_FLOAT_EQ(EmbedTokens(at::tensor({1}, at::kLong), e, rg)[0][0].item<float>(), 50.5f);
  ModelConfig gemma = PresetConfig("gemma-2b");
  gemma.vocab_size = 3;
  EXPECT_NEAR(
      EmbedTokens(at::tensor({1}, at::kLong), at::ones({3, 2048}), gemma)[0][0].item<double>(),
      45.254834, 1e-4);
  EXPECT_FLOAT_EQ(
      EmbedTokens(at::tensor({1}, at::kLong), at::ones({3, 2048}, at::kBFloat16), gemma)[0][0]
          .item<float>(),
      45.25f);
}

TEST(EmbedTokens, RejectsIdsOutsideTheVocabulary) {
  const ModelConfig c = PresetConfig("tiny-griffin");
  const at::Tensor e = at::ones({c.vocab_size, c.width});
  testing::ExpectErrorContaining(
      [&] {
        EmbedTokens(at::tensor({5, 384}, at::kLong), e, c);
      },
      {"token id 384", "vocabulary of 384"});
  testing::ExpectErrorContaining([&] { EmbedTokens(at::tensor({-1}, at::kLong), e, c); },
                                 {"token id -1"});
}

}  // namespace
}  // namespace griffin
