#include "core/model/conv1d.h"

#include <ATen/ATen.h>

#include "core/kernels/conv1d.h"
#include "core/model/model_state.h"

namespace griffin {

at::Tensor CausalConv1d(const at::Tensor& u, const at::Tensor& positions, const at::Tensor& w,
                        const at::Tensor& b, at::Tensor& tail, at::Tensor& tail_pos, OpImpl impl) {
  const at::Tensor out = Conv1dOp({u, positions, w, b, tail, tail_pos}, impl);
  const int64_t lag = w.size(0) - 1;
  if (lag > 0) {
    // The new tail: the last W-1 inputs of tail ++ u, copied into the state's own buffers (a
    // view of the prefill input would keep it alive inside the state: 755 MiB at 8k tokens once).
    const int64_t T = u.size(1);
    UpdateState(tail,
                T >= lag ? u.narrow(1, T - lag, lag) : at::cat({tail, u}, 1).narrow(1, T, lag));
    UpdateState(tail_pos, T >= lag ? positions.narrow(1, T - lag, lag)
                                   : at::cat({tail_pos, positions}, 1).narrow(1, T, lag));
  }
  return out;
}

}  // namespace griffin
