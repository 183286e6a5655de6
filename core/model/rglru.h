// The Real-Gated Linear Recurrent Unit (docs/MODEL.md section 3.2). Gates, decay and state
// are float32 whatever the model dtype: bf16 would round decays above ~0.998 to 1.0.
//   i_t = sigmoid(BlockDiag_i(c_t)),  r_t = sigmoid(BlockDiag_a(c_t))
//   log a_t = -8 r_t softplus(a_param),  a_t = exp(log a_t)
//   h_t = a_t h_{t-1} + sqrt(1 - a_t^2) (i_t c_t), except at a document start: h_t = i_t c_t
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"
#include "core/model/weights.h"

namespace griffin {

// c: [B, T, L] (conv output); positions: int64 [B, T]; state: [B, L] float32, replaced by the
// state after the last token. Returns h [B, T, L] in c's dtype. The gate projections run in ATen;
// the gates, decay and scan run on `scan_impl` (core/kernels/rglru_scan.h).
at::Tensor RgLru(const at::Tensor& c, const at::Tensor& positions, const RecurrentWeights& w,
                 at::Tensor& state, OpImpl scan_impl);

// y[..., h, j] = sum_i x[..., h, i] w[h, i, j] + b[h, j] over H diagonal blocks of L/H channels.
at::Tensor BlockDiagonalLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

}  // namespace griffin
