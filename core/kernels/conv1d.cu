// Causal depthwise Conv1D forward and backward. A block covers 64 time steps x 128 channels: each
// of its 8 warps owns 8 consecutive steps, each lane 4 adjacent channels (one vector load per
// step), and reads the width - 1 inputs before its first step (from the carried tail before the
// chunk) so no block depends on another. The backward writes du directly and per-block partial
// sums of dw and db (reduced by the caller in a fixed order: deterministic).
#include <cuda_bf16.h>

#include <initializer_list>
#include <type_traits>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/conv1d.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using chunked::kVec;
using chunked::StoreVec;

constexpr int kWarps = 8;
constexpr int kSteps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kChannels = 32 * kVec;
constexpr int kTile = kWarps * kSteps;
constexpr int kLag = kConvMaxWidth - 1;  // inputs before a warp's first step it may need

// W is the filter width as a template parameter, so every index into the per-thread arrays is a
// compile-time constant and they stay in registers.
template <typename T, typename Acc, int W>
struct Conv {
  const T* u;
  const int64_t* pos;
  const T* w;
  const T* b;
  const T* tail;
  const int64_t* tail_pos;
  int64_t seq_len, dim;
  bool vec;
  static constexpr int64_t width = W;

  // Where step t of row b lies: in u (0 <= t < seq_len), in the tail (t < 0) or outside both.
  __device__ bool InData(int64_t t) const { return t >= 0 && t < seq_len; }
  __device__ bool InTail(int64_t t) const { return t < 0 && t >= -(width - 1); }
  // u at step t of row b, as stored (zero outside the data and the tail). Nothing is done with the
  // loaded words here, so that a thread's loads of all its steps are in flight at once (LoadRaw).
  __device__ Packed<T, kVec> LoadU(int64_t b, int64_t t, int64_t d0) const {
    if (!InData(t) && !InTail(t)) return Splat<T, kVec>(FromAcc<T>(Acc(0)));
    const T* p = InData(t) ? u + (b * seq_len + t) * dim + d0
                           : tail + (b * (width - 1) + width - 1 + t) * dim + d0;
    return LoadRaw<T, kVec>(p, dim - d0, vec, FromAcc<T>(Acc(0)));
  }
  // The position of step t of row b (1, not a document start, outside the data and the tail).
  __device__ int64_t Position(int64_t b, int64_t t) const {
    if (!InData(t) && !InTail(t)) return 1;
    return InData(t) ? pos[b * seq_len + t] : tail_pos[b * (width - 1) + width - 1 + t];
  }
  // w[k] for the lane's channels, k = 0 .. width-1 (w[width-1] multiplies the current token).
  __device__ void LoadWeights(int64_t d0, Acc (&wv)[kConvMaxWidth][kVec], Acc (&bv)[kVec]) const {
#pragma unroll
    for (int k = 0; k < kConvMaxWidth; ++k) {
#pragma unroll
      for (int v = 0; v < kVec; ++v) {
        wv[k][v] = k < width && d0 + v < dim ? ToAcc<Acc>(w[k * dim + d0 + v]) : Acc(0);
      }
    }
#pragma unroll
    for (int v = 0; v < kVec; ++v) bv[v] = d0 + v < dim ? ToAcc<Acc>(b[d0 + v]) : Acc(0);
  }
};

template <typename T, typename Acc, int W>
__global__ void __launch_bounds__(kThreads) Conv1dForwardKernel(Conv<T, Acc, W> c, T* out) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z;
  const int64_t d0 = static_cast<int64_t>(blockIdx.x) * kChannels + lane * kVec;
  const int64_t t0 = static_cast<int64_t>(blockIdx.y) * kTile + warp * kSteps;
  if (t0 >= c.seq_len) return;
  // Inputs and document starts at steps t0 - kLag .. t0 + kSteps - 1 (index i: step t0-kLag+i):
  // every load issued before any is used.
  Packed<T, kVec> raw[kSteps + kLag];
  int64_t position[kSteps + kLag];
#pragma unroll
  for (int i = 0; i < kSteps + kLag; ++i) {
    raw[i] = c.LoadU(b, t0 - kLag + i, d0);
    position[i] = c.Position(b, t0 - kLag + i);
  }
  Acc wv[kConvMaxWidth][kVec], bv[kVec];
  c.LoadWeights(d0, wv, bv);
  Acc uv[kSteps + kLag][kVec];
  bool start[kSteps + kLag];
#pragma unroll
  for (int i = 0; i < kSteps + kLag; ++i) {
    Widen(raw[i], uv[i]);
    start[i] = position[i] == 0;
  }
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    if (t0 + s >= c.seq_len) break;
    const int i = s + kLag;
    Acc acc[kVec];
#pragma unroll
    for (int v = 0; v < kVec; ++v) acc[v] = bv[v];
    bool keep = true;
#pragma unroll
    for (int k = 0; k < W; ++k) {
      if (k > 0) keep = keep && !start[i - k + 1];
      if (!keep) break;  // every older input is cut off by the same document start
#pragma unroll
      for (int v = 0; v < kVec; ++v) acc[v] += uv[i - k][v] * wv[W - 1 - k][v];
    }
    StoreVec(out + (b * c.seq_len + t0 + s) * c.dim + d0, c.dim - d0, c.vec, acc);
  }
}

template <typename T, typename Acc, int W>
__global__ void __launch_bounds__(kThreads)
    Conv1dBackwardKernel(Conv<T, Acc, W> c, const T* grad_out, T* grad_u, Acc* grad_w_partial,
                         Acc* grad_b_partial) {
  __shared__ Acc s_sum[kWarps][kChannels];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z;
  const int64_t d0 = static_cast<int64_t>(blockIdx.x) * kChannels + lane * kVec;
  const int64_t t0 = static_cast<int64_t>(blockIdx.y) * kTile + warp * kSteps;
  const int64_t padded = static_cast<int64_t>(gridDim.x) * kChannels;
  const int64_t row = b * gridDim.y + blockIdx.y;
  // Steps t0 - kLag .. t0 + kSteps - 1 + kLag (index i: step t0 - kLag + i).
  constexpr int kSpan = kSteps + 2 * kLag;
  Packed<T, kVec> u_raw[kSpan], g_raw[kSpan];
  int64_t position[kSpan];
#pragma unroll
  for (int i = 0; i < kSpan; ++i) {
    const int64_t t = t0 - kLag + i;
    u_raw[i] = c.LoadU(b, t, d0);
    position[i] = c.Position(b, t);
    g_raw[i] = c.InData(t) ? LoadRaw<T, kVec>(grad_out + (b * c.seq_len + t) * c.dim + d0,
                                              c.dim - d0, c.vec, FromAcc<T>(Acc(0)))
                           : Splat<T, kVec>(FromAcc<T>(Acc(0)));
  }
  Acc wv[kConvMaxWidth][kVec], bv[kVec];
  c.LoadWeights(d0, wv, bv);
  Acc uv[kSpan][kVec], gv[kSpan][kVec];
  bool start[kSpan];
#pragma unroll
  for (int i = 0; i < kSpan; ++i) {
    Widen(u_raw[i], uv[i]);
    Widen(g_raw[i], gv[i]);
    start[i] = position[i] == 0;
  }
  Acc dw[kConvMaxWidth][kVec], db[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    db[v] = Acc(0);
#pragma unroll
    for (int k = 0; k < kConvMaxWidth; ++k) dw[k][v] = Acc(0);
  }
#pragma unroll
  for (int s = 0; s < kSteps; ++s) {
    if (t0 + s >= c.seq_len) break;
    const int i = s + kLag;
    // du[t] = sum_k m(t + k, k) g[t + k] w[W-1-k]: the outputs that read this input.
    Acc du[kVec];
#pragma unroll
    for (int v = 0; v < kVec; ++v) du[v] = Acc(0);
    bool keep = true;
#pragma unroll
    for (int k = 0; k < W; ++k) {
      if (k > 0) keep = keep && !start[i + k];
      if (!keep) break;
#pragma unroll
      for (int v = 0; v < kVec; ++v) du[v] += gv[i + k][v] * wv[W - 1 - k][v];
    }
    StoreVec(grad_u + (b * c.seq_len + t0 + s) * c.dim + d0, c.dim - d0, c.vec, du);
    // dw[W-1-k] += m(t, k) g[t] u[t - k];  db += g[t].
    keep = true;
#pragma unroll
    for (int k = 0; k < W; ++k) {
      if (k > 0) keep = keep && !start[i - k + 1];
      if (!keep) break;
#pragma unroll
      for (int v = 0; v < kVec; ++v) dw[W - 1 - k][v] += gv[i][v] * uv[i - k][v];
    }
#pragma unroll
    for (int v = 0; v < kVec; ++v) db[v] += gv[i][v];
  }
  // Sum the warps' partials in a fixed order, one row of dw at a time, then db.
#pragma unroll
  for (int k = 0; k <= kConvMaxWidth; ++k) {
    if (k < kConvMaxWidth && k >= W) continue;
    __syncthreads();
#pragma unroll
    for (int v = 0; v < kVec; ++v)
      s_sum[warp][lane * kVec + v] = k < kConvMaxWidth ? dw[k][v] : db[v];
    __syncthreads();
    if (warp == 0) {
#pragma unroll
      for (int v = 0; v < kVec; ++v) {
        Acc sum = Acc(0);
        for (int w = 0; w < kWarps; ++w) sum += s_sum[w][lane * kVec + v];
        const int64_t ch = static_cast<int64_t>(blockIdx.x) * kChannels + lane * kVec + v;
        if (k < kConvMaxWidth) {
          grad_w_partial[(row * c.width + k) * padded + ch] = sum;
        } else {
          grad_b_partial[row * padded + ch] = sum;
        }
      }
    }
  }
}

template <typename T, typename Acc, int W>
Conv<T, Acc, W> MakeConv(const Conv1dInputs& in, bool vec) {
  return {static_cast<const T*>(in.u),
          in.positions,
          static_cast<const T*>(in.w),
          static_cast<const T*>(in.b),
          static_cast<const T*>(in.tail),
          in.tail_positions,
          in.seq_len,
          in.dim,
          vec};
}

// Calls fn(Tag<T>, Tag<Acc>, integral_constant<W>) for the input's dtype and width (1 to
// kConvMaxWidth; any other is an error) and returns the launch's error.
template <typename Fn>
cudaError_t Dispatch(const Conv1dInputs& in, Fn&& fn) {
  return DispatchScalar(in.kind, [&](auto t, auto acc) {
    return DispatchWidth<kConvMaxWidth>(static_cast<int>(in.width), [&](auto width) {
      fn(t, acc, width);
      return cudaGetLastError();
    });
  });
}

dim3 Grid(const Conv1dInputs& in) {
  return dim3(static_cast<unsigned>(Conv1dPaddedDim(in.dim) / kChannels),
              static_cast<unsigned>(Conv1dTimeTiles(in.seq_len)), static_cast<unsigned>(in.batch));
}

bool Vectorised(const Conv1dInputs& in, std::initializer_list<const void*> extra) {
  bool ok = in.dim % kVec == 0 && VectorAligned(in.u, 0, 0, in.kind) &&
            (in.tail == nullptr || VectorAligned(in.tail, 0, 0, in.kind));
  for (const void* p : extra) ok = ok && VectorAligned(p, 0, 0, in.kind);
  return ok;
}

bool Launchable(const Conv1dInputs& in) {
  return in.batch <= 65535 && Conv1dTimeTiles(in.seq_len) <= 65535 && in.width >= 1 &&
         in.width <= kConvMaxWidth;
}

}  // namespace

int64_t Conv1dTimeTiles(int64_t seq_len) { return (seq_len + kTile - 1) / kTile; }
int64_t Conv1dPaddedDim(int64_t dim) { return (dim + kChannels - 1) / kChannels * kChannels; }

cudaError_t LaunchConv1dForward(const Conv1dInputs& in, void* out, cudaStream_t stream) {
  if (in.batch == 0 || in.seq_len == 0 || in.dim == 0) return cudaSuccess;
  if (!Launchable(in)) return cudaErrorInvalidConfiguration;
  const bool vec = Vectorised(in, {out});
  return Dispatch(in, [&](auto t, auto acc, auto width) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(acc)::type;
    Conv1dForwardKernel<<<Grid(in), kThreads, 0, stream>>>(
        MakeConv<T, Acc, decltype(width)::value>(in, vec), static_cast<T*>(out));
  });
}

cudaError_t LaunchConv1dBackward(const Conv1dInputs& in, const void* grad_out, void* grad_u,
                                 void* grad_w_partial, void* grad_b_partial, cudaStream_t stream) {
  if (in.batch == 0 || in.seq_len == 0 || in.dim == 0) return cudaSuccess;
  if (!Launchable(in)) return cudaErrorInvalidConfiguration;
  const bool vec = Vectorised(in, {grad_out, grad_u});
  return Dispatch(in, [&](auto t, auto acc, auto width) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(acc)::type;
    Conv1dBackwardKernel<<<Grid(in), kThreads, 0, stream>>>(
        MakeConv<T, Acc, decltype(width)::value>(in, vec), static_cast<const T*>(grad_out),
        static_cast<T*>(grad_u), static_cast<Acc*>(grad_w_partial),
        static_cast<Acc*>(grad_b_partial));
  });
}

}  // namespace griffin::kernels
