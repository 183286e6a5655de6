// ATen-free interface of the causal depthwise Conv1D kernels (the math: core/model/conv1d.h):
//   c[t] = b + sum_s m(t, s) u[t - s] w[W-1-s],  m(t, s) = 1 iff none of tokens t-s+1 .. t
//   starts a document (position 0); u before the chunk comes from the carried tail.
// Forward for prefill (any T) and decode (T = 1); backward gives du and per-block partial sums
// of dw and db that the caller reduces in a fixed order. Everything contiguous: u, out, grads
// [batch, seq_len, dim]; positions [batch, seq_len]; w [width, dim]; b [dim];
// tail [batch, width - 1, dim]; tail_positions [batch, width - 1]. Width 1 to 4.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

inline constexpr int kConvMaxWidth = 4;

struct Conv1dInputs {
  const void* u;  // element type `kind`
  const int64_t* positions;
  const void* w;     // element type `kind`
  const void* b;     // element type `kind`
  const void* tail;  // element type `kind`; nullptr when width == 1
  const int64_t* tail_positions;
  int64_t batch, seq_len, dim, width;
  ScalarKind kind;
};

// Blocks cover 64 steps x 128 channels; the partial sums below have one row per block row.
int64_t Conv1dTimeTiles(int64_t seq_len);
int64_t Conv1dPaddedDim(int64_t dim);

cudaError_t LaunchConv1dForward(const Conv1dInputs& in, void* out, cudaStream_t stream);

// grad_w_partial: [batch * time_tiles, width, padded_dim] and grad_b_partial:
// [batch * time_tiles, padded_dim], accumulation type (fp32; fp64 for fp64).
cudaError_t LaunchConv1dBackward(const Conv1dInputs& in, const void* grad_out, void* grad_u,
                                 void* grad_w_partial, void* grad_b_partial, cudaStream_t stream);

}  // namespace griffin::kernels
