// Argument checks and the ATen reference of the GeGLU product (geglu.h).
#include "core/kernels/geglu.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckGegluArgs(const GegluArgs& a) {
  TORCH_CHECK(a.gate_up.dim() >= 1 && a.gate_up.size(-1) % 2 == 0,
              "geglu: gate_up must be [..., 2M] (gate, then up), got ", a.gate_up.sizes());
  TORCH_CHECK(at::isFloatingType(a.gate_up.scalar_type()), "geglu: gate_up must be floating, got ",
              a.gate_up.scalar_type());
}

at::Tensor GegluOp(const GegluArgs& args, OpImpl impl) {
  CheckGegluArgs(args);
  return CallImpl(impl, "geglu", &detail::GegluReference, GRIFFIN_CUDA_OP(detail::GegluCuda), args);
}

namespace detail {
at::Tensor GegluReference(const GegluArgs& a) {
  const int64_t m = a.gate_up.size(-1) / 2;
  return at::gelu(a.gate_up.narrow(-1, 0, m), "tanh") * a.gate_up.narrow(-1, m, m);
}
}  // namespace detail

}  // namespace griffin
