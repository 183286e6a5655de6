// The trainer's fused AdamW on the CPU: the same updates and clipping as LibTorch's AdamW, and a
// restored optimizer continues exactly as one that never stopped.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "eval/adamw_reference.h"
#include "eval/train/adamw.h"

namespace griffin::eval {
namespace {

TEST(FusedAdamW, MatchesLibTorchAdamWWithClipping) {
  checks::ExpectAdamWMatchesLibTorch(c10::Device(c10::kCPU));
}

TEST(FusedAdamW, RestoredContinuesLikeOneThatNeverStopped) {
  const c10::InferenceMode not_inference(false);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor init = at::randn({5, 4}, gen, at::kFloat);
  std::vector<at::Tensor> grads;
  for (int i = 0; i < 6; ++i) grads.push_back(at::randn({5, 4}, gen, at::kFloat));
  const auto run = [&](at::Tensor& p, AdamW& opt, int from, int to) {
    for (int i = from; i < to; ++i) {
      opt.ZeroGrad();
      p.mutable_grad() = grads[i].clone();
      opt.ClipGradNorm(1.0);
      opt.SetRate(0.01);
      opt.Step();
    }
  };
  at::Tensor straight = init.clone().set_requires_grad(true);
  AdamW a({{{straight}, 0.1}}, 0.9, 0.999, 1e-8);
  run(straight, a, 0, 6);

  at::Tensor first = init.clone().set_requires_grad(true);
  AdamW b({{{first}, 0.1}}, 0.9, 0.999, 1e-8);
  run(first, b, 0, 3);
  at::Tensor second = first.detach().clone().set_requires_grad(true);
  AdamW c({{{second}, 0.1}}, 0.9, 0.999, 1e-8);
  c.Restore(3, {b.exp_avg()[0].clone()}, {b.exp_avg_sq()[0].clone()});
  run(second, c, 3, 6);
  EXPECT_TRUE(at::equal(second, straight));
  // Without the moments the result differs: the test can tell.
  at::Tensor bare = first.detach().clone().set_requires_grad(true);
  AdamW d({{{bare}, 0.1}}, 0.9, 0.999, 1e-8);
  run(bare, d, 3, 6);
  EXPECT_FALSE(at::equal(bare, straight));
}

TEST(FusedAdamW, RefusesParametersItCannotUpdate) {
  const c10::InferenceMode not_inference(false);
  EXPECT_THROW(AdamW({{{at::zeros({2}, at::kFloat)}, 0.0}}, 0.9, 0.999, 1e-8),
               std::invalid_argument);  // no requires_grad
  EXPECT_THROW(
      AdamW({{{at::zeros({2}, at::kDouble).set_requires_grad(true)}, 0.0}}, 0.9, 0.999, 1e-8),
      std::invalid_argument);
}

}  // namespace
}  // namespace griffin::eval
