// The linear-recurrence scan at the heart of the RG-LRU:
//   h_t = a_t * h_{t-1} + x_t,  y_t = h_t,  with h_{-1} = h0 (zero when absent).
// Inputs a, x: [batch, seq_len, dim], float32, bfloat16 or float64 (for gradient checks), same
// dtype and device. The state is float32 (float64 for float64 input), never bf16: bf16 would
// round decays above ~0.998 to 1.0. Returns y in the dtype of x and the final state
// [batch, dim], so a long prefill can be chunked and decoding can continue from it.
// Both implementations are differentiable in a, x and h0, through y and h_last: the reference by
// autograd over its steps, the CUDA one by its backward kernel (a reverse chunked scan that
// replays the states from the forward's chunk carries).
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "core/kernels/op_impl.h"

namespace griffin {

struct LinearScanResult {
  at::Tensor y;       // [batch, seq_len, dim], dtype of x
  at::Tensor h_last;  // [batch, dim], float32
};

LinearScanResult LinearScan(const at::Tensor& a, const at::Tensor& x,
                            const std::optional<at::Tensor>& h0, OpImpl impl);

// Argument checks shared by every implementation; throws c10::Error naming the argument.
void CheckLinearScanArgs(const at::Tensor& a, const at::Tensor& x,
                         const std::optional<at::Tensor>& h0);

namespace detail {
LinearScanResult LinearScanReference(const at::Tensor& a, const at::Tensor& x,
                                     const std::optional<at::Tensor>& h0);
LinearScanResult LinearScanCuda(const at::Tensor& a, const at::Tensor& x,
                                const std::optional<at::Tensor>& h0);
}  // namespace detail

}  // namespace griffin
