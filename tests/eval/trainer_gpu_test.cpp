// The trainer on the GPU in bf16 with the CUDA scan and conv: steps replayed from a captured
// CUDA graph (TrainOptions::graph) end where eager steps end, for every family. Skips without a
// GPU.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "eval/train_graph_check.h"

namespace griffin::eval {
namespace {

class TrainerGpu : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerGpu, GraphStepsEndWhereEagerStepsEnd) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  TrainOptions o;
  o.model = GetParam();
  o.device = "cuda";
  o.dtype = DType::kBFloat16;
  o.ops.scan = OpImpl::kCuda;
  o.ops.conv = OpImpl::kCuda;
  // 96 x 48 = 4608 ids per batch: past the 3072 above which ATen's CUDA embedding backward sorts
  // the ids (which the capture must hold without reading anything back to the host).
  o.batch = 96;
  o.steps = 9;
  o.warmup = 2;
  o.lr = 3e-3;
  o.eval_every = 4;
  o.eval_batches = 1;
  o.seed = 3;
  // Same kernels in the same order; cuBLAS may pick other algorithms under capture.
  checks::ExpectGraphStepsMatchEager(o, 1e-3, /*expect_capture=*/true);
}

INSTANTIATE_TEST_SUITE_P(
    Families, TrainerGpu,
    ::testing::Values(
        "tiny-griffin,width=32,lru_width=32,heads=2,head_dim=16,mlp_width=64,layers=2,pattern=RA,"
        "window=8",
        "tiny-hawk,width=32,lru_width=32,heads=2,mlp_width=64,layers=2",
        "tiny-gemma,width=32,heads=2,head_dim=16,mlp_width=64,layers=2",
        "tiny-griffin,width=32,heads=2,head_dim=16,mlp_width=64,layers=2,pattern=A,window=8"));

}  // namespace
}  // namespace griffin::eval
