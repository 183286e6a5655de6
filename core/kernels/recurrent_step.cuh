// ATen-free interface of the recurrent block's fused decode step: for one token per row, the
// causal Conv1D with its tail update, the RG-LRU's two block-diagonal gate projections, the gates
// and the state update, and the product with the block's other branch, in one launch:
//   c      = conv_b + sum_s m_s conv_w[W-1-s] x_{t-s}      (m_s: no document start in between)
//   i, r   = sigmoid(c_h Wx_h + bx_h), sigmoid(c_h Wa_h + ba_h)   per head h (block diagonal)
//   a      = exp(-8 r softplus(a_param)),  h_t = a h_{t-1} + sqrt(1 - a^2) i c   (reset: i c)
//   out    = T(h_t) * y_branch                               (T: the model's dtype)
// A block owns one (row, head, 32-output slice): it computes the whole head's conv (cheap) so it
// can take the matrix-vector products for its 32 outputs alone. The last block of a head to have
// read the conv tail shifts it (an atomic ticket per head; tickets return to zero every launch),
// so the tail updates in place with no second launch and no race.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

struct RecurrentStepParams {
  const void* u;             // [batch, dim] kind: the conv's input (the x branch)
  const void* y_branch;      // [batch, dim] kind: the other branch, multiplied in; or nullptr
  const int64_t* positions;  // [batch]: 0 starts a document
  const void* conv_w;        // [width, dim] kind
  const void* conv_b;        // [dim] kind
  void* tail;                // [batch, width - 1, dim] kind, shifted in place
  int64_t* tail_pos;         // [batch, width - 1], shifted in place
  const float* gate_x_w;     // [heads, dim / heads, dim / heads]
  const float* gate_x_b;     // [heads, dim / heads]
  const float* gate_a_w;
  const float* gate_a_b;
  const float* a_param;  // [dim]
  float* h;              // [batch, dim], updated in place
  void* out;             // [batch, dim] kind
  int* tickets;          // batch * (heads + 1) ints, zero before the first launch (and after each)
  int64_t batch, dim, heads, width;
  ScalarKind kind;  // float32 or bfloat16
};

int64_t RecurrentStepTickets(int64_t batch, int64_t heads);
cudaError_t LaunchRecurrentStep(const RecurrentStepParams& p, cudaStream_t stream);

}  // namespace griffin::kernels
