// Vector access to [batch, seq, dim] operands (channel stride 1): whether an operand allows
// vector loads (host side), and the raw vector loads themselves (device side).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/kernels/kernel_common.cuh"
#include "core/kernels/scalar_convert.cuh"

namespace griffin::kernels {

// Whether an operand allows the chunked scans' vector loads: the base pointer aligned to one
// vector of kVec elements and both outer strides whole vectors.
inline bool VectorAligned(const void* p, int64_t batch_stride, int64_t seq_stride,
                          ScalarKind kind) {
  constexpr int64_t kVec = 4;  // chunked::kVec
  const int64_t bytes = kVec * ElementBytes(kind);
  return reinterpret_cast<uintptr_t>(p) % bytes == 0 && batch_stride % kVec == 0 &&
         seq_stride % kVec == 0;
}

// V consecutive channels of one time step, as stored, aligned for one vector access.
template <typename T, int V>
struct alignas(sizeof(T) * V >= 16 ? 16 : sizeof(T) * V) Vec {
  T v[V];
};

// V consecutive elements held as the 32-bit words they are stored in (bf16: two a word), so a
// register keeps a loaded word untouched until the arithmetic needs it. (A Vec of bf16 in
// registers is one element a register, and splitting a loaded word into two costs an instruction
// that waits for the load.)
template <typename T, int V>
struct Packed {
  static_assert(sizeof(T) * V % 4 == 0, "whole 32-bit words");
  static constexpr int kWords = static_cast<int>(sizeof(T)) * V / 4;
  uint32_t w[kWords];
};

// The V elements at p as stored: one vector load when `vec` (p aligned, checked on the host) and
// all V exist (`valid` of them do), otherwise element by element, `fill` past `valid`. A kernel
// loads every step it needs this way first and widens them (Widen) only when it computes: code
// that converts bf16 to float inside the branch that loaded it waits there for memory, so its
// next load issues only once this one has returned. The sm_90 code of the Conv1D and the RG-LRU
// forward did exactly that, one round trip per time step (bench/README.md, "Loads in flight").
template <typename T, int V>
__device__ __forceinline__ Packed<T, V> LoadRaw(const T* p, int64_t valid, bool vec, T fill) {
  Packed<T, V> r;
  constexpr int kWords = Packed<T, V>::kWords;
  if (vec && valid >= V) {
    if constexpr (kWords == 2) {
      const uint2 q = *reinterpret_cast<const uint2*>(p);
      r.w[0] = q.x, r.w[1] = q.y;
      return r;
    } else if constexpr (kWords % 4 == 0) {
#pragma unroll
      for (int k = 0; k < kWords / 4; ++k) {
        const uint4 q = reinterpret_cast<const uint4*>(p)[k];
        r.w[4 * k] = q.x, r.w[4 * k + 1] = q.y, r.w[4 * k + 2] = q.z, r.w[4 * k + 3] = q.w;
      }
      return r;
    }
  }
  Vec<T, V> e;
#pragma unroll
  for (int i = 0; i < V; ++i) e.v[i] = i < valid ? p[i] : fill;
  memcpy(r.w, e.v, sizeof(r.w));
  return r;
}

// V copies of `value`.
template <typename T, int V>
__device__ __forceinline__ Packed<T, V> Splat(T value) {
  Vec<T, V> e;
#pragma unroll
  for (int i = 0; i < V; ++i) e.v[i] = value;
  Packed<T, V> r;
  memcpy(r.w, e.v, sizeof(r.w));
  return r;
}

// The elements of r in the accumulation type.
template <typename Acc, typename T, int V>
__device__ __forceinline__ void Widen(const Packed<T, V>& r, Acc (&out)[V]) {
#pragma unroll
  for (int i = 0; i < V; ++i) {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      const uint32_t word = r.w[i / 2];  // element 2k in the low half (little-endian)
      out[i] = static_cast<Acc>(__uint_as_float(i % 2 == 0 ? word << 16 : word & 0xffff0000u));
    } else if constexpr (std::is_same_v<T, float>) {
      out[i] = static_cast<Acc>(__uint_as_float(r.w[i]));
    } else {
      static_assert(std::is_same_v<T, double>);
      out[i] = static_cast<Acc>(
          __hiloint2double(static_cast<int>(r.w[2 * i + 1]), static_cast<int>(r.w[2 * i])));
    }
  }
}

}  // namespace griffin::kernels
