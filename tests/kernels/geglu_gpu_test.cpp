// The GeGLU kernel against its ATen composition (gelu_tanh(gate) * up) on random inputs of awkward
// sizes (widths that are no multiple of the vector, one row and many, a misaligned view), float32
// and bfloat16: equal to the last bit or within the dtype's tolerance where the compiler's
// contraction of gelu's polynomial may differ from ATen's build.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/kernels/geglu.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

using Case = std::tuple<int64_t, int64_t, at::ScalarType>;  // rows, width, dtype

class GegluCuda : public ::testing::TestWithParam<Case> {};

TEST_P(GegluCuda, MatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::NoGradGuard no_grad;
  const auto [rows, width, dtype] = GetParam();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(rows * 13 + width);
  const at::Tensor gate_up = (at::randn({rows, 2 * width}, gen) * 3).to(at::kCUDA, dtype);
  const at::Tensor want = GegluOp({gate_up}, OpImpl::kReference);
  const at::Tensor got = GegluOp({gate_up}, OpImpl::kCuda);
  EXPECT_EQ(got.sizes(), want.sizes());
  EXPECT_EQ(got.scalar_type(), dtype);
  EXPECT_LE(RelativeError(got, want), dtype == at::kBFloat16 ? 4e-3 : 1e-6);
  // Nearly every element equal to the last bit.
  const double equal = got.eq(want).to(at::kDouble).mean().item<double>();
  EXPECT_GE(equal, 0.99) << "elements equal to the reference's bits";
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [rows, width] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 5}, {1, 16384}, {7, 4099}, {300, 2560}, {4096, 7680}}) {
    if (!testing::InTestGrid(rows * width)) continue;
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) cases.emplace_back(rows, width, dt);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, GegluCuda, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return "R" + std::to_string(std::get<0>(info.param)) + "_W" +
                                  std::to_string(std::get<1>(info.param)) +
                                  (std::get<2>(info.param) == at::kFloat ? "_f32" : "_bf16");
                         });

TEST(GegluCudaLayout, MisalignedViewAndBatchedRows) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::NoGradGuard no_grad;
  const at::Tensor base = at::randn({2 * 3 * 2 * 12 + 1}, at::kCUDA);
  const at::Tensor view = base.narrow(0, 1, 2 * 3 * 2 * 12).view({2, 3, 2 * 12});
  const at::Tensor got = GegluOp({view}, OpImpl::kCuda);
  EXPECT_EQ(got.sizes(), at::IntArrayRef({2, 3, 12}));
  EXPECT_LE(RelativeError(got, GegluOp({view}, OpImpl::kReference)), 1e-6);
}

TEST(GegluCudaChecks, RefusesGradientsAndOddWidths) {
  GRIFFIN_REQUIRE_CUDA();
  const at::Tensor x = at::randn({2, 8}, at::kCUDA).requires_grad_(true);
  EXPECT_THROW(GegluOp({x}, OpImpl::kCuda), c10::Error);
  EXPECT_THROW(GegluOp({at::randn({2, 7}, at::kCUDA)}, OpImpl::kCuda), c10::Error);
}

}  // namespace
}  // namespace griffin
