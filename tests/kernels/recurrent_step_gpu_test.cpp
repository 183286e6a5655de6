// The fused recurrent decode step against its ATen composition (the model's CausalConv1d and
// RgLru on the reference ops), on random inputs of awkward sizes: every conv width, heads whose
// width is not a multiple of 4 or 32, batch rows at different positions with document starts in
// the current token and in the carried tail, several steps in a row (so the in-place tail and
// state updates feed the next step), float32 and bfloat16; and its determinism.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/model/recurrent_step.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

struct StepCase {
  RecurrentWeights w;
  RecurrentState state;
  std::vector<at::Tensor> u, y, positions;  // per step
};

StepCase RandomCase(int64_t B, int64_t L, int64_t H, int64_t W, at::ScalarType dtype, int steps,
                    uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto cuda = [&](const at::Tensor& t, at::ScalarType type) { return t.to(at::kCUDA, type); };
  const int64_t blk = L / H;
  StepCase c;
  c.w.conv_w = cuda(at::randn({W, L}, gen) * 0.5, dtype);
  c.w.conv_b = cuda(at::randn({L}, gen) * 0.1, dtype);
  c.w.input_gate_w = cuda(at::randn({H, blk, blk}, gen) / std::sqrt(double(blk)), at::kFloat);
  c.w.input_gate_b = cuda(at::randn({H, blk}, gen) * 0.1, at::kFloat);
  c.w.a_gate_w = cuda(at::randn({H, blk, blk}, gen) / std::sqrt(double(blk)), at::kFloat);
  c.w.a_gate_b = cuda(at::randn({H, blk}, gen) * 0.1, at::kFloat);
  c.w.a_param = cuda(at::rand({L}, gen) * 4.0 - 1.0, at::kFloat);
  c.state.rnn = cuda(at::randn({B, L}, gen), at::kFloat);
  c.state.conv = cuda(at::randn({B, W - 1, L}, gen), dtype);
  // Tail positions: row b counts up to 3 + b, except row 1 has a document start inside its tail.
  at::Tensor tail_pos = at::empty({B, W - 1}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t k = 0; k < W - 1; ++k) tail_pos[b][k] = 3 + b - (W - 1 - k);
    if (b == 1 && W > 2) tail_pos[b][W - 2] = 0;
  }
  c.state.conv_pos = tail_pos.to(at::kCUDA);
  for (int s = 0; s < steps; ++s) {
    c.u.push_back(cuda(at::randn({B, 1, L}, gen), dtype));
    c.y.push_back(cuda(at::randn({B, 1, L}, gen), dtype));
    at::Tensor pos = at::empty({B, 1}, at::kLong);
    for (int64_t b = 0; b < B; ++b) pos[b][0] = (s == 2 && b % 2 == 0) ? 0 : 3 + b + s;
    c.positions.push_back(pos.to(at::kCUDA));
  }
  return c;
}

RecurrentState Copy(const RecurrentState& s) {
  return {s.rnn.clone(), s.conv.clone(), s.conv_pos.clone()};
}

using Case = std::tuple<int64_t, int64_t, int64_t, int64_t, at::ScalarType>;  // B, L, H, W, dtype

class RecurrentStepCuda : public ::testing::TestWithParam<Case> {
 protected:
  at::InferenceMode inference_;
};

TEST_P(RecurrentStepCuda, MatchesReferenceOverSeveralSteps) {
  GRIFFIN_REQUIRE_CUDA();
  const auto [B, L, H, W, dtype] = GetParam();
  const double tol = dtype == at::kBFloat16 ? 1e-2 : 1e-5;
  StepCase c = RandomCase(B, L, H, W, dtype, 5, B * 7 + L + H * 3 + W);
  RecurrentState ref = Copy(c.state), fused = Copy(c.state);
  for (size_t s = 0; s < c.u.size(); ++s) {
    const at::Tensor want =
        RecurrentStep(c.u[s], c.y[s], c.positions[s], c.w, ref, OpImpl::kReference);
    const at::Tensor got = RecurrentStep(c.u[s], c.y[s], c.positions[s], c.w, fused, OpImpl::kCuda);
    ASSERT_EQ(got.scalar_type(), dtype);
    EXPECT_LE(RelativeError(got, want), tol) << "output, step " << s;
    EXPECT_LE(RelativeError(fused.rnn, ref.rnn), dtype == at::kBFloat16 ? 1e-2 : 1e-5)
        << "h, step " << s;
    EXPECT_TRUE(at::equal(fused.conv, ref.conv)) << "conv tail, step " << s;
    EXPECT_TRUE(at::equal(fused.conv_pos, ref.conv_pos)) << "tail positions, step " << s;
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [b, l, h] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 32, 1},
           {3, 100, 4},
           {2, 96, 3},
           {2, 2560, 10},
           {5, 4096, 16},
           {1, 520, 2},
           // Batch 1 takes the kernel that issues its loads ahead: the 2B shape, and heads
           // narrower than 32 outputs and not a multiple of 4 (the scalar row loads).
           {1, 2560, 10},
           {1, 100, 4},
           {1, 18, 1}}) {
    for (int64_t w : {1, 2, 3, 4}) {
      for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) cases.emplace_back(b, l, h, w, dt);
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const auto& [b, l, h, w, dt] = info.param;
  return "B" + std::to_string(b) + "_L" + std::to_string(l) + "_H" + std::to_string(h) + "_W" +
         std::to_string(w) + (dt == at::kFloat ? "_f32" : "_bf16");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, RecurrentStepCuda, ::testing::ValuesIn(Cases()), CaseName);

TEST(RecurrentStepCudaDeterminism, BitwiseRepeatable) {
  GRIFFIN_REQUIRE_CUDA();
  const at::InferenceMode inference;
  StepCase c = RandomCase(4, 2560, 10, 4, at::kBFloat16, 3, 99);
  std::vector<at::Tensor> runs;
  for (int run = 0; run < 2; ++run) {
    RecurrentState s = Copy(c.state);
    // Every step's output (not only the first's), then the state and conv tail they leave.
    std::vector<at::Tensor> all;
    for (size_t t = 0; t < c.u.size(); ++t) {
      all.push_back(RecurrentStep(c.u[t], c.y[t], c.positions[t], c.w, s, OpImpl::kCuda)
                        .flatten()
                        .to(at::kFloat));
    }
    all.push_back(s.rnn.flatten());
    all.push_back(s.conv.flatten().to(at::kFloat));
    runs.push_back(at::cat(all));
  }
  EXPECT_TRUE(at::equal(runs[0], runs[1]));
}

TEST(RecurrentStepChecks, BadTensorsNameThemselves) {
  const at::InferenceMode inference;
  RecurrentWeights w;
  w.conv_w = at::zeros({4, 8});
  w.conv_b = at::zeros({8});
  w.input_gate_w = w.a_gate_w = at::zeros({2, 4, 4});
  w.input_gate_b = w.a_gate_b = at::zeros({2, 4});
  w.a_param = at::zeros({8});
  RecurrentState s{at::zeros({1, 8}), at::zeros({1, 3, 8}), at::zeros({1, 3}, at::kLong)};
  const at::Tensor u = at::zeros({1, 1, 8}), pos = at::zeros({1, 1}, at::kLong);
  EXPECT_EQ(RecurrentStep(u, u, pos, w, s, OpImpl::kReference).sizes(), u.sizes());
  testing::ExpectErrorContaining(
      [&] {
        RecurrentStep(at::zeros({1, 2, 8}), u, pos, w, s, OpImpl::kReference);
      },
      {"u must be [batch, 1, dim]"});
  RecurrentState strided = s;
  strided.conv = at::zeros({1, 8, 3}).transpose(1, 2);  // [1, 3, 8], not contiguous
  testing::ExpectErrorContaining([&] { RecurrentStep(u, u, pos, w, strided, OpImpl::kReference); },
                                 {"tail must be contiguous"});
  RecurrentWeights bad = w;
  bad.input_gate_w = at::zeros({2, 4, 4}, at::kBFloat16);
  testing::ExpectErrorContaining([&] { RecurrentStep(u, u, pos, bad, s, OpImpl::kReference); },
                                 {"gate_x_w must be float32"});
}

}  // namespace
}  // namespace griffin
