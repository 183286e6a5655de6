// Data-parallel training's collectives on NCCL (eval/train/data_parallel.h), in a world of one on
// the H200: the group forms on the launch's store, the Reducer's bucketed all-reduce leaves each
// gradient what the backward made (the mean over one rank), and the broadcasts and averages the
// trainer uses return their input. Several ranks run in tests/cli/test_run_ranks.py (Gloo, CPU)
// and in the multi-GPU runs results/README.md lists.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>

#include "core/runtime/distributed.h"
#include "eval/train/data_parallel.h"
#include "test_util.h"

namespace griffin::eval {
namespace {

struct TwoLayers {
  at::Tensor w1, b1, w2;

  explicit TwoLayers(uint64_t seed) {
    at::manual_seed(seed);
    const auto f = at::TensorOptions(at::kFloat).device(at::kCUDA);
    // Sizes that fill more than one of the Reducer's first 1 MiB buckets.
    w1 = at::randn({640, 512}, f).requires_grad_();
    b1 = at::randn({640}, f).requires_grad_();
    w2 = at::randn({7, 640}, f).requires_grad_();
  }
  std::vector<at::Tensor> Params() const { return {w1, b1, w2}; }
  at::Tensor Loss(const at::Tensor& x) const {
    return at::linear(at::gelu(at::linear(x, w1, b1)), w2).square().mean();
  }
};

distributed::Launch WorldOfOne() {
  distributed::Launch l;
  l.launcher = "torchrun";
  return l;  // no MASTER_ADDR: the store lives in the process
}

TEST(GradientSyncNccl, AWorldOfOneAllReducesToTheBackwardsGradients) {
  GRIFFIN_REQUIRE_CUDA();
  const auto store = distributed::Store::Connect(WorldOfOne(), std::chrono::seconds(60));
  const auto group = distributed::Group::Create(*store, /*cuda=*/true);
  ASSERT_EQ(group->size(), 1);
  ASSERT_TRUE(group->cuda());

  TwoLayers synced(3), alone(3);
  GradientSync sync(*group, synced.Params());
  for (int step = 0; step < 3; ++step) {  // the buckets are rebuilt after the first step
    const at::Tensor x = at::randn({33, 512}, at::TensorOptions(at::kFloat).device(at::kCUDA));
    sync.BeforeForward();
    const at::Tensor loss = synced.Loss(x);
    sync.BeforeBackward();
    loss.backward();
    alone.Loss(x).backward();
    const std::vector<at::Tensor> a = synced.Params(), b = alone.Params();
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_TRUE(a[i].grad().defined()) << "step " << step << " param " << i;
      EXPECT_TRUE(at::equal(a[i].grad(), b[i].grad())) << "step " << step << " param " << i;
      a[i].mutable_grad().zero_();
      b[i].mutable_grad().zero_();
    }
  }

  at::Tensor loss = at::full({1}, 2.5, at::TensorOptions(at::kFloat).device(at::kCUDA));
  sync.Average(loss);
  EXPECT_EQ(loss.item<float>(), 2.5f);
  const at::Tensor before = synced.w2.detach().clone();
  sync.Broadcast({synced.w2.detach()});
  EXPECT_TRUE(at::equal(before, synced.w2.detach()));
  EXPECT_TRUE(sync.Agree(true));
  EXPECT_FALSE(sync.Agree(false));
}

}  // namespace
}  // namespace griffin::eval
