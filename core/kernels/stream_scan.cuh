// The streaming forward scan: every block owns a strip of channels of one batch row and walks the
// whole sequence through it in tiles, carrying the state between tiles in registers. No block
// waits on another, so nothing is published, fenced or looked back on: the only traffic is the
// inputs read once and the output written once, and the next tile's loads are in flight while
// the current one is scanned. Results are deterministic (a fixed order of operations).
//
// Why not the chunked look-back of chunked_scan.cuh: there every 64-step chunk is its own block,
// and each block spends about seven round trips to memory on its ticket, its loads, publishing its
// aggregate, reading its predecessors and publishing its inclusive value, while only the loads
// move data. Measured on the H200 (bench/README.md): 24% of the copy ceiling in bf16, and the same
// elements per second in fp32 and bf16, i.e. bound by that latency, not by bytes.
//
// Geometry: a thread loads 16 bytes of one time step (kVec channels: 4 fp32, 8 bf16, 2 fp64), two
// threads make a 32-byte row (one memory sector) of kStripChannels channels, and the block's 128
// row pairs each own kSteps consecutive steps of a kTile-step tile. A tile is scanned in three
// levels: each thread folds its kSteps steps into one affine map h -> A h + H, a warp scans its 16
// maps with shuffles, and every thread folds the 8 warps' totals from shared memory in the same
// order (so all threads agree bitwise on the carry into the next tile).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

#include "core/kernels/scalar_convert.cuh"

namespace griffin::kernels::stream {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kRowThreads = 2;                      // threads per 32-byte row of one time step
constexpr int kGroups = kThreads / kRowThreads;     // step groups per tile
constexpr int kGroupsPerWarp = 32 / kRowThreads;    // 16
constexpr int kSteps = 4;                           // consecutive steps per thread
constexpr int kTile = kGroups * kSteps;             // 512 steps
constexpr int kStages = 3;                          // tiles in shared memory: 2 in flight

// Dynamic shared memory of one block for a Steps type: kStages tiles of every thread's raw steps.
template <class Steps>
constexpr int kStageBytes = kStages * kSteps * kThreads * static_cast<int>(sizeof(typename Steps::Raw));

template <typename T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));
template <typename T>
constexpr int kStripChannels = kRowThreads * kVec<T>;

inline int64_t Strips(int64_t dim, int strip_channels) {
  return (dim + strip_channels - 1) / strip_channels;
}

// Whether a [batch, seq, dim] operand allows 16-byte vector access: the base pointer 16-byte
// aligned and both outer strides whole vectors (host side).
inline bool Aligned16(const void* p, int64_t batch_stride, int64_t seq_stride, int64_t elem_bytes) {
  const int64_t per_vec = 16 / elem_bytes;
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && batch_stride % per_vec == 0 &&
         seq_stride % per_vec == 0;
}

// kVec elements of one step, loaded as one 16-byte vector when `vec` (pointer and strides aligned,
// checked on the host) and all of them exist; element by element otherwise, `fill` past `valid`.
template <typename T>
struct alignas(16) Vec {
  T v[kVec<T>];
};

template <typename T>
__device__ __forceinline__ Vec<T> LoadRaw(const T* p, int valid, bool vec, T fill) {
  Vec<T> r;
  if (vec && valid >= kVec<T>) {
    *reinterpret_cast<uint4*>(&r) = __ldg(reinterpret_cast<const uint4*>(p));
  } else {
#pragma unroll
    for (int i = 0; i < kVec<T>; ++i) r.v[i] = i < valid ? p[i] : fill;
  }
  return r;
}

template <typename T, typename Acc>
__device__ __forceinline__ void StoreRaw(T* p, int valid, bool vec, const Acc (&h)[kVec<T>]) {
  Vec<T> r;
#pragma unroll
  for (int i = 0; i < kVec<T>; ++i) r.v[i] = FromAcc<T>(h[i]);
  if (vec && valid >= kVec<T>) {
    *reinterpret_cast<uint4*>(p) = *reinterpret_cast<const uint4*>(&r);
  } else {
#pragma unroll
    for (int i = 0; i < kVec<T>; ++i) {
      if (i < valid) p[i] = r.v[i];
    }
  }
}

// 16 bytes from global to shared memory without passing through registers (cp.async, sm_80+):
// a tile's loads wait in shared memory, not in registers, so several tiles can be in flight.
__device__ __forceinline__ void CopyAsync16(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem));
}
__device__ __forceinline__ void CommitAsync() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most `pending` of this thread's committed groups are still in flight.
template <int pending>
__device__ __forceinline__ void WaitAsync() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending));
}

// A [batch, seq, dim] operand with channel stride 1.
template <typename T>
struct Operand {
  T* p;
  int64_t batch_stride, seq_stride;
  __device__ T* At(int64_t b, int64_t t, int64_t d) const {
    return p + b * batch_stride + t * seq_stride + d;
  }
};

// The plain scan's steps: h -> a h + x, read as two raw vectors per step. Bind() points a copy at
// one thread's channels of one batch row, so that each step costs one offset, not an index.
template <typename T, typename Acc>
struct PlainSteps {
  Operand<const T> a, x;
  Operand<T> y;
  int64_t seq_len, dim;
  bool vec;
  int valid = 0;  // this thread's channels that exist (after Bind)

  struct Raw {
    Vec<T> a, x;
  };
  __device__ void Bind(int64_t b, int64_t d0) {
    a.p += b * a.batch_stride + d0;
    x.p += b * x.batch_stride + d0;
    y.p += b * y.batch_stride + d0;
    valid = static_cast<int>(dim - d0 < kVec<T> ? dim - d0 : kVec<T>);
  }
  // Steps past the sequence are the identity (a = 1, x = 0), channels past dim too.
  __device__ Raw Fetch(int64_t t) const {
    const T one = FromAcc<T>(Acc(1)), zero = FromAcc<T>(Acc(0));
    if (t >= seq_len) {
      Raw r;
#pragma unroll
      for (int i = 0; i < kVec<T>; ++i) r.a.v[i] = one, r.x.v[i] = zero;
      return r;
    }
    return {LoadRaw(a.p + t * a.seq_stride, valid, vec, one),
            LoadRaw(x.p + t * x.seq_stride, valid, vec, zero)};
  }
  // Step t into `dst` (shared memory): asynchronously when whole vectors exist, else at once.
  __device__ void FetchAsync(Raw* dst, int64_t t) const {
    if (vec && valid == kVec<T> && t < seq_len) {
      CopyAsync16(&dst->a, a.p + t * a.seq_stride);
      CopyAsync16(&dst->x, x.p + t * x.seq_stride);
    } else {
      *dst = Fetch(t);
    }
  }
  __device__ void Decode(const Raw& r, Acc (&av)[kVec<T>], Acc (&xv)[kVec<T>]) const {
#pragma unroll
    for (int i = 0; i < kVec<T>; ++i) av[i] = ToAcc<Acc>(r.a.v[i]), xv[i] = ToAcc<Acc>(r.x.v[i]);
  }
  __device__ void Store(int64_t t, const Acc (&h)[kVec<T>]) const {
    StoreRaw<T, Acc>(y.p + t * y.seq_stride, valid, vec, h);
  }
};

// Composes h -> A1 h + H1 (first) with h -> A2 h + H2 (second) into (A, H) of the pair.
template <typename Acc>
__device__ __forceinline__ void Then(Acc& A1, Acc& H1, Acc A2, Acc H2) {
  H1 = A2 * H1 + H2;
  A1 = A2 * A1;
}

// The forward scan over any Steps (T: element type; Steps::Raw fetched ahead, decoded to the
// map h -> a h + x). h0 and h_last are [batch, dim] in Acc, either may be null. Grid: one block
// per (batch row, strip), strips fastest. Two blocks per SM (at most 128 registers), so that one
// block's loads are in flight while the other scans.
template <typename T, typename Acc, class Steps>
__global__ void __launch_bounds__(kThreads, 2)
    StreamScanForward(Steps all_steps, int64_t strips, const Acc* h0, Acc* h_last) {
  constexpr int V = kVec<T>;
  __shared__ Acc s_a[2][kWarps][kStripChannels<T>];
  __shared__ Acc s_h[2][kWarps][kStripChannels<T>];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int half = lane % kRowThreads;
  const int group_in_warp = lane / kRowThreads;
  const int group = warp * kGroupsPerWarp + group_in_warp;
  const int64_t b = blockIdx.x / strips;
  const int64_t d0 = blockIdx.x % strips * kStripChannels<T> + half * V;
  const int ch0 = half * V;  // this thread's first channel within the strip
  Steps steps = all_steps;
  steps.Bind(b, d0);

  Acc carry[V];
#pragma unroll
  for (int i = 0; i < V; ++i) {
    carry[i] = h0 != nullptr && d0 + i < steps.dim ? h0[b * steps.dim + d0 + i] : Acc(0);
  }
  const int64_t tiles = (steps.seq_len + kTile - 1) / kTile;
  // Each thread's own slots of kStages tiles: [stage][step][thread]. Only the thread that copies
  // a slot reads it, so waiting on its own copies is all the synchronisation the slots need.
  extern __shared__ uint4 stage_mem[];
  auto slot = [&](int64_t tile, int s) {
    return reinterpret_cast<typename Steps::Raw*>(stage_mem) +
           (static_cast<int>(tile % kStages) * kSteps + s) * kThreads + threadIdx.x;
  };
  auto fetch_tile = [&](int64_t tile) {
    if (tile < tiles) {
#pragma unroll
      for (int s = 0; s < kSteps; ++s) steps.FetchAsync(slot(tile, s), tile * kTile + group * kSteps + s);
    }
    CommitAsync();  // an empty group past the end keeps the count of groups per tile fixed
  };
#pragma unroll
  for (int stage = 0; stage < kStages - 1; ++stage) fetch_tile(stage);

  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t t0 = tile * kTile + group * kSteps;
    // The loads of the tile kStages - 1 ahead go out before this tile's arithmetic.
    fetch_tile(tile + kStages - 1);
    WaitAsync<kStages - 1>();
    const typename Steps::Raw* cur = slot(tile, 0);
    // 1. This thread's steps folded into one map per channel.
    Acc A[V], H[V];
#pragma unroll
    for (int i = 0; i < V; ++i) A[i] = Acc(1), H[i] = Acc(0);
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      Acc a[V], x[V];
      steps.Decode(cur[s * kThreads], a, x);
#pragma unroll
      for (int i = 0; i < V; ++i) Then(A[i], H[i], a[i], x[i]);
    }
    // 2. Inclusive scan over the warp's 16 groups (lanes of the same half): (A, H) becomes the map
    // from the warp's first step to the end of this thread's steps.
#pragma unroll
    for (int d = 1; d < kGroupsPerWarp; d *= 2) {
#pragma unroll
      for (int i = 0; i < V; ++i) {
        const Acc pa = __shfl_up_sync(0xffffffffu, A[i], d * kRowThreads);
        const Acc ph = __shfl_up_sync(0xffffffffu, H[i], d * kRowThreads);
        if (group_in_warp >= d) {
          H[i] = A[i] * ph + H[i];
          A[i] = A[i] * pa;
        }
      }
    }
    // 3. The warps' totals through shared memory (double-buffered by tile parity, so one barrier
    // per tile suffices); every thread folds them in warp order from the carry, which gives the
    // state entering its warp and the carry into the next tile. The previous group's inclusive
    // map, applied to the state entering the warp, is the state before this thread's first step.
    const int buf = static_cast<int>(tile & 1);
    if (group_in_warp == kGroupsPerWarp - 1) {
#pragma unroll
      for (int i = 0; i < V; ++i) s_a[buf][warp][ch0 + i] = A[i], s_h[buf][warp][ch0 + i] = H[i];
    }
    __syncthreads();
    Acc h[V];
#pragma unroll
    for (int i = 0; i < V; ++i) {
      Acc c = carry[i], into_warp = c;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        if (w == warp) into_warp = c;
        c = s_a[buf][w][ch0 + i] * c + s_h[buf][w][ch0 + i];
      }
      carry[i] = c;
      const Acc pa = __shfl_up_sync(0xffffffffu, A[i], kRowThreads);
      const Acc ph = __shfl_up_sync(0xffffffffu, H[i], kRowThreads);
      h[i] = group_in_warp == 0 ? into_warp : pa * into_warp + ph;
    }
    // 4. This thread's steps again, from the true state, written out.
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      Acc a[V], x[V];
      steps.Decode(cur[s * kThreads], a, x);
#pragma unroll
      for (int i = 0; i < V; ++i) h[i] = a[i] * h[i] + x[i];
      if (t0 + s < steps.seq_len) steps.Store(t0 + s, h);
    }
  }
  if (h_last != nullptr && group == 0) {
#pragma unroll
    for (int i = 0; i < V; ++i) {
      if (d0 + i < steps.dim) h_last[b * steps.dim + d0 + i] = carry[i];
    }
  }
}

}  // namespace griffin::kernels::stream
