// The fused RG-LRU kernels against the ATen reference on random inputs of awkward sizes (forward
// and backward, resets at random points, initial states, fp32 / bf16 / fp64), the backward against
// finite differences in fp64, and its determinism. Skips without a GPU.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "core/kernels/rglru_scan.h"
#include "kernels/rglru_test_inputs.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RandomRgLruArgs;
using testing::RelativeError;

struct Case {
  int64_t batch, seq_len, dim;
  at::ScalarType dtype;
  bool with_h0;
};

std::string Name(const Case& c) {
  const char* tag = c.dtype == at::kFloat ? "f32" : c.dtype == at::kBFloat16 ? "bf16" : "f64";
  return "B" + std::to_string(c.batch) + "_T" + std::to_string(c.seq_len) + "_D" +
         std::to_string(c.dim) + "_" + tag + (c.with_h0 ? "_h0" : "");
}

void PrintTo(const Case& c, std::ostream* os) { *os << Name(c); }

double Tolerance(at::ScalarType t) { return t == at::kBFloat16 ? 1e-2 : 1e-5; }

RgLruScanArgs Args(const Case& c, const at::Device& device) {
  return RandomRgLruArgs(c.batch, c.seq_len, c.dim, c.dtype,
                         c.batch * 7919 + c.seq_len * 31 + c.dim, c.with_h0, 0.01, device);
}

// Where the reference runs: on the GPU, except on the small grid (compute-sanitizer), where each
// of its launches, several per time step, is instrumented (memcheck spent 100 s on one
// 20000-step case and the binary ran out of 370 s under every tool); on the CPU it takes a
// second. Its arithmetic is the same there: float32 whatever the input type.
at::Device ReferenceDevice() { return testing::SmallGrid() ? at::kCPU : at::kCUDA; }

class RgLruCuda : public ::testing::TestWithParam<Case> {};

TEST_P(RgLruCuda, ForwardMatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  RgLruScanArgs a = Args(c, at::kCUDA);
  RgLruScanArgs r = Args(c, ReferenceDevice());
  const RgLruScanResult ref = RgLruScan(r, OpImpl::kReference);
  const RgLruScanResult got = RgLruScan(a, OpImpl::kCuda);
  ASSERT_EQ(got.y.scalar_type(), c.dtype);
  EXPECT_LE(RelativeError(got.y, ref.y), Tolerance(c.dtype));
  EXPECT_LE(RelativeError(got.h_last, ref.h_last), 1e-5);
  // The recurrent block's product with its gelu branch, fused into the store.
  a.gelu_gate = at::randn_like(a.x);
  r.gelu_gate = a.gelu_gate->to(r.x.device());
  EXPECT_LE(RelativeError(RgLruScan(a, OpImpl::kCuda).y, RgLruScan(r, OpImpl::kReference).y),
            Tolerance(c.dtype));
}

TEST_P(RgLruCuda, BackwardMatchesReference) {
  GRIFFIN_REQUIRE_CUDA();
  const Case c = GetParam();
  std::vector<at::Tensor> grads[2];
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    RgLruScanArgs a = Args(c, impl == OpImpl::kCuda ? at::Device(at::kCUDA) : ReferenceDevice());
    std::vector<at::Tensor*> inputs = {&a.x, &a.gate_x, &a.gate_a, &a.a_param};
    if (a.h0) inputs.push_back(&*a.h0);
    for (at::Tensor* t : inputs) t->set_requires_grad(true);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
    const at::Tensor weights = at::randn(a.x.sizes(), gen).to(a.x.device());
    (RgLruScan(a, impl).y.to(at::kFloat) * weights).sum().backward();
    for (at::Tensor* t : inputs) grads[impl == OpImpl::kCuda].push_back(t->grad());
  }
  const char* names[] = {"x", "gate_x", "gate_a", "a_param", "h0"};
  for (size_t k = 0; k < grads[0].size(); ++k) {
    EXPECT_EQ(grads[1][k].scalar_type(), grads[0][k].scalar_type()) << names[k];
    EXPECT_LE(RelativeError(grads[1][k], grads[0][k]), Tolerance(c.dtype)) << "d " << names[k];
  }
}

// A left-padded batch (core/runtime/generate.cpp, LeftPadBatch) gives its pads position -1: to the
// recurrence they are ordinary steps (only position 0 resets), so their outputs and gradients
// must match the reference's too. Rows of 70 and 5 pads, then a document from position 0; 150
// steps cross two chunks, 260 channels a partial tile. (The bf16 kernels once took -1 for their
// own "past the sequence" marker and gave pads the identity.)
TEST(RgLruCudaPositions, LeftPadsAreOrdinarySteps) {
  GRIFFIN_REQUIRE_CUDA();
  const int64_t B = 2, T = 150, D = 260;
  const at::Tensor pads = at::tensor(std::vector<int64_t>{70, 5}).unsqueeze(1);
  const at::Tensor positions = (at::arange(T, at::kLong).unsqueeze(0) - pads).clamp_min(-1);
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    SCOPED_TRACE(dt == at::kFloat ? "f32" : "bf16");
    std::vector<at::Tensor> grads[2];
    at::Tensor y[2];
    for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
      RgLruScanArgs a = RandomRgLruArgs(B, T, D, dt, 4242, false, 0.0, at::kCUDA);
      a.positions = positions.to(at::kCUDA);
      std::vector<at::Tensor*> inputs = {&a.x, &a.gate_x, &a.gate_a, &a.a_param};
      for (at::Tensor* t : inputs) t->set_requires_grad(true);
      auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
      const at::Tensor weights = at::randn(a.x.sizes(), gen).to(at::kCUDA);
      const at::Tensor out = RgLruScan(a, impl).y;
      (out.to(at::kFloat) * weights).sum().backward();
      y[impl == OpImpl::kCuda] = out.detach();
      for (at::Tensor* t : inputs) grads[impl == OpImpl::kCuda].push_back(t->grad());
    }
    const at::Tensor pad_rows = y[0].narrow(1, 0, 70).select(0, 0);
    ASSERT_GT(pad_rows.abs().max().item<double>(), 0.0);  // the reference's pads are not zero
    EXPECT_LE(RelativeError(y[1], y[0]), Tolerance(dt));
    const char* names[] = {"x", "gate_x", "gate_a", "a_param"};
    for (size_t k = 0; k < grads[0].size(); ++k) {
      EXPECT_LE(RelativeError(grads[1][k], grads[0][k]), Tolerance(dt)) << "d " << names[k];
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
                                                                           {2, 20000, 36}}) {
    if (!testing::InTestGrid(b * t * d)) continue;
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
      for (bool h0 : {false, true}) cases.push_back({b, t, d, dt, h0});
    }
  }
  cases.push_back({2, 300, 70, at::kDouble, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, RgLruCuda, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return Name(info.param);
                         });

// The kernel's own gradients in fp64 against central differences of the kernel's forward:
// 2 x 70 x 6 crosses a chunk boundary (64 steps) and D = 6 takes the unvectorised path.
TEST(RgLruCudaGradients, MatchFiniteDifferencesInFloat64) {
  GRIFFIN_REQUIRE_CUDA();
  testing::ExpectGradientsMatchFiniteDifferences(
      RandomRgLruArgs(2, 70, 6, at::kDouble, 17, true, 0.03, at::kCUDA), OpImpl::kCuda);
}

// The forward's carries pass through the look-back, however far scheduling lets it walk: two
// runs give the same bits.
TEST(RgLruCudaDeterminism, ForwardSameBitsEveryRun) {
  GRIFFIN_REQUIRE_CUDA();
  GRIFFIN_SKIP_ON_SMALL_GRID();
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    RgLruScanArgs a = RandomRgLruArgs(2, 16384, 2560, dt, 21, true, 0.001, at::kCUDA);
    a.gelu_gate = at::randn_like(a.x);
    const RgLruScanResult first = RgLruScan(a, OpImpl::kCuda);
    const RgLruScanResult again = RgLruScan(a, OpImpl::kCuda);
    EXPECT_TRUE(at::equal(first.y, again.y)) << (dt == at::kFloat ? "f32" : "bf16");
    EXPECT_TRUE(at::equal(first.h_last, again.h_last)) << (dt == at::kFloat ? "f32" : "bf16");
  }
}

TEST(RgLruCudaGradients, AreDeterministic) {
  GRIFFIN_REQUIRE_CUDA();
  GRIFFIN_SKIP_ON_SMALL_GRID();
  std::vector<at::Tensor> runs[2];
  for (int run = 0; run < 2; ++run) {
    RgLruScanArgs a = RandomRgLruArgs(3, 5000, 300, at::kFloat, 8, true, 0.001, at::kCUDA);
    std::vector<at::Tensor*> inputs = {&a.x, &a.gate_x, &a.gate_a, &a.a_param, &*a.h0};
    for (at::Tensor* t : inputs) t->set_requires_grad(true);
    RgLruScan(a, OpImpl::kCuda).y.sum().backward();
    for (at::Tensor* t : inputs) runs[run].push_back(t->grad());
  }
  for (size_t k = 0; k < runs[0].size(); ++k) EXPECT_TRUE(at::equal(runs[0][k], runs[1][k])) << k;
}

TEST(RgLruCudaChecks, WrongDeviceIsAClearError) {
  GRIFFIN_REQUIRE_CUDA();
  RgLruScanArgs a = RandomRgLruArgs(1, 4, 8, at::kFloat, 1, false, 0.0, at::kCUDA);
  a.a_param = a.a_param.cpu();
  testing::ExpectErrorContaining([&] { RgLruScan(a, OpImpl::kCuda); }, {"a_param is on cpu"});
}

}  // namespace
}  // namespace griffin
