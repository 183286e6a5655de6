// Device-side machinery shared by the chunked scans (the plain linear scan, the fused RG-LRU
// forward and its backward): the block geometry, vector I/O of four channels, and the
// single-pass carry propagation between chunks ("decoupled look-back", as in CUB's device scan,
// here with one value per channel).
//
// Geometry: a block owns kChannels channels of one batch row over kChunk time steps; each of its
// kWarps warps owns kSteps consecutive steps and each lane kVec adjacent channels, so a warp
// reads 32 x kVec contiguous channels of one time step per load (the [B, T, D] layout the model
// holds, channel stride 1). A step of the recurrence is the affine map h -> a h + b, and maps
// compose associatively, so a chunk is summarised by (A, H): h_end = A h_start + H.
//
// Carries: blocks take chunk indices in launch order from an atomic ticket, so a block only ever
// waits on blocks that are already running (no deadlock whatever the scheduler does). Each block
// publishes its aggregate (A, H) at once, then looks back over its predecessors, 32 flags per
// round (one per lane), for the nearest whose inclusive value (the true state at its end) is
// published, applies the aggregates in between in scan order, and publishes its own inclusive
// value. Applying them in scan order (rather than composing them backwards as CUB does) makes
// every carry bitwise what a strict chain would give, whatever the timing: results are
// deterministic. Data is written before a
// __threadfence() and the flag after it; readers spin on the flag, fence, then read through L2
// (__ldcg).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

#include "core/kernels/scalar_convert.cuh"
#include "core/kernels/scan_workspace.cuh"
#include "core/kernels/staged_steps.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels::chunked {

constexpr int kWarps = 8;
constexpr int kSteps = 8;
constexpr int kVec = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kChannels = 32 * kVec;
constexpr int kChunk = kWarps * kSteps;

enum : int { kEmpty = 0, kAggregate = 1, kInclusive = 2 };

inline int64_t Chunks(int64_t seq_len) {
  return seq_len == 0 ? 0 : (seq_len + kChunk - 1) / kChunk;
}
inline int64_t Tiles(int64_t dim) { return (dim + kChannels - 1) / kChannels; }

// The per-launch workspace. Values are [batch, chunks, tiles * kChannels] in the accumulation
// type; flags [batch, tiles, chunks]; one ticket counter. Flags and ticket start at zero.
template <typename Acc>
struct Links {
  Acc* agg_a;
  Acc* agg_h;
  Acc* incl;  // the state at the end of each chunk: the forward's saved carries
  int* flags;
  int* ticket;
  int64_t batch, chunks, tiles;
};

// Views a workspace allocated from ChunkedScanShape(batch, seq_len, dim) as Links (host side).
template <typename Acc>
Links<Acc> MakeLinks(const ScanWorkspace& ws, int64_t batch, int64_t seq_len, int64_t dim) {
  const ScanWorkspaceShape shape = ChunkedScanShape(batch, seq_len, dim);
  Acc* values = static_cast<Acc*>(ws.values);
  return {values,
          values + shape.values_per_array,
          values + 2 * shape.values_per_array,
          ws.flags,
          ws.flags + shape.flag_count - 1,
          batch,
          shape.chunks,
          shape.tiles};
}

struct BlockCoord {
  int64_t b, tile, chunk;
};

// Which (row, tile, chunk) this block works on: chunk-major in ticket order; `reverse` walks the
// chunks from the last (for backward scans).
template <typename Acc>
__device__ BlockCoord TakeTicket(const Links<Acc>& l, bool reverse) {
  __shared__ int64_t id;
  if (threadIdx.x == 0) id = atomicAdd(l.ticket, 1);
  __syncthreads();
  const int64_t rows = l.batch * l.tiles;
  int64_t chunk = id / rows;
  const int64_t rem = id % rows;
  if (reverse) chunk = l.chunks - 1 - chunk;
  return {rem / l.tiles, rem % l.tiles, chunk};
}

// Element <-> accumulator conversions, shared with the other kernels (scalar_convert.cuh).
using kernels::FromAcc;
using kernels::ToAcc;
using staged::CommitAsync;
using staged::WaitAsync;

// Loads kVec channels starting at p; `valid` of them exist (the rest read as `fill`). `vec`
// says the pointer and the row are aligned for one vector load (checked on the host).
template <typename T, typename Acc>
__device__ __forceinline__ void LoadVec(const T* p, int64_t valid, bool vec, Acc fill,
                                        Acc (&out)[kVec]) {
  if constexpr (std::is_same_v<T, float>) {
    if (vec && valid >= kVec) {
      const float4 v = *reinterpret_cast<const float4*>(p);
      out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
      return;
    }
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (vec && valid >= kVec) {
      const uint2 raw = *reinterpret_cast<const uint2*>(p);
      const float2 lo = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.x));
      const float2 hi = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.y));
      out[0] = lo.x, out[1] = lo.y, out[2] = hi.x, out[3] = hi.y;
      return;
    }
  }
#pragma unroll
  for (int v = 0; v < kVec; ++v) out[v] = v < valid ? ToAcc<Acc>(p[v]) : fill;
}

template <typename T, typename Acc>
__device__ __forceinline__ void StoreVec(T* p, int64_t valid, bool vec, const Acc (&in)[kVec]) {
  if constexpr (std::is_same_v<T, float>) {
    if (vec && valid >= kVec) {
      *reinterpret_cast<float4*>(p) = make_float4(in[0], in[1], in[2], in[3]);
      return;
    }
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (vec && valid >= kVec) {
      uint2 raw;
      *reinterpret_cast<__nv_bfloat162*>(&raw.x) = __floats2bfloat162_rn(in[0], in[1]);
      *reinterpret_cast<__nv_bfloat162*>(&raw.y) = __floats2bfloat162_rn(in[2], in[3]);
      *reinterpret_cast<uint2*>(p) = raw;
      return;
    }
  }
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    if (v < valid) p[v] = FromAcc<T>(in[v]);
  }
}

// Workspace values are always padded to whole tiles, so they need no bounds.
template <typename Acc>
__device__ __forceinline__ void StoreLink(Acc* p, const Acc (&in)[kVec]) {
#pragma unroll
  for (int v = 0; v < kVec; ++v) p[v] = in[v];
}
template <typename Acc>
__device__ __forceinline__ void LoadLink(const Acc* p, Acc (&out)[kVec]) {
#pragma unroll
  for (int v = 0; v < kVec; ++v) out[v] = __ldcg(p + v);
}

// How many predecessors one look-back round reads at once (one per lane), and how many aggregates
// are loaded before the first is applied.
constexpr int kLookBackWindow = 32;
constexpr int kApplyBatch = 2;

// Run by warp 0 only (all 32 lanes). Returns the distance (in chunks, >= 1) from chunk `chunk` to
// its nearest predecessor in scan order whose inclusive value is published. Each round reads the
// flags of 32 predecessors at once, lane i the one at distance base + i, so a walk over n chunks
// costs about n / 32 round trips to L2 instead of n (a serial walk made the look-back, not the
// memory, set the scan's speed). Every predecessor took its ticket before this block, so it is
// running or done: the spin ends. Past the first chunk there is nothing to read; the first chunk
// itself is always inclusive, so the walk stops before reaching that far.
__device__ inline int64_t NearestInclusive(const int* flags, int64_t chunk, int64_t chunks,
                                           bool reverse) {
  const int lane = threadIdx.x & 31;
  const int64_t toward = reverse ? 1 : -1;
  for (int64_t base = 1;; base += kLookBackWindow) {
    const int64_t k = chunk + toward * (base + lane);
    int flag = kEmpty;
    if (k >= 0 && k < chunks) {
      const volatile int* f = flags + k;
      while ((flag = *f) == kEmpty) {
      }
    }
    const unsigned inclusive = __ballot_sync(0xffffffffu, flag == kInclusive);
    if (inclusive != 0) return base + __ffs(inclusive) - 1;
  }
}

// Run by warp 0 only (all 32 lanes; lane l owns channels l*kVec ..). Given this chunk's aggregate
// (A, H) and `start` (the state before the first chunk in scan order), returns the carry into
// this chunk and publishes this chunk's inclusive value A carry + H. `reverse` scans from the
// last chunk to the first.
template <typename Acc>
__device__ void PropagateCarry(const Links<Acc>& l, const BlockCoord& c, bool reverse,
                               const Acc (&A)[kVec], const Acc (&H)[kVec], const Acc (&start)[kVec],
                               Acc (&carry)[kVec]) {
  const int lane = threadIdx.x & 31;
  const int64_t padded = l.tiles * kChannels;
  const int64_t toward = reverse ? 1 : -1;
  // The lane's channels of a predecessor's value, `distance` chunks back in scan order.
  auto value_at = [&](Acc* base, int64_t distance) {
    return base + (c.b * l.chunks + c.chunk + toward * distance) * padded + c.tile * kChannels +
           lane * kVec;
  };
  int* flags = l.flags + (c.b * l.tiles + c.tile) * l.chunks;
  const bool first = reverse ? c.chunk == l.chunks - 1 : c.chunk == 0;
  if (first) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) carry[v] = start[v];
  } else {
    StoreLink(value_at(l.agg_a, 0), A);
    StoreLink(value_at(l.agg_h, 0), H);
    __threadfence();
    __syncwarp();
    if (lane == 0) atomicExch(flags + c.chunk, kAggregate);
    const int64_t nearest = NearestInclusive(flags, c.chunk, l.chunks, reverse);
    __syncwarp();  // one lane saw the flag; the whole warp reads the values behind it
    __threadfence();
    // Apply the maps in scan order from that inclusive value: the same operations, in the same
    // order, as a strict chain of inclusive values would do, so the result does not depend on
    // how far the walk went (which varies with scheduling): the scan is deterministic. The loads
    // of a batch are all issued before its first map is applied.
    LoadLink(value_at(l.incl, nearest), carry);
    for (int64_t d = nearest - 1; d >= 1; d -= kApplyBatch) {
      Acc a[kApplyBatch][kVec], h[kApplyBatch][kVec];
#pragma unroll
      for (int i = 0; i < kApplyBatch; ++i) {
        if (d - i >= 1) {
          LoadLink(value_at(l.agg_a, d - i), a[i]);
          LoadLink(value_at(l.agg_h, d - i), h[i]);
        }
      }
#pragma unroll
      for (int i = 0; i < kApplyBatch; ++i) {
        if (d - i >= 1) {
#pragma unroll
          for (int v = 0; v < kVec; ++v) carry[v] = a[i][v] * carry[v] + h[i][v];
        }
      }
    }
  }
  Acc incl[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) incl[v] = A[v] * carry[v] + H[v];
  StoreLink(value_at(l.incl, 0), incl);
  __threadfence();
  __syncwarp();
  if (lane == 0) atomicExch(flags + c.chunk, kInclusive);
}

// A lane's kVec adjacent channels of a row of per-warp values in shared memory (s_a, s_h: each
// declared alignas(16)), read or written as one vector: value by value, the lanes' 16-byte stride
// makes every access a 4-way bank conflict.
template <typename Acc>
struct alignas(kVec * sizeof(Acc) >= 16 ? 16 : kVec * sizeof(Acc)) LaneValues {
  Acc v[kVec];
};
template <typename Acc>
__device__ __forceinline__ void ReadLane(const Acc* row, Acc (&out)[kVec]) {
  const LaneValues<Acc> l = reinterpret_cast<const LaneValues<Acc>*>(row)[threadIdx.x & 31];
#pragma unroll
  for (int v = 0; v < kVec; ++v) out[v] = l.v[v];
}
template <typename Acc>
__device__ __forceinline__ void WriteLane(Acc* row, const Acc (&in)[kVec]) {
  LaneValues<Acc> l;
#pragma unroll
  for (int v = 0; v < kVec; ++v) l.v[v] = in[v];
  reinterpret_cast<LaneValues<Acc>*>(row)[threadIdx.x & 31] = l;
}

// Run by warp 0 once ComposeWarps has left in (s_a[w], s_h[w]) the map from the chunk's start to
// warp w's: applies each to `carry`, the state entering the chunk, leaving in s_h[w] the state
// entering warp w.
template <typename Acc>
__device__ __forceinline__ void CarryToWarps(Acc (*s_a)[kChannels], Acc (*s_h)[kChannels],
                                             const Acc (&carry)[kVec]) {
  for (int w = 0; w < kWarps; ++w) {
    Acc a[kVec], h[kVec];
    ReadLane(s_a[w], a);
    ReadLane(s_h[w], h);
#pragma unroll
    for (int v = 0; v < kVec; ++v) h[v] = a[v] * carry[v] + h[v];
    WriteLane(s_h[w], h);
  }
}

// Composes the warps' aggregates of one chunk in scan order (warp 0 first, or last when
// `reverse`): on return s_a[w], s_h[w] hold the map from the chunk's start to warp w's start, and
// (A, H) the whole chunk's. Run by warp 0; lane l handles its kVec channels.
template <typename Acc>
__device__ void ComposeWarps(Acc (*s_a)[kChannels], Acc (*s_h)[kChannels], bool reverse,
                             Acc (&A)[kVec], Acc (&H)[kVec]) {
#pragma unroll
  for (int v = 0; v < kVec; ++v) A[v] = Acc(1), H[v] = Acc(0);
  for (int i = 0; i < kWarps; ++i) {
    const int w = reverse ? kWarps - 1 - i : i;
    Acc wa[kVec], wh[kVec];
    ReadLane(s_a[w], wa);
    ReadLane(s_h[w], wh);
    WriteLane(s_a[w], A);
    WriteLane(s_h[w], H);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      H[v] = wa[v] * H[v] + wh[v];
      A[v] *= wa[v];
    }
  }
}

// Loads this thread's kSteps steps from t0, a group of steps at a time: each step's raw inputs
// first (Source::Fetch, which does no arithmetic on what it loads), then their maps
// (Source::Decode), so that a group's loads are all in flight at once (vector_access.cuh,
// LoadRaw). A group holds at most 256 bytes of raw inputs a thread (64 registers): plain fp32
// steps (32 bytes) go 8 at a time, fp32 RG-LRU ones (56 bytes) 4 at a time, since 8 spilled at
// the forward's 128 registers (bf16 RG-LRU steps are staged in shared memory instead). Steps past
// the sequence are the identity.
template <typename Acc, class Source>
__device__ __forceinline__ void LoadSteps(const Source& src, int64_t b, int64_t t0, int64_t d0,
                                          Acc (&a)[kSteps][kVec], Acc (&x)[kSteps][kVec]) {
  using Raw = typename Source::Raw;
  constexpr int kGroup = sizeof(Raw) >= 256            ? 1
                         : 256 / sizeof(Raw) >= kSteps ? kSteps
                                                       : 256 / sizeof(Raw);
  static_assert(kSteps % kGroup == 0, "whole groups");
#pragma unroll
  for (int g = 0; g < kSteps; g += kGroup) {
    Raw raw[kGroup];
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (t0 + g + i < src.seq_len) raw[i] = src.Fetch(b, t0 + g + i, d0);
    }
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      const int s = g + i;
      if (t0 + s < src.seq_len) {
        src.Decode(raw[i], d0, a[s], x[s]);
      } else {
#pragma unroll
        for (int v = 0; v < kVec; ++v) a[s][v] = Acc(1), x[s][v] = Acc(0);
      }
    }
  }
}

// The aggregate (A, H) of this thread's steps, step(s, a, b) giving step s's map h -> a h + b,
// into its lane's slots of its warp's row (s_a[warp], s_h[warp]).
template <typename Acc, class Step>
__device__ __forceinline__ void StoreWarpAggregate(const Step& step, Acc* s_a, Acc* s_h) {
  Acc A[kVec], H[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) A[v] = Acc(1), H[v] = Acc(0);
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    Acc a[kVec], b[kVec];
    step(s, a, b);
#pragma unroll
    for (int v = 0; v < kVec; ++v) H[v] = a[v] * H[v] + b[v], A[v] *= a[v];
  }
  WriteLane(s_a, A);
  WriteLane(s_h, H);
}

// The same over steps held in registers, channel by channel: the order the register kernel
// (ChunkedScanForward) was measured with; in the order above its sm_90 code differs.
template <typename Acc>
__device__ __forceinline__ void StoreWarpAggregate(const Acc (&a)[kSteps][kVec],
                                                   const Acc (&x)[kSteps][kVec], Acc* s_a,
                                                   Acc* s_h) {
  Acc A[kVec], H[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    A[v] = Acc(1), H[v] = Acc(0);
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      H[v] = a[s][v] * H[v] + x[s][v];
      A[v] *= a[s][v];
    }
  }
  WriteLane(s_a, A);
  WriteLane(s_h, H);
}

// This thread's kVec channels of one warp's row of shared values.
template <typename Acc>
__device__ __forceinline__ void ReadLaneChannels(const Acc* row, Acc (&out)[kVec]) {
  ReadLane(row, out);
}

// Run by warp 0 of a forward chunk once every warp's aggregate is in (s_a, s_h): composes them,
// takes the carry into the chunk through the look-back (h0, or zero, before the first chunk),
// leaves in s_h the state entering each warp's steps, and writes h_last [batch, dim] (either may be
// null) from the sequence's last chunk.
template <typename Acc>
__device__ __forceinline__ void CarryIntoWarps(const Links<Acc>& links, const BlockCoord& c,
                                               Acc (*s_a)[kChannels], Acc (*s_h)[kChannels],
                                               const Acc* h0, Acc* h_last, int64_t dim,
                                               int64_t d0) {
  Acc A[kVec], H[kVec], start[kVec], carry[kVec];
  ComposeWarps(s_a, s_h, /*reverse=*/false, A, H);
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    start[v] = h0 != nullptr && d0 + v < dim ? h0[c.b * dim + d0 + v] : Acc(0);
  }
  PropagateCarry(links, c, /*reverse=*/false, A, H, start, carry);
  CarryToWarps(s_a, s_h, carry);
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    if (c.chunk == links.chunks - 1 && h_last != nullptr && d0 + v < dim) {
      h_last[c.b * dim + d0 + v] = A[v] * carry[v] + H[v];
    }
  }
}

// The forward chunked scan over any Source of steps. Source provides seq_len, dim, h0 and h_last
// (Acc*, [batch, dim], either may be null), Raw, Fetch(b, t, d0) loading step t's inputs for
// the kVec channels at d0 (t < seq_len), Decode(raw, d0, a, x) giving its map h -> a h + x
// (channels past dim the identity a = 1, x = 0) and Store(b, t, d0, h).
// Two blocks per SM (at most 128 registers): with one, half the loads are in flight and the
// measured bandwidth halves (seen at 148-192 registers).
template <typename Acc, class Source>
__global__ void __launch_bounds__(kThreads, 2) ChunkedScanForward(Source src, Links<Acc> links) {
  __shared__ alignas(16) Acc s_a[kWarps][kChannels];
  __shared__ alignas(16) Acc s_h[kWarps][kChannels];
  const BlockCoord c = TakeTicket(links, /*reverse=*/false);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d0 = c.tile * kChannels + lane * kVec;
  const int64_t t0 = c.chunk * kChunk + warp * kSteps;

  Acc a[kSteps][kVec], x[kSteps][kVec];
  LoadSteps(src, c.b, t0, d0, a, x);
  StoreWarpAggregate(a, x, s_a[warp], s_h[warp]);
  __syncthreads();
  if (warp == 0) CarryIntoWarps(links, c, s_a, s_h, src.h0, src.h_last, src.dim, d0);
  __syncthreads();
  Acc h[kVec];
  ReadLaneChannels(s_h[warp], h);
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) h[v] = a[s][v] * h[v] + x[s][v];
    if (t0 + s < src.seq_len) src.Store(c.b, t0 + s, d0, h);
  }
}

// The same forward scan over Steps staged through shared memory (staged_steps.cuh): Steps::Raw
// of each thread's kSteps steps wait in dynamic shared memory (kStagedBytes<Steps>), not in
// registers. A block is latency-bound (its ticket, loads, aggregate, look-back and inclusive value
// are round trips in series), so throughput is what is resident: for the plain scan in bf16, 64
// registers a thread instead of 128 let 4 blocks share an SM (32 KB of staged inputs a block),
// and shared memory, idle otherwise, holds their inputs; the bf16 RG-LRU's 64 KB a block leave 3
// (kStagedBlocks). Steps provides seq_len, dim, Bind(b, d0), Stage(Raw*, t),
// Decode(Raw, a, x) and Store(t, h) for kVec channels, and kDecodeOnce: whether the first pass
// writes each step's decoded map over its raw inputs (which must be large enough) for the second
// to read, rather than decoding twice (worth it where decoding is the RG-LRU's gate math).
template <class Steps>
constexpr int kStagedBytes = static_cast<int>(sizeof(typename Steps::Raw)) * (kSteps * kThreads);

// The static shared memory every chunked-scan kernel has: the per-warp rows s_a and s_h.
template <typename Acc>
constexpr int kWarpRowBytes = 2 * kWarps* kChannels* int{sizeof(Acc)};
// Blocks of a chunked-scan kernel with `dynamic` bytes of shared memory that an SM holds (227 KB,
// 1 KB reserved a block).
template <typename Acc>
constexpr int BlocksBySharedMemory(int dynamic) {
  return 227 * 1024 / (dynamic + 1024 + kWarpRowBytes<Acc>);
}
// Lets `kernel` take `dynamic` bytes of shared memory, where with the warp rows that is more than
// the 48 KB a launch may take without asking.
template <typename Acc, int dynamic, typename Kernel>
cudaError_t AllowSharedMemory(Kernel kernel) {
  if constexpr (dynamic + kWarpRowBytes < Acc >> 48 * 1024) {
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic);
  } else {
    return cudaSuccess;
  }
}

// Blocks an SM holds of the staged forward, at most 4.
template <typename Acc, class Steps>
constexpr int kStagedBlocks = BlocksBySharedMemory<Acc>(kStagedBytes<Steps>) < 4
                                  ? BlocksBySharedMemory<Acc>(kStagedBytes<Steps>)
                                  : 4;

template <typename Acc, class Steps>
__global__ void __launch_bounds__(kThreads, (kStagedBlocks<Acc, Steps>))
    ChunkedScanForwardStaged(Steps all_steps, const Acc* h0, Acc* h_last, Links<Acc> links) {
  __shared__ alignas(16) Acc s_a[kWarps][kChannels];
  __shared__ alignas(16) Acc s_h[kWarps][kChannels];
  extern __shared__ uint4 staged_mem[];  // [kSteps][kThreads] Raw: each thread reads its own
  const BlockCoord c = TakeTicket(links, /*reverse=*/false);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d0 = c.tile * kChannels + lane * kVec;
  const int64_t t0 = c.chunk * kChunk + warp * kSteps;
  Steps steps = all_steps;
  steps.Bind(c.b, d0);
  using Raw = typename Steps::Raw;
  auto slot = [&](int s) {
    return reinterpret_cast<Raw*>(staged_mem) + s * kThreads + threadIdx.x;
  };
  // A step's decoded map in its own slot (kDecodeOnce), written and read whole: as vectors, not
  // value by value, which at a 32-byte slot stride took 8 shared-memory wavefronts per value and
  // bound the kernel (Nsight Compute, bf16 RG-LRU: L1/shared 89% busy, DRAM 21%).
  struct alignas(16) Map {
    Acc a[kVec], x[kVec];
  };
  auto decoded = [&](int s) { return reinterpret_cast<Map*>(slot(s)); };
  static_assert(!Steps::kDecodeOnce || (sizeof(Raw) >= sizeof(Map) && alignof(Raw) >= 16),
                "a decoded map must fit in its step's slot");
#pragma unroll
  for (int s = 0; s < kSteps; ++s) steps.Stage(slot(s), t0 + s);
  CommitAsync();
  WaitAsync<0>();
  StoreWarpAggregate(
      [&](int s, Acc(&a)[kVec], Acc(&x)[kVec]) {
        steps.Decode(*slot(s), a, x);
        if constexpr (Steps::kDecodeOnce) {
          Map m;
#pragma unroll
          for (int v = 0; v < kVec; ++v) m.a[v] = a[v], m.x[v] = x[v];
          *decoded(s) = m;
        }
      },
      s_a[warp], s_h[warp]);
  __syncthreads();
  if (warp == 0) CarryIntoWarps(links, c, s_a, s_h, h0, h_last, steps.dim, d0);
  __syncthreads();
  Acc h[kVec];
  ReadLaneChannels(s_h[warp], h);
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    Acc a[kVec], x[kVec];
    if constexpr (Steps::kDecodeOnce) {
      const Map m = *decoded(s);
#pragma unroll
      for (int v = 0; v < kVec; ++v) a[v] = m.a[v], x[v] = m.x[v];
    } else {
      steps.Decode(*slot(s), a, x);
    }
#pragma unroll
    for (int v = 0; v < kVec; ++v) h[v] = a[v] * h[v] + x[v];
    if (t0 + s < steps.seq_len) steps.Store(t0 + s, h);
  }
}

// Launches ChunkedScanForwardStaged<Acc, Steps>.
template <typename Acc, class Steps>
cudaError_t LaunchForwardStaged(const Steps& steps, const Acc* h0, Acc* h_last,
                                const Links<Acc>& links, unsigned blocks, cudaStream_t stream) {
  const auto kernel = ChunkedScanForwardStaged<Acc, Steps>;
  constexpr int smem = kStagedBytes<Steps>;
  if (const cudaError_t e = AllowSharedMemory<Acc, smem>(kernel); e != cudaSuccess) return e;
  kernel<<<blocks, kThreads, smem, stream>>>(steps, h0, h_last, links);
  return cudaGetLastError();
}

// The backward of a chunked scan. For h_t = a_t h_{t-1} + b_t with g_t = dL/dh_t from the
// outputs (plus, at the last step, dL/dh_last):
//   dh_t = g_t + a_{t+1} dh_{t+1},  db_t = dh_t,  da_t = dh_t h_{t-1}.
// The message m_t = a_t dh_t, what step t passes back to step t - 1, obeys m_t = a_t (g_t +
// m_{t+1}): a scan with the same decays run from the last step, so it is chunked and carried like
// the forward, with chunks taken from the last (TakeTicket(links, true), a fresh workspace).
// h_{t-1} is not saved by the forward: each chunk replays it from the forward's inclusive value of
// the chunk before (its saved carries), so the backward reads the forward's inputs again instead of
// a full-precision copy of every state. The steps: StatesBeforeSteps, MessageIntoWarp, then each
// op walks its warp's steps backwards from that message.

// Run by the whole block. step(s, a, b) gives step t0 + s's map h -> a h + b for this thread's
// kVec channels (the identity past the sequence); keep(s, h) receives h_{t-1}, the state before
// step t = t0 + s, replayed from the carry into this chunk: the forward's inclusive value of the
// previous chunk (`carries`, [batch, chunks, tiles * kChannels]), h0 (may be null: zero) for the
// first chunk. keep(s) comes after step(s) for each s, so both may use the same storage. s_a and
// s_h are free again after the next __syncthreads.
template <typename Acc, class Step, class Keep>
__device__ __forceinline__ void StatesBeforeSteps(const Links<Acc>& links, const BlockCoord& c,
                                                  Acc (*s_a)[kChannels], Acc (*s_h)[kChannels],
                                                  const Acc* carries, const Acc* h0, int64_t dim,
                                                  int64_t d0, const Step& step, const Keep& keep) {
  const int warp = threadIdx.x / 32;
  const int64_t padded = links.tiles * kChannels;
  StoreWarpAggregate(step, s_a[warp], s_h[warp]);
  __syncthreads();
  if (warp == 0) {
    Acc A[kVec], H[kVec], carry[kVec];
    ComposeWarps(s_a, s_h, /*reverse=*/false, A, H);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      carry[v] = Acc(0);
      if (c.chunk > 0) {
        carry[v] = carries[(c.b * links.chunks + c.chunk - 1) * padded + d0 + v];
      } else if (h0 != nullptr && d0 + v < dim) {
        carry[v] = h0[c.b * dim + d0 + v];
      }
    }
    CarryToWarps(s_a, s_h, carry);
  }
  __syncthreads();
  Acc h[kVec];
  ReadLaneChannels(s_h[warp], h);
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    Acc a[kVec], b[kVec];
    step(s, a, b);
    keep(s, h);
#pragma unroll
    for (int v = 0; v < kVec; ++v) h[v] = a[v] * h[v] + b[v];
  }
}

// dL/dy of step t for this thread's kVec channels, from a contiguous [batch, seq_len, dim]
// gradient; zero past the sequence.
template <typename T, typename Acc>
__device__ __forceinline__ void LoadStepGrad(const T* grad, int64_t b, int64_t t, int64_t d0,
                                             int64_t seq_len, int64_t dim, bool vec,
                                             Acc (&g)[kVec]) {
  if (t < seq_len) {
    LoadVec(grad + (b * seq_len + t) * dim + d0, dim - d0, vec, Acc(0), g);
  } else {
#pragma unroll
    for (int v = 0; v < kVec; ++v) g[v] = Acc(0);
  }
}

// The same for this thread's kSteps steps from t0, every load issued before any is widened
// (LoadRaw).
template <typename T, typename Acc>
__device__ __forceinline__ void LoadStepGrads(const T* grad, int64_t b, int64_t t0, int64_t d0,
                                              int64_t seq_len, int64_t dim, bool vec,
                                              Acc (&g)[kSteps][kVec]) {
  Packed<T, kVec> raw[kSteps];
  const T zero = FromAcc<T>(Acc(0));
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    const int64_t t = t0 + s;
    raw[s] = t < seq_len
                 ? LoadRaw<T, kVec>(grad + (b * seq_len + t) * dim + d0, dim - d0, vec, zero)
                 : Splat<T, kVec>(zero);
  }
#pragma unroll
  for (int s = 0; s < kSteps; ++s) Widen(raw[s], g[s]);
}

// Run by the whole block; a(s, v) is step t0 + s's decay of channel v, grad(s, g) gives step
// t0 + s's output gradients (zero past the sequence). Returns in m the message entering this warp's
// last step from the right: from the later steps of this chunk and, through the reverse look-back,
// from every later chunk; `start` is the message into the sequence's last step (dL/dh_last, or
// zero).
template <typename Acc, class Decay, class Grad>
__device__ __forceinline__ void MessageIntoWarp(const Links<Acc>& links, const BlockCoord& c,
                                                Acc (*s_a)[kChannels], Acc (*s_h)[kChannels],
                                                const Decay& a, const Grad& grad,
                                                const Acc (&start)[kVec], Acc (&m)[kVec]) {
  const int warp = threadIdx.x / 32;
  __syncthreads();  // everyone has read s_h before it is reused
  // Each warp's map m_out = A m_in + H over its steps, walked from its last step.
  Acc A[kVec], msg[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) A[v] = Acc(1), msg[v] = Acc(0);
#pragma unroll
  for (int s = kSteps - 1; s >= 0; --s) {
    Acc g[kVec];
    grad(s, g);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      msg[v] = a(s, v) * (g[v] + msg[v]);
      A[v] *= a(s, v);
    }
  }
  WriteLane(s_a[warp], A);
  WriteLane(s_h[warp], msg);
  __syncthreads();
  if (warp == 0) {
    Acc A_chunk[kVec], H[kVec], carry[kVec];
    ComposeWarps(s_a, s_h, /*reverse=*/true, A_chunk, H);
    PropagateCarry(links, c, /*reverse=*/true, A_chunk, H, start, carry);
    CarryToWarps(s_a, s_h, carry);
  }
  __syncthreads();
  ReadLaneChannels(s_h[warp], m);
}

}  // namespace griffin::kernels::chunked
