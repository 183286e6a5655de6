// The trainer's fused AdamW on the GPU (ATen's multi-tensor CUDA kernel) against LibTorch's
// AdamW with clip_grad_norm_ on the same device. Skips without a GPU.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "eval/adamw_reference.h"

namespace griffin::eval {
namespace {

TEST(FusedAdamWGpu, MatchesLibTorchAdamWWithClipping) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  checks::ExpectAdamWMatchesLibTorch(c10::Device(c10::kCUDA));
}

}  // namespace
}  // namespace griffin::eval
