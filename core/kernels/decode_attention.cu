// One token's attention against a cache, flash-decoding style: the split kernel gives each block a
// range of the cache's slots for one key head and up to kDecodeAttentionMaxGroup of the query
// heads that share it; its four warps walk the range kUnroll slots at a time (positions,
// documents, keys and values of those slots all in flight before any is used), each keeping a
// running maximum, sum and weighted value per head, and the block writes their combination as
// one partial per split. The combine kernel adds the partials of every split per head (one thread
// per channel) and writes the token into its slot, after every block has read the cache. RoPE of
// the query heads and the new key is recomputed in each block (a few hundred multiplies), so no
// launch runs before the split kernel. Rounding follows the ATen composition
// (core/model/attention.cpp): rotated q and k rounded to the cache's type as ApplyRope rounds them,
// each q . k rounded to it before the scale; the softmax and the weighted sum stay in float32.
#include <cuda_bf16.h>
#include <math_constants.h>

#include <algorithm>

#include "core/kernels/block_reduce.cuh"
#include "core/kernels/decode_attention.cuh"
#include "core/kernels/scalar_convert.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kMaxDim = kDecodeAttentionMaxHeadDim;
constexpr int kChan = kMaxDim / 32;  // adjacent channels per lane (one 16-byte load in bf16)
constexpr int kUnroll = 4;           // slots a warp has in flight
constexpr int64_t kMinSlotsPerSplit = 64;
constexpr int64_t kBlocksPerSm = 4;
constexpr int kCombineThreads = kMaxDim;

// Query heads per block and blocks per key head: the group split evenly into blocks of at most
// kDecodeAttentionMaxGroup heads (10 heads: two blocks of 5).
int64_t HeadBlocks(const DecodeAttentionShape& s) {
  const int64_t group = s.heads / s.kv_heads;
  return (group + kDecodeAttentionMaxGroup - 1) / kDecodeAttentionMaxGroup;
}
int HeadsPerBlock(const DecodeAttentionShape& s) {
  const int64_t group = s.heads / s.kv_heads, blocks = HeadBlocks(s);
  return static_cast<int>((group + blocks - 1) / blocks);
}

// v rounded to T as an ATen op whose output is T rounds it.
template <typename T>
__device__ __forceinline__ float Round(float v) {
  return ToAcc<float>(FromAcc<T, float>(v));
}

// Channel i of a head (staged in shared memory) rotated as ApplyRope (core/model/layers.cpp)
// computes it in T: cos and sin of the float32 angle rounded to T (the table), each product and
// their sum rounded to T (no contraction).
template <typename T>
__device__ float Rotated(const float* x, int i, int half, const float* cos_t, const float* sin_t) {
  const float xi = x[i];
  if (i >= 2 * half) return xi;
  const bool first = i < half;
  const int j = first ? i : i - half;
  const float partner = x[first ? i + half : i - half];
  const float a = Round<T>(__fmul_rn(xi, cos_t[j])), b = Round<T>(__fmul_rn(partner, sin_t[j]));
  return Round<T>(first ? __fsub_rn(a, b) : __fadd_rn(a, b));
}

template <typename T>
__device__ __forceinline__ Packed<T, kChan> LoadChannels(const T* row, int c0, int hd, bool vec) {
  return LoadRaw<T, kChan>(row + c0, hd - c0, vec, FromAcc<T, float>(0.f));
}

// Running softmax state of one lane's channels for kGroup heads.
template <int kGroup>
struct Running {
  float m[kGroup], l[kGroup], acc[kGroup][kChan];

  __device__ void Reset() {
#pragma unroll
    for (int j = 0; j < kGroup; ++j) {
      m[j] = -CUDART_INF_F;
      l[j] = 0.f;
#pragma unroll
      for (int c = 0; c < kChan; ++c) acc[j][c] = 0.f;
    }
  }

  // One visible key (k, v: this lane's channels) for every head.
  template <typename T>
  __device__ void Add(const float (&q)[kGroup][kChan], const float (&k)[kChan],
                      const float (&v)[kChan], float scale) {
#pragma unroll
    for (int j = 0; j < kGroup; ++j) {
      float dot = 0.f;
#pragma unroll
      for (int c = 0; c < kChan; ++c) dot = fmaf(q[j][c], k[c], dot);
      const float score = Round<T>(WarpSum(dot)) * scale;
      const float top = fmaxf(m[j], score);
      const float keep = expf(m[j] - top), weight = expf(score - top);
      m[j] = top;
      l[j] = l[j] * keep + weight;
#pragma unroll
      for (int c = 0; c < kChan; ++c) acc[j][c] = fmaf(acc[j][c], keep, weight * v[c]);
    }
  }
};

struct SlotRange {
  int64_t begin, end;
};

template <typename T, int kGroup>
__global__ void __launch_bounds__(kThreads)
    DecodeAttentionSplitKernel(DecodeAttentionShape s, DecodeAttentionParams p, int64_t per_split,
                               bool vec) {
  __shared__ float q_s[kGroup][kMaxDim];
  __shared__ float k_s[kMaxDim], v_s[kMaxDim];
  __shared__ float m_s[kWarps][kGroup], l_s[kWarps][kGroup];
  __shared__ float acc_s[kWarps][kGroup][kMaxDim];
  const int hd = static_cast<int>(s.head_dim), half = static_cast<int>(s.rope_half);
  const int64_t group = s.heads / s.kv_heads;
  const int64_t b = blockIdx.y / s.kv_heads, kv = blockIdx.y % s.kv_heads;
  const int64_t g0 = static_cast<int64_t>(blockIdx.z) * kGroup;
  const int64_t heads_here = min(static_cast<int64_t>(kGroup), group - g0);
  const T* qkv = static_cast<const T*>(p.qkv) + b * (s.heads + 2 * s.kv_heads) * hd;
  const int64_t qpos = p.position[b], qdoc = p.doc[b];
  const float pos = static_cast<float>(qpos);  // as positions.to(float32)

  // The token's projections this block needs (its query heads, the key, the value) staged in
  // shared memory first, every load issued before any is used (a loop that rotated as it loaded
  // waited a round trip per element: 20-40 us a launch), and the rotation's cos and sin once per
  // frequency. acc_s holds them until the walk over the slots needs it.
  float* raw = &acc_s[0][0][0];  // [kGroup + 2][hd]: q heads, k, v
  __shared__ float cos_t[kMaxDim / 2], sin_t[kMaxDim / 2];
#pragma unroll 8
  for (int e = threadIdx.x; e < (kGroup + 2) * hd; e += kThreads) {
    const int j = e / hd, i = e % hd;
    const int64_t head =
        j < kGroup ? kv * group + g0 + j : (j == kGroup ? s.heads + kv : s.heads + s.kv_heads + kv);
    raw[e] = j < heads_here || j >= kGroup ? ToAcc<float>(qkv[head * hd + i]) : 0.f;
  }
  for (int j = threadIdx.x; j < half; j += kThreads) {
    const float angle = __fmul_rn(pos, p.inv_freq[j]);
    cos_t[j] = Round<T>(cosf(angle));
    sin_t[j] = Round<T>(sinf(angle));
  }
  __syncthreads();
  for (int e = threadIdx.x; e < kGroup * hd; e += kThreads) {
    const int j = e / hd, i = e % hd;
    q_s[j][i] = j < heads_here ? Rotated<T>(raw + j * hd, i, half, cos_t, sin_t) : 0.f;
  }
  for (int i = threadIdx.x; i < hd; i += kThreads) {
    k_s[i] = Rotated<T>(raw + kGroup * hd, i, half, cos_t, sin_t);
    v_s[i] = raw[(kGroup + 1) * hd + i];
  }
  __syncthreads();
  const int64_t splits = gridDim.x;
  if (blockIdx.x == 0 && blockIdx.z == 0) {  // the token's key and value, for the combine's write
    float* fresh = p.work + s.batch * s.heads * splits * (hd + 2) + (b * s.kv_heads + kv) * 2 * hd;
    for (int i = threadIdx.x; i < hd; i += kThreads) fresh[i] = k_s[i], fresh[hd + i] = v_s[i];
  }

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, c0 = lane * kChan;
  float q[kGroup][kChan];
#pragma unroll
  for (int j = 0; j < kGroup; ++j) {
#pragma unroll
    for (int c = 0; c < kChan; ++c) q[j][c] = c0 + c < hd ? q_s[j][c0 + c] : 0.f;
  }
  Running<kGroup> run;
  run.Reset();
  // The token itself: visible to itself whatever the cache holds.
  if (blockIdx.x == splits - 1 && warp == 0) {
    float k[kChan], v[kChan];
#pragma unroll
    for (int c = 0; c < kChan; ++c) {
      k[c] = c0 + c < hd ? k_s[c0 + c] : 0.f;
      v[c] = c0 + c < hd ? v_s[c0 + c] : 0.f;
    }
    run.template Add<T>(q, k, v, s.scale);
  }

  // Written slots: the whole ring, or the growing cache's slots before this token's.
  const int64_t used = s.window > 0 ? s.slots : min(*p.start, s.slots);
  const SlotRange range{min(blockIdx.x * per_split, used), min((blockIdx.x + 1) * per_split, used)};
  const int64_t stride = s.kv_heads * hd;
  const T* keys = static_cast<const T*>(p.keys) + b * s.slots * stride + kv * hd;
  const T* values = static_cast<const T*>(p.values) + b * s.slots * stride + kv * hd;
  const int64_t* key_pos = p.key_pos + b * s.slots;
  const int64_t* key_doc = p.key_doc + b * s.slots;
  for (int64_t t0 = range.begin + warp * kUnroll; t0 < range.end; t0 += kWarps * kUnroll) {
    int64_t kp[kUnroll], kd[kUnroll];
    Packed<T, kChan> kr[kUnroll], vr[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t t = min(t0 + u, range.end - 1);  // past the end: a repeat, skipped below
      kp[u] = key_pos[t];
      kd[u] = key_doc[t];
      kr[u] = LoadChannels(keys + t * stride, c0, hd, vec);
      vr[u] = LoadChannels(values + t * stride, c0, hd, vec);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const bool visible = t0 + u < range.end && kd[u] == qdoc && kp[u] <= qpos &&
                           (s.window == 0 || qpos - kp[u] <= s.window);
      if (!visible) continue;  // the same for every lane: a slot is one warp's
      float k[kChan], v[kChan];
      Widen(kr[u], k);
      Widen(vr[u], v);
      run.template Add<T>(q, k, v, s.scale);
    }
  }

  // The warps' states combined into this split's partial: [max, sum, weighted values[hd]].
#pragma unroll
  for (int j = 0; j < kGroup; ++j) {
    if (lane == 0) m_s[warp][j] = run.m[j], l_s[warp][j] = run.l[j];
#pragma unroll
    for (int c = 0; c < kChan; ++c) {
      if (c0 + c < hd) acc_s[warp][j][c0 + c] = run.acc[j][c];
    }
  }
  __syncthreads();
  for (int e = threadIdx.x; e < heads_here * hd; e += kThreads) {
    const int j = e / hd, i = e % hd;
    float top = -CUDART_INF_F;
    for (int w = 0; w < kWarps; ++w) top = fmaxf(top, m_s[w][j]);
    float sum = 0.f, acc = 0.f;
    if (top > -CUDART_INF_F) {
      for (int w = 0; w < kWarps; ++w) {
        const float f = expf(m_s[w][j] - top);
        sum += f * l_s[w][j];
        acc += f * acc_s[w][j][i];
      }
    }
    const int64_t head = kv * group + g0 + j;
    float* part = p.work + ((b * s.heads + head) * splits + blockIdx.x) * (hd + 2);
    part[2 + i] = acc;
    if (i == 0) part[0] = top, part[1] = sum;
  }
}

// One block per (row, head), one thread per channel. The splits' maxima and weights are found by
// all threads at once (a split to a thread), then each channel's sum over the splits reads
// independent values, so its loads overlap instead of waiting on each other (a loop that
// rescaled as it went waited for every split's maximum in turn: 0.25 us a split, 0.44 ms of a
// Gemma-2B token at 8k tokens).
template <typename T>
__global__ void __launch_bounds__(kCombineThreads)
    DecodeAttentionCombineKernel(DecodeAttentionShape s, DecodeAttentionParams p, int64_t splits) {
  extern __shared__ float weight[];  // [splits]: exp(m - top), 0 for a split with nothing visible
  const int hd = static_cast<int>(s.head_dim), i = threadIdx.x;
  const int64_t b = blockIdx.x / s.heads, head = blockIdx.x % s.heads;
  const int64_t stride = hd + 2;
  const float* part = p.work + static_cast<int64_t>(blockIdx.x) * splits * stride;
  float top = -CUDART_INF_F;
  for (int64_t x = i; x < splits; x += kCombineThreads) {
    if (part[x * stride + 1] > 0.f) top = fmaxf(top, part[x * stride]);
  }
  top = BlockReduce<kCombineThreads / 32>(top, [](float a, float c) { return fmaxf(a, c); });
  float sum = 0.f;
  for (int64_t x = i; x < splits; x += kCombineThreads) {
    const float l = part[x * stride + 1];
    const float w = l > 0.f ? expf(part[x * stride] - top) : 0.f;
    weight[x] = w;
    sum += w * l;
  }
  sum = BlockReduce<kCombineThreads / 32>(sum,
                                          [](float a, float c) { return a + c; });  // a barrier too
  if (i < hd) {
    float acc = 0.f;
#pragma unroll 16
    for (int64_t x = 0; x < splits; ++x) acc = fmaf(weight[x], part[x * stride + 2 + i], acc);
    static_cast<T*>(p.out)[(b * s.heads + head) * hd + i] = FromAcc<T, float>(acc / sum);
  }

  const int64_t group = s.heads / s.kv_heads, kv = head / group;
  if (head % group != 0) return;  // one block per key head writes the token into its slot
  const int64_t start = *p.start;
  const int64_t slot = s.window > 0 ? start % s.window : start;
  if (slot >= s.slots) return;  // the host reserved room before the launch (AttentionCache)
  const float* fresh =
      p.work + s.batch * s.heads * splits * stride + (b * s.kv_heads + kv) * 2 * hd;
  const int64_t at = (b * s.slots + slot) * s.kv_heads * hd + kv * hd;
  if (i < hd) {
    static_cast<T*>(p.keys)[at + i] = FromAcc<T, float>(fresh[i]);
    static_cast<T*>(p.values)[at + i] = FromAcc<T, float>(fresh[hd + i]);
  }
  if (kv == 0 && i == 0) {
    p.key_pos[b * s.slots + slot] = p.position[b];
    p.key_doc[b * s.slots + slot] = p.doc[b];
  }
}

}  // namespace

int64_t DecodeAttentionSplits(const DecodeAttentionShape& s, int sms) {
  const int64_t rows = std::max<int64_t>(1, s.batch * s.kv_heads * HeadBlocks(s));
  const int64_t fill = (kBlocksPerSm * sms + rows - 1) / rows;
  const int64_t most = (s.slots + kMinSlotsPerSplit - 1) / kMinSlotsPerSplit;
  return std::max<int64_t>(1, std::min(fill, most));
}

int64_t DecodeAttentionWorkFloats(const DecodeAttentionShape& s, int64_t splits) {
  return s.batch * s.heads * splits * (s.head_dim + 2) + s.batch * s.kv_heads * 2 * s.head_dim;
}

cudaError_t LaunchDecodeAttention(const DecodeAttentionShape& s, const DecodeAttentionParams& p,
                                  int64_t splits, cudaStream_t stream) {
  if (s.batch == 0) return cudaSuccess;
  if (s.head_dim > kMaxDim || s.heads % s.kv_heads != 0 || splits < 1) return cudaErrorInvalidValue;
  const int64_t per_split = (s.slots + splits - 1) / splits;
  const bool vec = s.head_dim % kChan == 0 && VectorAligned(p.keys, 0, 0, s.kind) &&
                   VectorAligned(p.values, 0, 0, s.kind) &&
                   reinterpret_cast<uintptr_t>(p.keys) % 16 == 0 &&
                   reinterpret_cast<uintptr_t>(p.values) % 16 == 0;
  return DispatchScalar(s.kind, [&](auto t, auto) -> cudaError_t {
    using T = typename decltype(t)::type;
    if constexpr (std::is_same_v<T, double>) {
      return cudaErrorInvalidValue;
    } else {
      const dim3 grid(static_cast<unsigned>(splits), static_cast<unsigned>(s.batch * s.kv_heads),
                      static_cast<unsigned>(HeadBlocks(s)));
      const cudaError_t err =
          DispatchWidth<kDecodeAttentionMaxGroup>(HeadsPerBlock(s), [&](auto g) {
            DecodeAttentionSplitKernel<T, decltype(g)::value>
                <<<grid, kThreads, 0, stream>>>(s, p, per_split, vec);
            return cudaGetLastError();
          });
      if (err != cudaSuccess) return err;
      DecodeAttentionCombineKernel<T>
          <<<static_cast<unsigned>(s.batch * s.heads), kCombineThreads,
             static_cast<size_t>(splits) * sizeof(float), stream>>>(s, p, splits);
      return cudaGetLastError();
    }
  });
}

}  // namespace griffin::kernels
