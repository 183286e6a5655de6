// Whether a [batch, seq, dim] operand allows the chunked scans' vector loads: the base pointer
// aligned to one vector of kVec elements and both outer strides whole vectors.
#pragma once

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

inline bool VectorAligned(const void* p, int64_t batch_stride, int64_t seq_stride,
                          ScalarKind kind) {
  constexpr int64_t kVec = 4;  // chunked::kVec
  const int64_t bytes = kVec * ElementBytes(kind);
  return reinterpret_cast<uintptr_t>(p) % bytes == 0 && batch_stride % kVec == 0 &&
         seq_stride % kVec == 0;
}

}  // namespace griffin::kernels
