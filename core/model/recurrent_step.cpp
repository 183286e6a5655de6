#include "core/model/recurrent_step.h"

#include <ATen/ATen.h>

#include "core/kernels/recurrent_step.h"
#include "core/model/conv1d.h"
#include "core/model/rglru.h"

namespace griffin {

at::Tensor RecurrentStep(const at::Tensor& u, const at::Tensor& y_branch,
                         const at::Tensor& positions, const RecurrentWeights& w,
                         RecurrentState& state, OpImpl impl) {
  const RecurrentStepTensors t{u,          y_branch,       positions,  w.conv_w,
                               w.conv_b,   w.input_gate_w, w.a_gate_w, w.input_gate_b,
                               w.a_gate_b, w.a_param,      state.conv, state.conv_pos,
                               state.rnn};
  CheckRecurrentStepTensors(t);
  switch (impl) {
    case OpImpl::kReference: {
      const at::Tensor c = CausalConv1d(u, positions, w.conv_w, w.conv_b, state.conv,
                                        state.conv_pos, OpImpl::kReference);
      return RgLru(c, positions, w, state.rnn, OpImpl::kReference) * y_branch;
    }
    case OpImpl::kCuda:
#ifdef GRIFFIN_WITH_CUDA
      return detail::RecurrentStepCuda(t);
#else
      ThrowNotBuilt("recurrent step", impl);
#endif
  }
  TORCH_CHECK(false, "recurrent step: unknown implementation");
}

}  // namespace griffin
