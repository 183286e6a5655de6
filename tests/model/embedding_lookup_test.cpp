// The capture-safe embedding lookup against at::embedding: the same rows forward, the same
// gradient backward (ids repeated, awkward shapes, float32 and bf16 weights).
#include "core/model/embedding_lookup.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/runtime/captured_step.h"

namespace griffin {
namespace {

TEST(EmbeddingLookupCapturable, MatchesAtenEmbeddingForwardAndBackward) {
  const c10::InferenceMode not_inference(false);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dtype));
    const at::Tensor base = at::randn({37, 5}, gen, at::kFloat).to(dtype);
    // Every id of a small vocabulary many times over, in a [3, 41] batch.
    const at::Tensor ids = at::randint(0, 37, {3, 41}, gen, at::kLong);
    const at::Tensor upstream = at::randn({3, 41, 5}, gen, at::kFloat).to(dtype);
    const at::Tensor a = base.clone().set_requires_grad(true);
    const at::Tensor b = base.clone().set_requires_grad(true);
    const at::Tensor ya = EmbeddingLookupCapturable(a, ids);
    const at::Tensor yb = at::embedding(b, ids);
    ASSERT_EQ(ya.sizes(), yb.sizes());
    EXPECT_TRUE(at::equal(ya, yb));
    (ya.to(at::kFloat) * upstream.to(at::kFloat)).sum().backward();
    (yb.to(at::kFloat) * upstream.to(at::kFloat)).sum().backward();
    const double tol = dtype == at::kFloat ? 1e-6 : 2e-2;
    EXPECT_TRUE(at::allclose(a.grad().to(at::kFloat), b.grad().to(at::kFloat), tol, tol))
        << (a.grad().to(at::kFloat) - b.grad().to(at::kFloat)).abs().max().item<double>();
    EXPECT_EQ(a.grad().scalar_type(), dtype);
  }
}

TEST(EmbeddingLookupCapturable, NothingIsCapturedOnTheCpu) {
  EXPECT_FALSE(CapturingOn(c10::Device(c10::kCPU)));
}

}  // namespace
}  // namespace griffin
