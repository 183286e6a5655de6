// The recurrent block's temporal mixing for one token per row (a decode step), from its two
// branches' projections: the Conv1D (its tail updated), the RG-LRU (its state updated) and the
// product with the gelu branch. `reference` composes the model's CausalConv1d and RgLru on the
// ATen reference ops; `cuda` is one fused kernel (core/kernels/recurrent_step.cu), which the
// model uses for decode steps when both its scan and conv ops are `cuda`. Inference only.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"
#include "core/model/model_state.h"
#include "core/model/weights.h"

namespace griffin {

// u: [B, 1, L] (the conv's input), y_branch: [B, 1, L] (gelu already applied), positions:
// int64 [B, 1]. Returns h * y_branch, [B, 1, L] in u's dtype.
at::Tensor RecurrentStep(const at::Tensor& u, const at::Tensor& y_branch,
                         const at::Tensor& positions, const RecurrentWeights& w,
                         RecurrentState& state, OpImpl impl);

}  // namespace griffin
