// The GeGLU product of the MLP as one op: gelu_tanh(gate) * up, from the packed output of the gate
// and up projections ([..., 2M]: gate, then up; core/model/weights.h, PackProjections), rounded as
// the ATen composition rounds (gelu in float32, rounded to the dtype, the product rounded again).
// Implementations: `reference` (ATen, any device and floating dtype, differentiable) and `cuda`
// (float32 and bfloat16, inference only: the decode and prefill of a loaded model; the kernel
// in geglu.cu, one read of gate_up and one write of the product).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

struct GegluArgs {
  at::Tensor gate_up;  // [..., 2M]
};

at::Tensor GegluOp(const GegluArgs& args, OpImpl impl);  // [..., M] in gate_up's dtype
void CheckGegluArgs(const GegluArgs& args);

namespace detail {
at::Tensor GegluReference(const GegluArgs& args);
at::Tensor GegluCuda(const GegluArgs& args);
}  // namespace detail

}  // namespace griffin
