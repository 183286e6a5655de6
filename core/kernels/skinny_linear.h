// The matrix product of a decode step, y = x w^T + b for at most kSkinnyLinearMaxRows rows of x,
// as one op. Implementations: `reference` (at::linear: cuBLAS on a GPU) and `cuda` (float32 and
// bfloat16, inference only; the kernel in skinny_linear.cu streams each weight row once with
// many loads in flight). A decode step's products are this shape: a few rows against weights of
// 13-1300 MB, where cuBLAS streamed the RecurrentGemma-2B chain at 66% of the copy ceiling
// (bench/README.md, "Decode against its peers").
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

// Up to 4 rows: at 8 the kernel held 149 registers, one block an SM, and Gemma-2B's batch-8
// decode step took 8.3 ms against 6.0 at batch 64 through cuBLAS (2026-12-02).
inline constexpr int64_t kSkinnyLinearMaxRows = 4;

struct SkinnyLinearArgs {
  at::Tensor x;  // [..., in]: at most kSkinnyLinearMaxRows rows in all
  at::Tensor w;  // [out, in], contiguous
  at::Tensor b;  // [out] or undefined
};

at::Tensor SkinnyLinearOp(const SkinnyLinearArgs& args, OpImpl impl);  // [..., out]
void CheckSkinnyLinearArgs(const SkinnyLinearArgs& args);
// Whether the `cuda` implementation takes these arguments (the model asks before choosing it).
bool SkinnyLinearFits(const SkinnyLinearArgs& args);

namespace detail {
at::Tensor SkinnyLinearReference(const SkinnyLinearArgs& args);
at::Tensor SkinnyLinearCuda(const SkinnyLinearArgs& args);
}  // namespace detail

}  // namespace griffin
