// Argument checks, dispatch and the ATen reference of the Conv1D op.
#include "core/kernels/conv1d.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckConv1dArgs(const Conv1dArgs& a) {
  TORCH_CHECK(a.u.dim() == 3, "conv1d: u must be [batch, seq_len, dim], got ", a.u.sizes());
  const at::ScalarType t = a.u.scalar_type();
  TORCH_CHECK(t == at::kFloat || t == at::kBFloat16 || t == at::kDouble,
              "conv1d: u must be float32, bfloat16 or float64, got ", t);
  const int64_t B = a.u.size(0), T = a.u.size(1), D = a.u.size(2);
  TORCH_CHECK(a.w.dim() == 2 && a.w.size(1) == D && a.w.size(0) >= 1 && a.w.size(0) <= 4,
              "conv1d: w must be [width <= 4, ", D, "], got ", a.w.sizes());
  const int64_t W = a.w.size(0);
  TORCH_CHECK(a.b.dim() == 1 && a.b.size(0) == D, "conv1d: b must be [", D, "], got ", a.b.sizes());
  TORCH_CHECK(
      a.positions.sizes() == at::IntArrayRef({B, T}) && a.positions.scalar_type() == at::kLong,
      "conv1d: positions must be int64 [", B, ", ", T, "], got ", a.positions.sizes(), " ",
      a.positions.scalar_type());
  TORCH_CHECK(a.tail.sizes() == at::IntArrayRef({B, W - 1, D}), "conv1d: tail must be [", B, ", ",
              W - 1, ", ", D, "], got ", a.tail.sizes());
  TORCH_CHECK(a.tail_positions.sizes() == at::IntArrayRef({B, W - 1}) &&
                  a.tail_positions.scalar_type() == at::kLong,
              "conv1d: tail_positions must be int64 [", B, ", ", W - 1, "], got ",
              a.tail_positions.sizes());
  for (const at::Tensor* x : {&a.w, &a.b, &a.tail}) {
    TORCH_CHECK(x->scalar_type() == t, "conv1d: w, b and tail must have u's dtype ", t, ", got ",
                x->scalar_type());
  }
  for (const at::Tensor* x : {&a.positions, &a.w, &a.b, &a.tail, &a.tail_positions}) {
    TORCH_CHECK(x->device() == a.u.device(), "conv1d: every argument must be on ", a.u.device(),
                ", one is on ", x->device());
  }
}

at::Tensor Conv1dOp(const Conv1dArgs& args, OpImpl impl) {
  CheckConv1dArgs(args);
  return CallImpl(impl, "conv1d", &detail::Conv1dReference, GRIFFIN_CUDA_OP(detail::Conv1dCuda),
                  args);
}

namespace detail {

//   c[t] = b + sum_s m(t, s) * u[t - s] * w[W-1-s],
//   m(t, s) = 1 iff none of the tokens t-s+1 .. t starts a document.
at::Tensor Conv1dReference(const Conv1dArgs& a) {
  const int64_t width = a.w.size(0);
  const int64_t T = a.u.size(1);
  const int64_t lag = width - 1;
  const at::Tensor ext = at::cat({a.tail, a.u}, 1);                        // [B, W-1+T, L]
  const at::Tensor ext_pos = at::cat({a.tail_positions, a.positions}, 1);  // [B, W-1+T]
  at::Tensor out = a.b.expand_as(a.u).clone();
  at::Tensor keep;  // [B, T, 1]: no document start among tokens t-s+1 .. t
  for (int64_t s = 0; s < width; ++s) {
    at::Tensor term = ext.narrow(1, lag - s, T) * a.w[width - 1 - s];
    if (s > 0) {
      const at::Tensor not_start = ext_pos.narrow(1, lag - s + 1, T).ne(0).unsqueeze(-1);
      keep = s == 1 ? not_start : keep.logical_and(not_start);
      term = term * keep.to(term.scalar_type());
    }
    out = out + term;
  }
  return out;
}

}  // namespace detail
}  // namespace griffin
