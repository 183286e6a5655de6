// Token positions as the model takes them: a [batch, count] int64 tensor of start, ..., start +
// count - 1 in every row (rows of one batch advance together in every caller here).
#pragma once

#include <ATen/Functions.h>

namespace griffin {

inline at::Tensor PositionRows(int64_t batch, int64_t start, int64_t count) {
  return at::arange(start, start + count, at::kLong).expand({batch, count}).contiguous();
}

}  // namespace griffin
