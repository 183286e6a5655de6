// Argument checks of the fused decode step (its reference, the composition of the Conv1D and
// RG-LRU references, is core/model/recurrent_step.cpp, next to the decode state it updates).
#include <ATen/ATen.h>

#include "core/kernels/recurrent_step.h"

namespace griffin {

void CheckRecurrentStepTensors(const RecurrentStepTensors& t) {
  TORCH_CHECK(t.u.dim() == 3 && t.u.size(1) == 1, "recurrent step: u must be [batch, 1, dim], got ",
              t.u.sizes());
  const at::ScalarType dt = t.u.scalar_type();
  TORCH_CHECK(dt == at::kFloat || dt == at::kBFloat16,
              "recurrent step: u must be float32 or bfloat16, got ", dt);
  const int64_t B = t.u.size(0), D = t.u.size(2);
  TORCH_CHECK(t.y_branch.sizes() == t.u.sizes() && t.y_branch.scalar_type() == dt,
              "recurrent step: y_branch must be ", dt, " ", t.u.sizes(), ", got ",
              t.y_branch.scalar_type(), " ", t.y_branch.sizes());
  TORCH_CHECK(
      t.positions.sizes() == at::IntArrayRef({B, 1}) && t.positions.scalar_type() == at::kLong,
      "recurrent step: positions must be int64 [", B, ", 1], got ", t.positions.sizes());
  TORCH_CHECK(t.conv_w.dim() == 2 && t.conv_w.size(0) >= 1 && t.conv_w.size(0) <= 4 &&
                  t.conv_w.size(1) == D && t.conv_w.scalar_type() == dt,
              "recurrent step: conv_w must be ", dt, " [width <= 4, ", D, "], got ",
              t.conv_w.scalar_type(), " ", t.conv_w.sizes());
  const int64_t W = t.conv_w.size(0);
  TORCH_CHECK(t.conv_b.sizes() == at::IntArrayRef({D}) && t.conv_b.scalar_type() == dt,
              "recurrent step: conv_b must be ", dt, " [", D, "], got ", t.conv_b.sizes());
  TORCH_CHECK(t.gate_x_w.dim() == 3, "recurrent step: gate_x_w must be [heads, block, block]");
  const int64_t H = t.gate_x_w.size(0), blk = t.gate_x_w.size(1);
  TORCH_CHECK(H * blk == D, "recurrent step: ", H, " heads of ", blk, " do not make dim ", D);
  for (const auto& [name, x] : {std::pair<const char*, const at::Tensor&>{"gate_x_w", t.gate_x_w},
                                {"gate_a_w", t.gate_a_w}}) {
    TORCH_CHECK(x.sizes() == at::IntArrayRef({H, blk, blk}) && x.scalar_type() == at::kFloat,
                "recurrent step: ", name, " must be float32 [", H, ", ", blk, ", ", blk, "], got ",
                x.scalar_type(), " ", x.sizes());
  }
  for (const auto& [name, x] : {std::pair<const char*, const at::Tensor&>{"gate_x_b", t.gate_x_b},
                                {"gate_a_b", t.gate_a_b}}) {
    TORCH_CHECK(x.sizes() == at::IntArrayRef({H, blk}) && x.scalar_type() == at::kFloat,
                "recurrent step: ", name, " must be float32 [", H, ", ", blk, "], got ",
                x.scalar_type(), " ", x.sizes());
  }
  TORCH_CHECK(t.a_param.sizes() == at::IntArrayRef({D}) && t.a_param.scalar_type() == at::kFloat,
              "recurrent step: a_param must be float32 [", D, "], got ", t.a_param.sizes());
  TORCH_CHECK(t.tail.sizes() == at::IntArrayRef({B, W - 1, D}) && t.tail.scalar_type() == dt,
              "recurrent step: tail must be ", dt, " [", B, ", ", W - 1, ", ", D, "], got ",
              t.tail.scalar_type(), " ", t.tail.sizes());
  TORCH_CHECK(
      t.tail_pos.sizes() == at::IntArrayRef({B, W - 1}) && t.tail_pos.scalar_type() == at::kLong,
      "recurrent step: tail_pos must be int64 [", B, ", ", W - 1, "], got ", t.tail_pos.sizes());
  TORCH_CHECK(t.h.sizes() == at::IntArrayRef({B, D}) && t.h.scalar_type() == at::kFloat,
              "recurrent step: h must be float32 [", B, ", ", D, "], got ", t.h.scalar_type(), " ",
              t.h.sizes());
  for (const auto& [name, x] : {std::pair<const char*, const at::Tensor&>{"tail", t.tail},
                                {"tail_pos", t.tail_pos},
                                {"h", t.h}}) {
    TORCH_CHECK(x.is_contiguous(), "recurrent step: ", name,
                " must be contiguous (the step updates it in place)");
  }
  for (const at::Tensor* x :
       {&t.y_branch, &t.positions, &t.conv_w, &t.conv_b, &t.gate_x_w, &t.gate_x_b, &t.gate_a_w,
        &t.gate_a_b, &t.a_param, &t.tail, &t.tail_pos, &t.h}) {
    TORCH_CHECK(x->device() == t.u.device(), "recurrent step: every tensor must be on ",
                t.u.device(), ", one is on ", x->device());
  }
}

}  // namespace griffin
