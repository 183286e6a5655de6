// The CUDA linear scan against the ATen reference on random inputs of awkward sizes, forward and
// backward (gradients for a, x and h0 through y and h_last), the backward against finite
// differences in fp64, and the determinism of both.
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

struct Inputs {
  at::Tensor a, x;
  std::optional<at::Tensor> h0;
};

// Decays in (0.5, 1), with about 1% zeros: the resets the RG-LRU makes at document starts.
Inputs RandomInputs(const Case& c) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(c.batch * 7919 + c.seq_len * 31 + c.dim);
  const at::Tensor decay = 0.5 + 0.5 * at::rand({c.batch, c.seq_len, c.dim}, gen);
  Inputs in;
  in.a = at::where(at::rand({c.batch, c.seq_len, c.dim}, gen) < 0.01, 0.0, decay).to(c.dtype);
  in.x = at::randn({c.batch, c.seq_len, c.dim}, gen).to(c.dtype);
  if (c.with_h0) in.h0 = at::randn({c.batch, c.dim}, gen).to(StateType(c.dtype));
  return in;
}

// Gradients of sum(y * wy) + sum(h_last * wh) for a, x and (when given) h0, by `impl`, the inputs
// on `device`. Returns them in that order, on the CPU.
std::vector<at::Tensor> Gradients(const Inputs& in, OpImpl impl, const at::Device& device) {
  at::Tensor a = in.a.to(device).detach().requires_grad_(true);
  at::Tensor x = in.x.to(device).detach().requires_grad_(true);
  std::optional<at::Tensor> h0;
  if (in.h0) h0 = in.h0->to(device).detach().requires_grad_(true);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
  const at::Tensor wy = at::randn(in.a.sizes(), gen).to(device);
  const at::Tensor wh = at::randn({in.a.size(0), in.a.size(2)}, gen).to(device);
  const LinearScanResult r = LinearScan(a, x, h0, impl);
  ((r.y.to(at::kFloat) * wy).sum() + (r.h_last.to(at::kFloat) * wh).sum()).backward();
  std::vector<at::Tensor> grads = {a.grad().cpu(), x.grad().cpu()};
  if (h0) grads.push_back(h0->grad().cpu());
  return grads;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.batch << "x" << c.seq_len << "x" << c.dim << " " << DTypeTag(c.dtype)
      << (c.with_h0 ? " h0" : "");
}

class LinearScanCuda : public ::testing::TestWithParam<Case> {};

TEST_P(LinearScanCuda, MatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  const auto [a, x, h0] = RandomInputs(c);
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

// The reference's backward is autograd over one ATen step per token on the CPU: the largest case
// (1 x 16384 x 2560) is left to the forward test, the determinism test and the benchmarks.
TEST_P(LinearScanCuda, BackwardMatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  if (c.batch * c.seq_len * c.dim > (int64_t{4} << 20)) GTEST_SKIP() << "reference too slow";
  const Inputs in = RandomInputs(c);
  const std::vector<at::Tensor> ref = Gradients(in, OpImpl::kReference, at::kCPU);
  const std::vector<at::Tensor> got = Gradients(in, OpImpl::kCuda, at::kCUDA);
  const char* names[] = {"a", "x", "h0"};
  ASSERT_EQ(got.size(), ref.size());
  for (size_t k = 0; k < ref.size(); ++k) {
    EXPECT_EQ(got[k].scalar_type(), ref[k].scalar_type()) << names[k];
    EXPECT_LE(RelativeError(got[k], ref[k]), c.dtype == at::kBFloat16 ? 1e-2 : 1e-5)
        << "d " << names[k];
  }
}

// The kernel's own gradients in fp64 against central differences of its forward, through y and
// h_last: 2 x 150 x 6 crosses two chunk boundaries (64 steps) and D = 6 takes the element path.
TEST(LinearScanCudaGradients, MatchFiniteDifferencesInFloat64) {
  GRIFFIN_REQUIRE_CUDA();
  Inputs in = RandomInputs({2, 150, 6, at::kDouble, true});
  at::Tensor a = in.a.cuda(), x = in.x.cuda(), h0 = in.h0->cuda();
  const at::Tensor wy = at::randn(a.sizes(), a.options());
  const at::Tensor wh = at::randn(h0.sizes(), h0.options());
  testing::ExpectFiniteDifferenceGradients(
      [&] {
        const LinearScanResult r = LinearScan(a, x, h0, OpImpl::kCuda);
        return (r.y * wy).sum() + (r.h_last * wh).sum();
      },
      {&a, &x, &h0});
}

// No steps: h_last is h0, so dL/dh0 is dL/dh_last.
TEST(LinearScanCudaGradients, EmptySequencePassesTheStateGradient) {
  GRIFFIN_REQUIRE_CUDA();
  const at::Tensor a = at::rand({2, 0, 5}, at::kCUDA).requires_grad_(true);
  const at::Tensor x = at::rand({2, 0, 5}, at::kCUDA).requires_grad_(true);
  const at::Tensor h0 = at::randn({2, 5}, at::kCUDA).requires_grad_(true);
  const at::Tensor wh = at::randn({2, 5}, at::kCUDA);
  (LinearScan(a, x, h0, OpImpl::kCuda).h_last * wh).sum().backward();
  EXPECT_TRUE(at::equal(h0.grad(), wh));
  EXPECT_EQ(a.grad().sizes(), a.sizes());
}

TEST(LinearScanCudaGradients, AreDeterministic) {
  GRIFFIN_REQUIRE_CUDA();
  GRIFFIN_SKIP_ON_SMALL_GRID();
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    const Inputs in = RandomInputs({2, 16384, 2560, dt, true});
    const std::vector<at::Tensor> first = Gradients(in, OpImpl::kCuda, at::kCUDA);
    const std::vector<at::Tensor> again = Gradients(in, OpImpl::kCuda, at::kCUDA);
    for (size_t k = 0; k < first.size(); ++k) {
      EXPECT_TRUE(at::equal(first[k], again[k])) << DTypeTag(dt) << " gradient " << k;
    }
  }
}

TEST(LinearScanCudaLayout, AcceptsStridedViews) {
  GRIFFIN_REQUIRE_CUDA();
  // A [B, D, T] tensor transposed to [B, T, D] has channel stride T: the wrapper must copy.
  const at::Tensor a = (0.5 + 0.5 * at::rand({2, 33, 77}, at::kCUDA)).transpose(1, 2);
  const at::Tensor x = at::randn({2, 33, 77}, at::kCUDA).transpose(1, 2);
  const LinearScanResult got = LinearScan(a, x, std::nullopt, OpImpl::kCuda);
  const LinearScanResult ref = LinearScan(a, x, std::nullopt, OpImpl::kReference);
  EXPECT_LE(RelativeError(got.y, ref.y), 1e-5);
  // The backward reads the same strided views.
  const std::vector<at::Tensor> ref_grads =
      Gradients({a.cpu(), x.cpu(), std::nullopt}, OpImpl::kReference, at::kCPU);
  const std::vector<at::Tensor> got_grads =
      Gradients({a, x, std::nullopt}, OpImpl::kCuda, at::kCUDA);
  for (size_t k = 0; k < 2; ++k) EXPECT_LE(RelativeError(got_grads[k], ref_grads[k]), 1e-5) << k;
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
  GRIFFIN_SKIP_ON_SMALL_GRID();
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
    if (!testing::InTestGrid(b * t * d)) continue;
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
