// Griffin's temporal Conv1D as one op (math: core/model/conv1d.h): depthwise, causal, width
// 1-4, with bias, cut at document starts, reading the inputs before the chunk from the carried
// tail. Implementations: `reference` (ATen, any device, differentiable) and `cuda` (the kernels in
// conv1d.cu; forward for prefill and decode, backward through autograd with deterministic weight
// gradients). The tail is an input here, not differentiated: training starts from an empty state.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

struct Conv1dArgs {
  at::Tensor u;               // [batch, seq_len, dim] float32, bfloat16 or float64
  at::Tensor positions;       // [batch, seq_len] int64
  at::Tensor w;               // [width, dim], u's dtype; w[width-1] multiplies the current token
  at::Tensor b;               // [dim], u's dtype
  at::Tensor tail;            // [batch, width-1, dim], u's dtype: the inputs before this chunk
  at::Tensor tail_positions;  // [batch, width-1] int64
};

at::Tensor Conv1dOp(const Conv1dArgs& args, OpImpl impl);  // [batch, seq_len, dim]
void CheckConv1dArgs(const Conv1dArgs& args);

namespace detail {
at::Tensor Conv1dReference(const Conv1dArgs& args);
at::Tensor Conv1dCuda(const Conv1dArgs& args);
}  // namespace detail

}  // namespace griffin
