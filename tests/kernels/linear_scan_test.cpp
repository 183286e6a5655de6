// CPU tests of the linear scan's reference implementation and argument checks.
#include "core/kernels/linear_scan.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

// Independent float64 loop over raw memory: the oracle for the ATen reference itself.
at::Tensor ScanFloat64(const at::Tensor& a, const at::Tensor& x, const at::Tensor* h0) {
  const at::Tensor ad = a.to(at::kDouble).contiguous();
  const at::Tensor xd = x.to(at::kDouble).contiguous();
  const int64_t B = a.size(0), T = a.size(1), D = a.size(2);
  at::Tensor y = at::empty({B, T, D}, ad.options());
  const double* pa = ad.data_ptr<double>();
  const double* px = xd.data_ptr<double>();
  double* py = y.data_ptr<double>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t d = 0; d < D; ++d) {
      double h = h0 != nullptr ? h0->index({b, d}).item<double>() : 0.0;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t i = (b * T + t) * D + d;
        h = pa[i] * h + px[i];
        py[i] = h;
      }
    }
  }
  return y;
}

// Decays in (0.5, 1) as the RG-LRU produces them, inputs of both signs, never all-zero.
std::pair<at::Tensor, at::Tensor> RandomInputs(int64_t B, int64_t T, int64_t D, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor a = 0.5 + 0.5 * at::rand({B, T, D}, gen, at::kFloat);
  at::Tensor x = at::randn({B, T, D}, gen, at::kFloat);
  return {a, x};
}

TEST(LinearScanReference, MatchesFloat64LoopOnAwkwardSizes) {
  for (auto [B, T, D] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 1, 1}, {2, 127, 3}, {3, 129, 130}, {1, 1000, 17}}) {
    auto [a, x] = RandomInputs(B, T, D, 1000 * T + D);
    const LinearScanResult r = LinearScan(a, x, std::nullopt, OpImpl::kReference);
    const at::Tensor want = ScanFloat64(a, x, nullptr);
    EXPECT_LE(RelativeError(r.y, want), 1e-5) << B << "x" << T << "x" << D;
    EXPECT_LE(RelativeError(r.h_last, want.select(1, T - 1)), 1e-5);
    EXPECT_EQ(r.y.scalar_type(), at::kFloat);
    EXPECT_EQ(r.h_last.scalar_type(), at::kFloat);
  }
}

TEST(LinearScanReference, InitialStateContinuesAChunkedScan) {
  auto [a, x] = RandomInputs(2, 300, 40, 7);
  const LinearScanResult whole = LinearScan(a, x, std::nullopt, OpImpl::kReference);
  const LinearScanResult first =
      LinearScan(a.narrow(1, 0, 113), x.narrow(1, 0, 113), std::nullopt, OpImpl::kReference);
  const LinearScanResult second =
      LinearScan(a.narrow(1, 113, 187), x.narrow(1, 113, 187), first.h_last, OpImpl::kReference);
  EXPECT_LE(RelativeError(at::cat({first.y, second.y}, 1), whole.y), 1e-6);
  EXPECT_LE(RelativeError(second.h_last, whole.h_last), 1e-6);
}

// The reference's autograd is the oracle of the CUDA backward: its gradients for a, x and h0,
// through y and h_last, against central differences in fp64.
TEST(LinearScanReference, GradientsMatchFiniteDifferencesInFloat64) {
  auto [a32, x32] = RandomInputs(2, 70, 3, 11);
  at::Tensor a = a32.to(at::kDouble), x = x32.to(at::kDouble);
  at::Tensor h0 = at::randn({2, 3}, at::kDouble);
  const at::Tensor wy = at::randn(a.sizes(), at::kDouble);
  const at::Tensor wh = at::randn(h0.sizes(), at::kDouble);
  testing::ExpectFiniteDifferenceGradients(
      [&] {
        const LinearScanResult r = LinearScan(a, x, h0, OpImpl::kReference);
        return (r.y * wy).sum() + (r.h_last * wh).sum();
      },
      {&a, &x, &h0});
}

TEST(LinearScanReference, KeepsStateInFloat32ForBFloat16Inputs) {
  // a = 1 - 2^-8 is exact in bf16. With x = 1 the state approaches 1 / (1 - a) = 256; a bf16
  // accumulator stalls near 128, where its spacing (1.0) swallows the increments 1 - h / 256.
  const at::Tensor a = at::full({1, 1000, 4}, 1.0 - 1.0 / 256, at::kBFloat16);
  const at::Tensor x = at::ones({1, 1000, 4}, at::kBFloat16);
  const LinearScanResult r = LinearScan(a, x, std::nullopt, OpImpl::kReference);
  const double a_rounded = a.index({0, 0, 0}).item<double>();
  const double want = (1 - std::pow(a_rounded, 1000)) / (1 - a_rounded);
  EXPECT_EQ(r.y.scalar_type(), at::kBFloat16);
  EXPECT_NEAR(r.h_last.index({0, 0}).item<double>(), want, 1e-3 * want);
}

TEST(LinearScanChecks, RejectsBadArgumentsWithClearErrors) {
  const at::Tensor a = at::rand({2, 5, 3});
  auto expect_error = [](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(
      [&] { LinearScan(a.flatten(0, 1), a.flatten(0, 1), std::nullopt, OpImpl::kReference); },
      "must be [batch, seq_len, dim]");
  expect_error(
      [&] {
        LinearScan(a, at::rand({2, 4, 3}), std::nullopt, OpImpl::kReference);
      },
      "must have the shape of a");
  expect_error([&] { LinearScan(a, a.to(at::kDouble), std::nullopt, OpImpl::kReference); },
               "same dtype");
  expect_error(
      [&] { LinearScan(a.to(at::kHalf), a.to(at::kHalf), std::nullopt, OpImpl::kReference); },
      "float32, bfloat16 or float64");
  expect_error(
      [&] {
        LinearScan(a, a, at::zeros({2, 4}), OpImpl::kReference);
      },
      "h0 must be [batch, dim]");
  expect_error(
      [&] {
        LinearScan(a, a, at::zeros({2, 3}, at::kDouble), OpImpl::kReference);
      },
      "h0 must be float32");
  if (OpImplBuilt(OpImpl::kCuda)) {
    expect_error([&] { LinearScan(a, a, std::nullopt, OpImpl::kCuda); },
                 "must be on a CUDA device");
  } else {
    expect_error([&] { LinearScan(a, a, std::nullopt, OpImpl::kCuda); }, "not in this build");
  }
}

TEST(OpImplNames, RoundTripAndRejectUnknown) {
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    EXPECT_EQ(ParseOpImpl(OpImplName(impl)), impl);
  }
  EXPECT_THROW(ParseOpImpl("triton"), std::invalid_argument);
}

}  // namespace
}  // namespace griffin
