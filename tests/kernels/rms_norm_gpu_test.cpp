// The CUDA RMSNorm against the ATen reference on random inputs of awkward sizes (rows of one
// channel, widths that are no multiple of the vector, misaligned views, fp32 / bf16 / fp64),
// forward and the gradients of x and the scale, the backward against finite differences in fp64,
// and its determinism.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/kernels/rms_norm.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

using Case = std::tuple<int64_t, int64_t, at::ScalarType>;  // rows, dim, dtype

class RmsNormCuda : public ::testing::TestWithParam<Case> {};

TEST_P(RmsNormCuda, ForwardAndBackwardMatchReference) {
  GRIFFIN_REQUIRE_CUDA();
  const auto [rows, dim, dtype] = GetParam();
  const double tol = dtype == at::kBFloat16 ? 1e-2 : dtype == at::kFloat ? 1e-5 : 1e-12;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(rows * 31 + dim);
  // Rows of different magnitudes, which the norm must undo.
  const at::Tensor x0 = (at::randn({rows, dim}, gen) * at::rand({rows, 1}, gen) * 10).to(dtype);
  const at::Tensor s0 = (at::randn({dim}, gen) * 0.3).to(dtype);
  const at::Tensor dy = at::randn({rows, dim}, gen).to(at::kCUDA);
  std::vector<at::Tensor> outs, grads;
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    at::Tensor x = x0.to(at::kCUDA).requires_grad_(true);
    at::Tensor s = s0.to(at::kCUDA).requires_grad_(true);
    const at::Tensor y = RmsNormOp({x, s, 1e-6}, impl);
    (y.to(dy.scalar_type()) * dy).sum().backward();
    outs.push_back(y.detach());
    grads.push_back(x.grad());
    grads.push_back(s.grad());
  }
  EXPECT_EQ(outs[1].scalar_type(), dtype);
  EXPECT_EQ(outs[1].sizes(), x0.sizes());
  EXPECT_LE(RelativeError(outs[1], outs[0]), tol);
  EXPECT_LE(RelativeError(grads[2], grads[0]), tol) << "dx";
  EXPECT_LE(RelativeError(grads[3], grads[1]), tol) << "dscale";
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [rows, dim] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 5}, {7, 96}, {33, 128}, {129, 130}, {300, 2560}, {65, 4099}, {70000, 128}}) {
    if (!testing::InTestGrid(rows * dim)) continue;
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) cases.emplace_back(rows, dim, dt);
  }
  cases.emplace_back(9, 37, at::kDouble);
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const at::ScalarType dt = std::get<2>(info.param);
  return "R" + std::to_string(std::get<0>(info.param)) + "_D" +
         std::to_string(std::get<1>(info.param)) + "_" +
         (dt == at::kFloat      ? "f32"
          : dt == at::kBFloat16 ? "bf16"
                                : "f64");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, RmsNormCuda, ::testing::ValuesIn(Cases()), CaseName);

TEST(RmsNormCudaLayout, ViewsAndLeadingDimensions) {
  GRIFFIN_REQUIRE_CUDA();
  // A [B, T, D] view starting one element in (no vector alignment) and a transposed one.
  const at::Tensor base = at::randn({2 * 9 * 12 + 1}, at::kCUDA);
  const at::Tensor offset = base.narrow(0, 1, 2 * 9 * 12).view({2, 9, 12});
  const at::Tensor transposed = at::randn({12, 9, 2}, at::kCUDA).permute({2, 1, 0});
  const at::Tensor scale = at::randn({12}, at::kCUDA);
  for (const at::Tensor& x : {offset, transposed}) {
    const at::Tensor ref = RmsNormOp({x, scale, 1e-5}, OpImpl::kReference);
    const at::Tensor got = RmsNormOp({x, scale, 1e-5}, OpImpl::kCuda);
    EXPECT_EQ(got.sizes(), x.sizes());
    EXPECT_LE(RelativeError(got, ref), 1e-6);
  }
  // No rows at all.
  const at::Tensor empty = at::empty({0, 3, 12}, at::kCUDA);
  EXPECT_EQ(RmsNormOp({empty, scale, 1e-6}, OpImpl::kCuda).sizes(), empty.sizes());
}

TEST(RmsNormCudaGradients, MatchFiniteDifferencesInFloat64) {
  GRIFFIN_REQUIRE_CUDA();
  at::Tensor x = at::randn({5, 3, 11}, at::kDouble).to(at::kCUDA);
  at::Tensor s = (at::randn({11}, at::kDouble) * 0.5).to(at::kCUDA);
  const at::Tensor weights = at::randn({5, 3, 11}, at::kDouble).to(at::kCUDA);
  testing::ExpectFiniteDifferenceGradients(
      [&] {
        return (RmsNormOp({x, s, 1e-6}, OpImpl::kCuda) * weights).sum();
      },
      {&x, &s});
}

TEST(RmsNormCudaGradients, AreDeterministic) {
  GRIFFIN_REQUIRE_CUDA();
  std::vector<at::Tensor> runs[2];
  for (int run = 0; run < 2; ++run) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
    at::Tensor x = at::randn({40000, 260}, gen).to(at::kCUDA).requires_grad_(true);
    at::Tensor s = at::randn({260}, gen).to(at::kCUDA).requires_grad_(true);
    (RmsNormOp({x, s, 1e-6}, OpImpl::kCuda) * at::randn({40000, 260}, gen).to(at::kCUDA))
        .sum()
        .backward();
    runs[run] = {x.grad(), s.grad()};
  }
  for (size_t k = 0; k < 2; ++k) EXPECT_TRUE(at::equal(runs[0][k], runs[1][k])) << k;
}

// The residual add fused with the norm (inference): the sum equal to ATen's add to the last bit,
// the norm equal to the RMSNorm kernel's on that sum to the last bit, so the fused model path
// computes what the unfused one did.
TEST_P(RmsNormCuda, AddThenNormEqualsAddAndNorm) {
  GRIFFIN_REQUIRE_CUDA();
  const auto [rows, dim, dtype] = GetParam();
  if (dtype == at::kDouble) GTEST_SKIP() << "float64 takes the same kernel template";
  const c10::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(rows * 17 + dim);
  const at::Tensor x = (at::randn({rows, dim}, gen) * 4).to(at::kCUDA, dtype);
  const at::Tensor delta = at::randn({rows, dim}, gen).to(at::kCUDA, dtype);
  const at::Tensor scale = (at::randn({dim}, gen) * 0.3).to(at::kCUDA, dtype);
  const AddRmsNorm got = AddRmsNormOp({x, scale, 1e-6}, delta, OpImpl::kCuda);
  const at::Tensor sum = x + delta;
  EXPECT_TRUE(at::equal(got.sum, sum));
  EXPECT_TRUE(at::equal(got.normed, RmsNormOp({sum, scale, 1e-6}, OpImpl::kCuda)));
  const AddRmsNorm ref = AddRmsNormOp({x, scale, 1e-6}, delta, OpImpl::kReference);
  EXPECT_LE(RelativeError(got.normed, ref.normed), dtype == at::kBFloat16 ? 1e-2 : 1e-5);
}

}  // namespace
}  // namespace griffin
