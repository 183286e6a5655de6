// CPU tests of the RG-LRU op's ATen reference: the recurrence against an independent loop, its
// gradients against finite differences in float64, the fused gelu product, argument checks.
#include "core/kernels/rglru_scan.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/rglru_test_inputs.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RandomRgLruArgs;
using testing::RelativeError;

// The recurrence written out per element in float64 (no ATen vector ops): the oracle.
at::Tensor LoopRgLru(const RgLruScanArgs& a) {
  const at::Tensor x = a.x.to(at::kDouble), gx = a.gate_x.to(at::kDouble),
                   ga = a.gate_a.to(at::kDouble), ap = a.a_param.to(at::kDouble);
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  at::Tensor y = at::empty({B, T, D}, at::kDouble);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t d = 0; d < D; ++d) {
      double h = a.h0 ? (*a.h0)[b][d].item<double>() : 0.0;
      const double softplus = std::log1p(std::exp(ap[d].item<double>()));
      for (int64_t t = 0; t < T; ++t) {
        const double i = 1.0 / (1.0 + std::exp(-gx[b][t][d].item<double>()));
        const double r = 1.0 / (1.0 + std::exp(-ga[b][t][d].item<double>()));
        const double log_a = -8.0 * r * softplus;
        const bool reset = a.positions[b][t].item<int64_t>() == 0;
        const double decay = reset ? 0.0 : std::exp(log_a);
        const double mult = reset ? 1.0 : std::sqrt(1.0 - std::exp(2.0 * log_a));
        h = decay * h + mult * i * x[b][t][d].item<double>();
        y[b][t][d] = h;
      }
    }
  }
  return y;
}

TEST(RgLruReference, MatchesAnElementwiseLoop) {
  for (bool h0 : {false, true}) {
    const RgLruScanArgs a = RandomRgLruArgs(2, 37, 5, at::kFloat, 11, h0, 0.1, at::kCPU);
    const RgLruScanResult r = RgLruScan(a, OpImpl::kReference);
    const at::Tensor want = LoopRgLru(a);
    EXPECT_LE(RelativeError(r.y, want), 1e-6);
    EXPECT_LE(RelativeError(r.h_last, want.select(1, 36)), 1e-6);
    EXPECT_EQ(r.h_last.scalar_type(), at::kFloat);
  }
}

TEST(RgLruReference, FusedGeluProductEqualsTheProduct) {
  RgLruScanArgs a = RandomRgLruArgs(1, 20, 8, at::kFloat, 3, true, 0.0, at::kCPU);
  const at::Tensor h = RgLruScan(a, OpImpl::kReference).y;
  a.gelu_gate = at::randn({1, 20, 8});
  const at::Tensor y = RgLruScan(a, OpImpl::kReference).y;
  EXPECT_LE(RelativeError(y, h * at::gelu(*a.gelu_gate, "tanh")), 1e-6);
}

// Loss = sum(y * weights); gradients by autograd vs central differences, all in float64.
TEST(RgLruReference, GradientsMatchFiniteDifferences) {
  testing::ExpectGradientsMatchFiniteDifferences(
      RandomRgLruArgs(2, 9, 3, at::kDouble, 5, true, 0.15, at::kCPU), OpImpl::kReference);
}

TEST(RgLruChecks, RejectsBadArgumentsWithClearErrors) {
  using testing::ExpectErrorContaining;
  const RgLruScanArgs good = RandomRgLruArgs(2, 4, 3, at::kFloat, 1, true, 0.0, at::kCPU);
  auto with = [&](auto edit) {
    RgLruScanArgs a = good;
    edit(a);
    return [a] { RgLruScan(a, OpImpl::kReference); };
  };
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.x = a.x[0]; }), {"x must be [batch"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.gate_x = a.gate_x.narrow(2, 0, 2); }),
                        {"gate_x", "shape of x"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.gate_a = a.gate_a.to(at::kDouble); }),
                        {"gate_a", "dtype"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.a_param = at::zeros({4}); }),
                        {"a_param must be [3]"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.positions = a.positions.to(at::kInt); }),
                        {"positions must be int64"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) { a.positions = a.positions[0]; }),
                        {"positions must be [batch, seq_len]"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) {
                          a.h0 = at::zeros({2, 3}, at::kBFloat16);
                        }),
                        {"h0 must be float32"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) {
                          a.h0 = at::zeros({3, 3});
                        }),
                        {"h0 must be [batch, dim]"});
  ExpectErrorContaining(with([](RgLruScanArgs& a) {
                          a.x = a.x.to(at::kHalf);
                          a.gate_x = a.gate_x.to(at::kHalf);
                          a.gate_a = a.gate_a.to(at::kHalf);
                        }),
                        {"float32, bfloat16 or float64"});
  if (OpImplBuilt(OpImpl::kCuda)) {
    ExpectErrorContaining([&] { RgLruScan(good, OpImpl::kCuda); }, {"CUDA device"});
  }
}

}  // namespace
}  // namespace griffin
