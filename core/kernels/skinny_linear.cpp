// Argument checks and the ATen reference of the skinny matrix product (skinny_linear.h).
#include "core/kernels/skinny_linear.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckSkinnyLinearArgs(const SkinnyLinearArgs& a) {
  TORCH_CHECK(a.w.dim() == 2, "skinny_linear: w must be [out, in], got ", a.w.sizes());
  TORCH_CHECK(a.x.dim() >= 1 && a.x.size(-1) == a.w.size(1), "skinny_linear: x must be [..., ",
              a.w.size(1), "] (w's in), got ", a.x.sizes());
  TORCH_CHECK(a.x.scalar_type() == a.w.scalar_type(), "skinny_linear: x is ", a.x.scalar_type(),
              " but w is ", a.w.scalar_type());
  TORCH_CHECK(!a.b.defined() || (a.b.sizes() == at::IntArrayRef({a.w.size(0)}) &&
                                 a.b.scalar_type() == a.w.scalar_type()),
              "skinny_linear: b must be ", a.w.scalar_type(), " [", a.w.size(0), "], got ",
              a.b.defined() ? a.b.sizes() : at::IntArrayRef{});
  TORCH_CHECK(a.x.device() == a.w.device() && (!a.b.defined() || a.b.device() == a.w.device()),
              "skinny_linear: x, w and b must be on one device");
}

bool SkinnyLinearFits(const SkinnyLinearArgs& a) {
  const at::ScalarType t = a.w.scalar_type();
  const int64_t rows = a.x.dim() >= 1 && a.x.size(-1) > 0 ? a.x.numel() / a.x.size(-1) : 0;
  return a.w.dim() == 2 && a.w.is_contiguous() && (t == at::kFloat || t == at::kBFloat16) &&
         a.x.scalar_type() == t && rows >= 1 && rows <= kSkinnyLinearMaxRows &&
         (!a.b.defined() || a.b.is_contiguous());
}

at::Tensor SkinnyLinearOp(const SkinnyLinearArgs& args, OpImpl impl) {
  CheckSkinnyLinearArgs(args);
  return CallImpl(impl, "skinny_linear", &detail::SkinnyLinearReference,
                  GRIFFIN_CUDA_OP(detail::SkinnyLinearCuda), args);
}

namespace detail {
at::Tensor SkinnyLinearReference(const SkinnyLinearArgs& a) { return at::linear(a.x, a.w, a.b); }
}  // namespace detail

}  // namespace griffin
