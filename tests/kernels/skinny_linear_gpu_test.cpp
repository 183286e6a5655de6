// The skinny matrix product against at::linear (cuBLAS) on random inputs of awkward sizes: one to
// four rows, rows split over 1, 2, 4 or 8 warps (3000 wide: two slices, the last one short), widths
// that are no multiple of the 16-byte vector (the element path), the decode step's real shapes up
// to the 256000 x 2048 LM head, with and without a bias, a misaligned view of x, float32 and
// bfloat16.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "core/kernels/skinny_linear.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

using Case = std::tuple<int64_t, int64_t, int64_t, bool, at::ScalarType>;  // rows, in, out, bias

class SkinnyLinearCuda : public ::testing::TestWithParam<Case> {};

TEST_P(SkinnyLinearCuda, MatchesAtenLinear) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::NoGradGuard no_grad;
  // std::get, not a structured binding: clang 14 (the sanitizer build) cannot capture a binding.
  const int64_t rows = std::get<0>(GetParam()), in = std::get<1>(GetParam());
  const int64_t out = std::get<2>(GetParam());
  const bool bias = std::get<3>(GetParam());
  const at::ScalarType dtype = std::get<4>(GetParam());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(rows * 7 + in * 3 + out);
  const auto cuda = [&](const at::Tensor& t) { return t.to(at::kCUDA, dtype); };
  const at::Tensor x = cuda(at::randn({rows, 1, in}, gen));
  const at::Tensor w = cuda(at::randn({out, in}, gen) / std::sqrt(static_cast<double>(in)));
  const at::Tensor b = bias ? cuda(at::randn({out}, gen)) : at::Tensor();
  ASSERT_TRUE(SkinnyLinearFits({x, w, b}));
  const at::Tensor got = SkinnyLinearOp({x, w, b}, OpImpl::kCuda);
  const at::Tensor want = SkinnyLinearOp({x, w, b}, OpImpl::kReference);
  EXPECT_EQ(got.sizes(), want.sizes());
  EXPECT_EQ(got.scalar_type(), dtype);
  EXPECT_LE(RelativeError(got, want), dtype == at::kBFloat16 ? 1e-2 : 1e-5);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [in, out] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {7, 5}, {100, 33}, {2560, 2560}, {2560, 15360}, {7680, 2560}, {2048, 256000}}) {
    if (!testing::InTestGrid(in * out)) continue;
    for (int64_t rows : {1, 3, 4}) {
      for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
        cases.emplace_back(rows, in, out, (in + rows) % 2 == 1, dt);
      }
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const auto& [rows, in, out, bias, dt] = info.param;
  return "M" + std::to_string(rows) + "_K" + std::to_string(in) + "_N" + std::to_string(out) +
         (bias ? "_bias" : "") + (dt == at::kFloat ? "_f32" : "_bf16");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, SkinnyLinearCuda, ::testing::ValuesIn(Cases()), CaseName);

TEST(SkinnyLinearCudaLayout, MisalignedRowsAndRefusals) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::NoGradGuard no_grad;
  // x starting one element into its buffer: no 16-byte loads for it, the element path instead.
  const at::Tensor base = at::randn({2 * 64 + 1}, at::kCUDA);
  const at::Tensor x = base.narrow(0, 1, 2 * 64).view({2, 64});
  const at::Tensor w = at::randn({40, 64}, at::kCUDA);
  EXPECT_LE(RelativeError(SkinnyLinearOp({x, w, {}}, OpImpl::kCuda), at::linear(x, w)), 1e-5);
  // Too many rows, a transposed weight and a gradient are refused, each by name.
  EXPECT_FALSE(SkinnyLinearFits({at::randn({5, 64}, at::kCUDA), w, {}}));
  EXPECT_FALSE(SkinnyLinearFits({x, at::randn({64, 40}, at::kCUDA).t(), {}}));
  EXPECT_THROW(SkinnyLinearOp({at::randn({5, 64}, at::kCUDA), w, {}}, OpImpl::kCuda), c10::Error);
}

}  // namespace
}  // namespace griffin
