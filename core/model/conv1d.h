// Griffin's temporal Conv1D: depthwise, causal, width W <= 4, with bias, masked at document
// starts (docs/MODEL.md section 3.1). One function serves prefill, chunked prefill and
// decode: the last W-1 inputs (and their positions) are carried in the state.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

// u: [B, T, L]; positions: int64 [B, T]; w: [W, L] (w[W-1] multiplies the current token);
// b: [L]. tail [B, W-1, L] and tail_pos [B, W-1] are read and replaced by the new tail.
//   c[t] = b + sum_s m(t, s) * u[t - s] * w[W-1-s],
//   m(t, s) = 1 iff none of the tokens t-s+1 .. t starts a document.
// The convolution runs on `impl` (core/kernels/conv1d.h).
at::Tensor CausalConv1d(const at::Tensor& u, const at::Tensor& positions, const at::Tensor& w,
                        const at::Tensor& b, at::Tensor& tail, at::Tensor& tail_pos,
                        OpImpl impl = OpImpl::kReference);

}  // namespace griffin
