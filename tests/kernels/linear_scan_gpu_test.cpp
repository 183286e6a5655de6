// The CUDA linear scan against the ATen reference on random inputs of awkward sizes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/kernels/linear_scan.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

at::ScalarType StateType(at::ScalarType input) {
  return input == at::kDouble ? at::kDouble : at::kFloat;
}

const char* DTypeTag(at::ScalarType t) {
  return t == at::kFloat ? "f32" : t == at::kBFloat16 ? "bf16" : "f64";
}

struct Case {
  int64_t batch, seq_len, dim;
  at::ScalarType dtype;
  bool with_h0;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.batch << "x" << c.seq_len << "x" << c.dim << " " << DTypeTag(c.dtype)
      << (c.with_h0 ? " h0" : "");
}

class LinearScanCuda : public ::testing::TestWithParam<Case> {};

TEST_P(LinearScanCuda, MatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(c.batch * 7919 + c.seq_len * 31 + c.dim);
  // Decays in (0.5, 1), with about 1% zeros: the resets the RG-LRU makes at document starts.
  const at::Tensor decay = 0.5 + 0.5 * at::rand({c.batch, c.seq_len, c.dim}, gen);
  const at::Tensor a =
      at::where(at::rand({c.batch, c.seq_len, c.dim}, gen) < 0.01, 0.0, decay).to(c.dtype);
  const at::Tensor x = at::randn({c.batch, c.seq_len, c.dim}, gen).to(c.dtype);
  std::optional<at::Tensor> h0;
  if (c.with_h0) h0 = at::randn({c.batch, c.dim}, gen).to(StateType(c.dtype));

  const LinearScanResult ref = LinearScan(a, x, h0, OpImpl::kReference);
  std::optional<at::Tensor> h0_gpu;
  if (h0) h0_gpu = h0->cuda();
  const LinearScanResult got = LinearScan(a.cuda(), x.cuda(), h0_gpu, OpImpl::kCuda);
  ASSERT_EQ(got.y.scalar_type(), c.dtype);
  ASSERT_EQ(got.h_last.scalar_type(), StateType(c.dtype));
  // The state is fp32 in both, so only the output rounding differs for bf16.
  const double tol = c.dtype == at::kBFloat16 ? 1e-2 : 1e-5;
  EXPECT_LE(RelativeError(got.y, ref.y), tol);
  EXPECT_LE(RelativeError(got.h_last, ref.h_last), 1e-5);
}

TEST(LinearScanCudaLayout, AcceptsStridedViews) {
  GRIFFIN_REQUIRE_CUDA();
  // A [B, D, T] tensor transposed to [B, T, D] has channel stride T: the wrapper must copy.
  const at::Tensor a = (0.5 + 0.5 * at::rand({2, 33, 77}, at::kCUDA)).transpose(1, 2);
  const at::Tensor x = at::randn({2, 33, 77}, at::kCUDA).transpose(1, 2);
  const LinearScanResult got = LinearScan(a, x, std::nullopt, OpImpl::kCuda);
  const LinearScanResult ref = LinearScan(a, x, std::nullopt, OpImpl::kReference);
  EXPECT_LE(RelativeError(got.y, ref.y), 1e-5);
}

// Channels sliced from a wider tensor: strides are whole vectors, so the kernels take their vector
// path, while the last thread's channels run past dim (130 of 132) and take the element path.
TEST(LinearScanCudaLayout, SlicedChannelsMixVectorAndElementAccess) {
  GRIFFIN_REQUIRE_CUDA();
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    const at::Tensor a_wide = (0.5 + 0.5 * at::rand({3, 700, 132}, at::kCUDA)).to(dt);
    const at::Tensor x_wide = at::randn({3, 700, 132}, at::kCUDA).to(dt);
    const at::Tensor a = a_wide.narrow(2, 0, 130), x = x_wide.narrow(2, 0, 130);
    const LinearScanResult got = LinearScan(a, x, std::nullopt, OpImpl::kCuda);
    const LinearScanResult ref = LinearScan(a, x, std::nullopt, OpImpl::kReference);
    EXPECT_LE(RelativeError(got.y, ref.y), dt == at::kBFloat16 ? 1e-2 : 1e-5) << DTypeTag(dt);
    EXPECT_LE(RelativeError(got.h_last, ref.h_last), 1e-5) << DTypeTag(dt);
  }
}

// The look-back walks as far as scheduling lets it, yet every carry is computed as a strict chain
// would: two runs give the same bits.
TEST(LinearScanCudaDeterminism, SameBitsEveryRun) {
  GRIFFIN_REQUIRE_CUDA();
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    const at::Tensor a = (0.5 + 0.5 * at::rand({2, 16384, 2560}, at::kCUDA)).to(dt);
    const at::Tensor x = at::randn({2, 16384, 2560}, at::kCUDA).to(dt);
    const LinearScanResult first = LinearScan(a, x, std::nullopt, OpImpl::kCuda);
    for (int run = 0; run < 3; ++run) {
      const LinearScanResult again = LinearScan(a, x, std::nullopt, OpImpl::kCuda);
      EXPECT_TRUE(at::equal(first.y, again.y)) << DTypeTag(dt) << " run " << run;
      EXPECT_TRUE(at::equal(first.h_last, again.h_last)) << DTypeTag(dt) << " run " << run;
    }
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [b, t, d] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 1, 1},
                                                                           {1, 127, 2560},
                                                                           {2, 129, 100},
                                                                           {3, 1000, 130},
                                                                           {1, 4097, 257},
                                                                           {8, 33, 4096},
                                                                           {2, 20000, 64},
                                                                           {1, 16384, 2560}}) {
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16, at::kDouble}) {
      for (bool h0 : {false, true}) cases.push_back({b, t, d, dt, h0});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, LinearScanCuda, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const Case& c = info.param;
                           return "B" + std::to_string(c.batch) + "_T" + std::to_string(c.seq_len) +
                                  "_D" + std::to_string(c.dim) + "_" + DTypeTag(c.dtype) +
                                  (c.with_h0 ? "_h0" : "");
                         });

}  // namespace
}  // namespace griffin
