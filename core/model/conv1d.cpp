#include "core/model/conv1d.h"

#include <ATen/ATen.h>

namespace griffin {

at::Tensor CausalConv1d(const at::Tensor& u, const at::Tensor& positions, const at::Tensor& w,
                        const at::Tensor& b, at::Tensor& tail, at::Tensor& tail_pos) {
  const int64_t width = w.size(0);
  const int64_t T = u.size(1);
  const int64_t lag = width - 1;
  const at::Tensor ext = at::cat({tail, u}, 1);                  // [B, W-1+T, L]
  const at::Tensor ext_pos = at::cat({tail_pos, positions}, 1);  // [B, W-1+T]
  at::Tensor out = b.expand_as(u).clone();
  at::Tensor keep;  // [B, T, 1]: no document start among tokens t-s+1 .. t
  for (int64_t s = 0; s < width; ++s) {
    at::Tensor term = ext.narrow(1, lag - s, T) * w[width - 1 - s];
    if (s > 0) {
      const at::Tensor not_start = ext_pos.narrow(1, lag - s + 1, T).ne(0).unsqueeze(-1);
      keep = s == 1 ? not_start : keep.logical_and(not_start);
      term = term * keep.to(term.scalar_type());
    }
    out = out + term;
  }
  if (lag > 0) {
    // clone, not contiguous(): at batch 1 the narrow is already "contiguous" and would keep the
    // whole [1, W-1+T, L] prefill buffer alive inside the state (seen: 755 MiB at 8k tokens).
    tail = ext.narrow(1, T, lag).clone();
    tail_pos = ext_pos.narrow(1, T, lag).clone();
  }
  return out;
}

}  // namespace griffin
