// The RG-LRU recurrence as one op (math: core/model/rglru.h), from the gate projections' outputs:
//   i = sigmoid(gate_x), r = sigmoid(gate_a), log a = -8 r softplus(a_param), a = exp(log a)
//   h_t = a_t h_{t-1} + sqrt(1 - a_t^2) (i_t x_t); at position 0: h_t = i_t x_t
// Implementations: `reference` (ATen, any device, differentiable through autograd) and `cuda`
// (the fused chunked-scan kernels: a and the normalised input never touch memory; a backward
// kernel wired into autograd). The sqrt's gradient is bounded at 1000 in both, as the official
// implementation's SqrtBoundDerivative does.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "core/kernels/op_impl.h"

namespace griffin {

struct RgLruScanArgs {
  at::Tensor x;          // [batch, seq_len, dim] float32, bfloat16 or float64
  at::Tensor gate_x;     // [batch, seq_len, dim], x's dtype: the input gate before its sigmoid
  at::Tensor gate_a;     // [batch, seq_len, dim], x's dtype: the recurrence gate before its sigmoid
  at::Tensor a_param;    // [dim] (any float dtype)
  at::Tensor positions;  // [batch, seq_len] int64; 0 starts a document (the state resets)
  std::optional<at::Tensor> h0;  // [batch, dim] float32 (float64 for float64 x); zero if absent
  // When given ([batch, seq_len, dim], x's dtype), y is h * gelu_tanh(gelu_gate): the recurrent
  // block's product with its other branch, fused into the kernel's store.
  std::optional<at::Tensor> gelu_gate;
};

struct RgLruScanResult {
  at::Tensor y;       // [batch, seq_len, dim], x's dtype
  at::Tensor h_last;  // [batch, dim], float32 (float64 for float64 x); not differentiable
};

RgLruScanResult RgLruScan(const RgLruScanArgs& args, OpImpl impl);

// Shape, dtype and device checks shared by every implementation (c10::Error naming the argument).
void CheckRgLruScanArgs(const RgLruScanArgs& args);

namespace detail {
RgLruScanResult RgLruScanReference(const RgLruScanArgs& args);
RgLruScanResult RgLruScanCuda(const RgLruScanArgs& args);  // autograd-aware
}  // namespace detail

}  // namespace griffin
