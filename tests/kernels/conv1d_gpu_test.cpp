// The CUDA Conv1D against the ATen reference on random inputs of awkward sizes (every width 1-4,
// document starts at random points and inside the carried tail, fp32 / bf16 / fp64), forward and
// backward, the backward against finite differences in fp64, and its determinism.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/kernels/conv1d.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

Conv1dArgs RandomConvArgs(int64_t B, int64_t T, int64_t D, int64_t W, at::ScalarType dtype,
                          uint64_t seed, const at::Device& device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto on = [&](const at::Tensor& t) { return t.to(device, dtype); };
  Conv1dArgs a;
  a.u = on(at::randn({B, T, D}, gen));
  a.w = on(at::randn({W, D}, gen));
  a.b = on(at::randn({D}, gen));
  a.tail = on(at::randn({B, W - 1, D}, gen));
  // Positions count up and restart at 0 with probability 0.1, inside the tail too.
  at::Tensor all = at::empty({B, W - 1 + T}, at::kLong);
  const at::Tensor restart = at::rand({B, W - 1 + T}, gen) < 0.1;
  for (int64_t b = 0; b < B; ++b) {
    int64_t p = 5;
    for (int64_t t = 0; t < W - 1 + T; ++t) {
      if (restart[b][t].item<bool>()) p = 0;
      all[b][t] = p++;
    }
  }
  a.tail_positions = all.narrow(1, 0, W - 1).contiguous().to(device);
  a.positions = all.narrow(1, W - 1, T).contiguous().to(device);
  return a;
}

using Case = std::tuple<int64_t, int64_t, int64_t, int64_t, at::ScalarType>;  // B, T, D, W, dtype

class Conv1dCuda : public ::testing::TestWithParam<Case> {};

TEST_P(Conv1dCuda, ForwardAndBackwardMatchReference) {
  GRIFFIN_REQUIRE_CUDA();
  const auto [B, T, D, W, dtype] = GetParam();
  const double tol = dtype == at::kBFloat16 ? 1e-2 : 1e-5;
  // One upstream gradient for both implementations (drawn once, from its own seed).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(17);
  const at::Tensor weights = at::randn({B, T, D}, gen).to(at::kCUDA);
  std::vector<at::Tensor> outs, grads;
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    Conv1dArgs a = RandomConvArgs(B, T, D, W, dtype, B * 131 + T * 7 + D + W, at::kCUDA);
    for (at::Tensor* t : {&a.u, &a.w, &a.b}) t->set_requires_grad(true);
    const at::Tensor out = Conv1dOp(a, impl);
    (out.to(at::kFloat) * weights).sum().backward();
    outs.push_back(out.detach());
    for (at::Tensor* t : {&a.u, &a.w, &a.b}) grads.push_back(t->grad());
  }
  EXPECT_EQ(outs[1].scalar_type(), dtype);
  EXPECT_LE(RelativeError(outs[1], outs[0]), tol);
  const char* names[] = {"u", "w", "b"};
  for (int k = 0; k < 3; ++k) {
    EXPECT_LE(RelativeError(grads[3 + k], grads[k]), tol) << "d" << names[k];
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [b, t, d] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 1, 1}, {2, 2, 100}, {2, 127, 130}, {3, 1000, 257}, {1, 4097, 2560}}) {
    if (!testing::InTestGrid(b * t * d)) continue;
    for (int64_t w : {1, 2, 3, 4}) {
      for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) cases.emplace_back(b, t, d, w, dt);
    }
  }
  cases.emplace_back(2, 70, 6, 4, at::kDouble);
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  const at::ScalarType dt = std::get<4>(c);
  return "B" + std::to_string(std::get<0>(c)) + "_T" + std::to_string(std::get<1>(c)) + "_D" +
         std::to_string(std::get<2>(c)) + "_W" + std::to_string(std::get<3>(c)) + "_" +
         (dt == at::kFloat      ? "f32"
          : dt == at::kBFloat16 ? "bf16"
                                : "f64");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, Conv1dCuda, ::testing::ValuesIn(Cases()), CaseName);

TEST(Conv1dCudaGradients, MatchFiniteDifferencesInFloat64) {
  GRIFFIN_REQUIRE_CUDA();
  Conv1dArgs a = RandomConvArgs(2, 70, 6, 4, at::kDouble, 5, at::kCUDA);
  const at::Tensor weights = at::randn({2, 70, 6}, at::kDouble).to(at::kCUDA);
  testing::ExpectFiniteDifferenceGradients(
      [&] { return (Conv1dOp(a, OpImpl::kCuda) * weights).sum(); }, {&a.u, &a.w, &a.b});
}

TEST(Conv1dCudaGradients, AreDeterministic) {
  GRIFFIN_REQUIRE_CUDA();
  GRIFFIN_SKIP_ON_SMALL_GRID();
  std::vector<at::Tensor> runs[2];
  for (int run = 0; run < 2; ++run) {
    Conv1dArgs a = RandomConvArgs(3, 5000, 300, 4, at::kFloat, 8, at::kCUDA);
    for (at::Tensor* t : {&a.u, &a.w, &a.b}) t->set_requires_grad(true);
    Conv1dOp(a, OpImpl::kCuda).sum().backward();
    for (at::Tensor* t : {&a.u, &a.w, &a.b}) runs[run].push_back(t->grad());
  }
  for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(at::equal(runs[0][k], runs[1][k])) << k;
}

}  // namespace
}  // namespace griffin
