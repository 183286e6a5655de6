// ATen-facing side of the fused recurrent decode step (kernel: recurrent_step.cu; the model-level
// op choosing it or the ATen composition: core/model/recurrent_step.h).
#pragma once

#include <ATen/core/Tensor.h>

namespace griffin {

struct RecurrentStepTensors {
  at::Tensor u;                   // [batch, 1, dim] float32 or bfloat16: the conv's input
  at::Tensor y_branch;            // [batch, 1, dim] u's dtype: multiplied into the output
  at::Tensor positions;           // [batch, 1] int64
  at::Tensor conv_w;              // [width <= 4, dim] u's dtype
  at::Tensor conv_b;              // [dim] u's dtype
  at::Tensor gate_x_w, gate_a_w;  // [heads, dim / heads, dim / heads] float32
  at::Tensor gate_x_b, gate_a_b;  // [heads, dim / heads] float32
  at::Tensor a_param;             // [dim] float32
  // The state, updated in place (so contiguous): the conv tail and its positions, the RG-LRU h.
  at::Tensor tail;      // [batch, width - 1, dim] u's dtype
  at::Tensor tail_pos;  // [batch, width - 1] int64
  at::Tensor h;         // [batch, dim] float32
};

// Shapes, dtypes, devices and contiguity, each error naming the tensor.
void CheckRecurrentStepTensors(const RecurrentStepTensors& t);

namespace detail {
// One launch; returns [batch, 1, dim] in u's dtype. Inference only (no autograd).
at::Tensor RecurrentStepCuda(const RecurrentStepTensors& t);
}  // namespace detail

}  // namespace griffin
