// Steps of a scan staged through shared memory: a thread copies its raw inputs for several time
// steps from global to shared memory with cp.async (sm_80+), so that they wait there, not in
// registers, and decodes them when it scans. In registers, the inputs bound how many blocks of
// the chunked scans fit on an SM (chunked_scan.cuh: ~7 round trips to memory per block, of which
// only one moves data), so moving them out lets more blocks, and more bytes, be in flight at once
// (the plain scan in bf16: 4 blocks; the RG-LRU's larger steps: 3, bound by shared memory).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "core/kernels/scalar_convert.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels::staged {

// Copies `bytes` (4, 8 or 16, or 32 as two 16-byte copies) from global to shared memory without
// passing through registers; completes at WaitAsync.
template <int bytes>
__device__ __forceinline__ void CopyAsync(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  if constexpr (bytes == 32) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst + 16),
                 "l"(static_cast<const char*>(gmem) + 16)
                 : "memory");
  } else if constexpr (bytes == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
  } else {
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2;\n" ::"r"(dst), "l"(gmem), "n"(bytes)
                 : "memory");
  }
}
__device__ __forceinline__ void CommitAsync() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// Waits until at most `pending` of this thread's committed groups are still in flight. A thread
// that reads only the slots it copied itself needs no barrier after this.
template <int pending>
__device__ __forceinline__ void WaitAsync() {
  // The "memory" clobbers keep the compiler from moving shared-memory reads above the wait.
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending) : "memory");
}

// A [batch, seq, dim] operand with channel stride 1.
template <typename T>
struct Operand {
  T* p;
  int64_t batch_stride, seq_stride;
};

// The plain scan's steps h -> a h + x, V channels per thread: Raw is what is staged, Decode turns
// it into the maps, Store writes the states. Bind() points a copy at one thread's channels of one
// batch row, so that each step costs one offset, not an index computation.
template <typename T, typename Acc, int V>
struct PlainSteps {
  Operand<const T> a, x;
  Operand<T> y;
  int64_t seq_len, dim;
  bool vec;       // every operand aligned for V-element vectors (VectorAligned, host side)
  int valid = 0;  // this thread's channels that exist (after Bind)

  struct Raw {
    Vec<T, V> a, x;
  };
  static constexpr bool kDecodeOnce = false;  // decoding is a conversion
  __device__ void Bind(int64_t b, int64_t d0) {
    a.p += b * a.batch_stride + d0;
    x.p += b * x.batch_stride + d0;
    y.p += b * y.batch_stride + d0;
    valid = static_cast<int>(dim - d0 < V ? (dim - d0 > 0 ? dim - d0 : 0) : V);
  }
  // Step t into `dst` (shared memory): asynchronously when whole vectors exist; otherwise at once,
  // steps past the sequence and channels past dim as the identity (a = 1, x = 0).
  __device__ void Stage(Raw* dst, int64_t t) const {
    if (vec && valid == V && t < seq_len) {
      CopyAsync<sizeof(Vec<T, V>)>(&dst->a, a.p + t * a.seq_stride);
      CopyAsync<sizeof(Vec<T, V>)>(&dst->x, x.p + t * x.seq_stride);
      return;
    }
    const bool in = t < seq_len;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      dst->a.v[i] = in && i < valid ? a.p[t * a.seq_stride + i] : FromAcc<T>(Acc(1));
      dst->x.v[i] = in && i < valid ? x.p[t * x.seq_stride + i] : FromAcc<T>(Acc(0));
    }
  }
  __device__ void Decode(const Raw& r, Acc (&av)[V], Acc (&xv)[V]) const {
    const Raw copy = r;  // one vector load per operand
#pragma unroll
    for (int i = 0; i < V; ++i) av[i] = ToAcc<Acc>(copy.a.v[i]), xv[i] = ToAcc<Acc>(copy.x.v[i]);
  }
  __device__ void Store(int64_t t, const Acc (&h)[V]) const {
    Vec<T, V> out;
#pragma unroll
    for (int i = 0; i < V; ++i) out.v[i] = FromAcc<T>(h[i]);
    T* p = y.p + t * y.seq_stride;
    if (vec && valid == V) {
      *reinterpret_cast<Vec<T, V>*>(p) = out;
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i) {
        if (i < valid) p[i] = out.v[i];
      }
    }
  }
};

}  // namespace griffin::kernels::staged
