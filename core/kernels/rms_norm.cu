// RMSNorm forward and backward. One warp per row: each lane reads kVec adjacent channels per
// vector load, the sum of squares (forward) or of dy * gain * x_hat (backward) is reduced across
// the warp, and a second pass over the row (from L1/L2) writes the result. A forward of few rows
// (a decode step's) takes a whole block per row instead: one warp walking a 2560-wide row is 20
// loads in turn, about 7 us, where a block's 256 threads issue them at once. The scale's gradient
// is a column sum over rows: a second backward kernel writes one partial sum per RowsPerPartial
// rows (threads own channels, so the loads coalesce across the warp) that the caller adds in a
// fixed order, so its bits never depend on scheduling.
#include <cuda_bf16.h>

#include <algorithm>

#include "core/kernels/block_reduce.cuh"
#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/rms_norm.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using chunked::kVec;
using chunked::LoadVec;
using chunked::StoreVec;
using chunked::ToAcc;

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int64_t kMinRowsPerPartial = 128;
constexpr int64_t kMaxPartials = 32768;  // under the grid's y limit of 65535

int64_t RowsPerPartial(int64_t rows) {
  return std::max(kMinRowsPerPartial, (rows + kMaxPartials - 1) / kMaxPartials);
}

// One row's view for a lane: x (and dy) at channels d0 .. d0 + kVec - 1, and the gain there.
template <typename T, typename Acc>
struct Rows {
  const T* x;
  const void* scale;  // Acc, or T when scale_is_t (a model's own norm weights: no conversion)
  bool scale_is_t;
  int64_t rows, dim;
  bool vec;  // every row and the scale start on a vector boundary

  __device__ void Load(const T* base, int64_t row, int64_t d0, Acc (&out)[kVec]) const {
    LoadVec(base + row * dim + d0, dim - d0, vec, Acc(0), out);
  }
  __device__ void Gain(int64_t d0, Acc (&out)[kVec]) const {
    if (scale_is_t) {
      LoadVec(static_cast<const T*>(scale) + d0, dim - d0, vec, Acc(0), out);
    } else {
      LoadVec(static_cast<const Acc*>(scale) + d0, dim - d0, vec, Acc(0), out);
    }
#pragma unroll
    for (int v = 0; v < kVec; ++v) out[v] += Acc(1);
  }
};

// The threads of a row: a warp (kRowThreads 32) or the whole block (kThreads). Sum reduces over
// them, in every one of them.
template <int kRowThreads>
struct RowThreads {
  static_assert(kRowThreads == 32 || kRowThreads == kThreads, "a warp or the block");
  int64_t row;
  int lane;  // the thread's index within its row

  __device__ RowThreads()
      : row(static_cast<int64_t>(blockIdx.x) * (kThreads / kRowThreads) +
            threadIdx.x / kRowThreads),
        lane(static_cast<int>(threadIdx.x % kRowThreads)) {}

  template <typename Acc>
  __device__ Acc Sum(Acc v) const {
    if constexpr (kRowThreads == kThreads) {
      return BlockReduce<kWarps>(v, [](Acc a, Acc b) { return a + b; });
    } else {
      return WarpSum(v);
    }
  }
};

template <typename T, typename Acc, int kRowThreads>
__global__ void __launch_bounds__(kThreads)
    RmsNormForwardKernel(Rows<T, Acc> r, Acc eps, T* y, Acc* rstd) {
  const RowThreads<kRowThreads> t;
  const int64_t row = t.row;
  const int lane = t.lane;
  if (row >= r.rows) return;  // a whole block or a whole warp: Sum's barrier is uniform
  Acc squares = Acc(0);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += kRowThreads * kVec) {
    Acc x[kVec];
    r.Load(r.x, row, d0, x);
#pragma unroll
    for (int v = 0; v < kVec; ++v) squares += x[v] * x[v];
  }
  // As the reference: x * rsqrt(mean(x^2) + eps) * (1 + scale), in that order.
  const Acc inv = rsqrt(t.Sum(squares) / Acc(r.dim) + eps);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += kRowThreads * kVec) {
    Acc x[kVec], gain[kVec];
    r.Load(r.x, row, d0, x);
    r.Gain(d0, gain);
#pragma unroll
    for (int v = 0; v < kVec; ++v) x[v] = x[v] * inv * gain[v];
    StoreVec(y + row * r.dim + d0, r.dim - d0, r.vec, x);
  }
  if (lane == 0) rstd[row] = inv;
}

// The residual add first: each lane writes its channels of the rounded sum and, in the second
// pass, reads back what it wrote itself (no other thread touches them).
template <typename T, typename Acc, int kRowThreads>
__global__ void __launch_bounds__(kThreads)
    AddRmsNormForwardKernel(Rows<T, Acc> r, const T* delta, Acc eps, T* sum, T* y) {
  const RowThreads<kRowThreads> t;
  const int64_t row = t.row;
  const int lane = t.lane;
  if (row >= r.rows) return;
  Acc squares = Acc(0);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += kRowThreads * kVec) {
    Acc x[kVec], d[kVec];
    r.Load(r.x, row, d0, x);
    r.Load(delta, row, d0, d);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      x[v] = ToAcc<Acc>(FromAcc<T, Acc>(x[v] + d[v]));
      squares += x[v] * x[v];
    }
    StoreVec(sum + row * r.dim + d0, r.dim - d0, r.vec, x);
  }
  const Acc inv = rsqrt(t.Sum(squares) / Acc(r.dim) + eps);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += kRowThreads * kVec) {
    Acc x[kVec], gain[kVec];
    r.Load(sum, row, d0, x);
    r.Gain(d0, gain);
#pragma unroll
    for (int v = 0; v < kVec; ++v) x[v] = x[v] * inv * gain[v];
    StoreVec(y + row * r.dim + d0, r.dim - d0, r.vec, x);
  }
}

// dx = rstd * (g - x_hat * mean(g * x_hat)), g = dy * gain, x_hat = x * rstd.
template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads)
    RmsNormBackwardInputKernel(Rows<T, Acc> r, const Acc* rstd, const T* dy, T* dx) {
  const int lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= r.rows) return;
  const Acc inv = rstd[row];
  Acc dot = Acc(0);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += 32 * kVec) {
    Acc x[kVec], g[kVec], gain[kVec];
    r.Load(r.x, row, d0, x);
    r.Load(dy, row, d0, g);
    r.Gain(d0, gain);
#pragma unroll
    for (int v = 0; v < kVec; ++v) dot += g[v] * gain[v] * (x[v] * inv);
  }
  const Acc mean_dot = WarpSum(dot) / Acc(r.dim);
  for (int64_t d0 = lane * kVec; d0 < r.dim; d0 += 32 * kVec) {
    Acc x[kVec], g[kVec], gain[kVec];
    r.Load(r.x, row, d0, x);
    r.Load(dy, row, d0, g);
    r.Gain(d0, gain);
#pragma unroll
    for (int v = 0; v < kVec; ++v) x[v] = inv * (g[v] * gain[v] - x[v] * inv * mean_dot);
    StoreVec(dx + row * r.dim + d0, r.dim - d0, r.vec, x);
  }
}

// partial[p, d] = sum over rows p * per .. (p + 1) * per - 1 of dy * x * rstd.
template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads)
    RmsNormBackwardScaleKernel(Rows<T, Acc> r, const Acc* rstd, const T* dy, int64_t per,
                               Acc* partial) {
  const int64_t d = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (d >= r.dim) return;
  const int64_t first = static_cast<int64_t>(blockIdx.y) * per;
  const int64_t last = first + per < r.rows ? first + per : r.rows;
  Acc sum = Acc(0);
  for (int64_t row = first; row < last; ++row) {
    const int64_t i = row * r.dim + d;
    sum += ToAcc<Acc>(dy[i]) * (ToAcc<Acc>(r.x[i]) * rstd[row]);
  }
  partial[blockIdx.y * r.dim + d] = sum;
}

// Rows of dim elements take vector loads when every row start (and the scale) is aligned.
template <typename T, typename Acc>
Rows<T, Acc> RowsOf(const RmsNormShape& s, const void* x, const void* scale,
                    std::initializer_list<const void*> others) {
  const ScalarKind acc = sizeof(Acc) == 8 ? ScalarKind::kFloat64 : ScalarKind::kFloat32;
  bool vec = VectorAligned(x, s.dim, s.dim, s.kind) &&
             VectorAligned(scale, 0, 0, s.scale_in_kind ? s.kind : acc);
  for (const void* p : others) vec = vec && VectorAligned(p, s.dim, s.dim, s.kind);
  return {static_cast<const T*>(x), scale, s.scale_in_kind, s.rows, s.dim, vec};
}

unsigned RowBlocks(int64_t rows) { return static_cast<unsigned>((rows + kWarps - 1) / kWarps); }

// Forwards of at most this many rows take a block per row (a decode step's few rows); more rows
// fill the GPU with a warp each.
constexpr int64_t kBlockRowsUpTo = 512;

// Launches kernel<kRowThreads> for the rows: a block per row or a warp per row.
template <typename Launch>
cudaError_t LaunchRows(int64_t rows, Launch&& launch) {
  if (rows <= kBlockRowsUpTo) {
    launch(std::integral_constant<int, kThreads>{}, static_cast<unsigned>(rows));
  } else {
    launch(std::integral_constant<int, 32>{}, RowBlocks(rows));
  }
  return cudaGetLastError();
}

}  // namespace

int64_t RmsNormPartialRows(int64_t rows) {
  const int64_t per = RowsPerPartial(rows);
  return (rows + per - 1) / per;
}

cudaError_t LaunchRmsNormForward(const RmsNormShape& s, const void* x, const void* scale,
                                 double eps, void* y, void* rstd, cudaStream_t stream) {
  if (s.rows == 0) return cudaSuccess;
  return DispatchScalar(s.kind, [&](auto t, auto a) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(a)::type;
    return LaunchRows(s.rows, [&](auto row_threads, unsigned blocks) {
      RmsNormForwardKernel<T, Acc, decltype(row_threads)::value>
          <<<blocks, kThreads, 0, stream>>>(RowsOf<T, Acc>(s, x, scale, {y}), static_cast<Acc>(eps),
                                            static_cast<T*>(y), static_cast<Acc*>(rstd));
    });
  });
}

cudaError_t LaunchAddRmsNormForward(const RmsNormShape& s, const void* x, const void* delta,
                                    const void* scale, double eps, void* sum, void* y,
                                    cudaStream_t stream) {
  if (s.rows == 0) return cudaSuccess;
  return DispatchScalar(s.kind, [&](auto t, auto a) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(a)::type;
    return LaunchRows(s.rows, [&](auto row_threads, unsigned blocks) {
      AddRmsNormForwardKernel<T, Acc, decltype(row_threads)::value>
          <<<blocks, kThreads, 0, stream>>>(RowsOf<T, Acc>(s, x, scale, {delta, sum, y}),
                                            static_cast<const T*>(delta), static_cast<Acc>(eps),
                                            static_cast<T*>(sum), static_cast<T*>(y));
    });
  });
}

cudaError_t LaunchRmsNormBackward(const RmsNormShape& s, const void* x, const void* scale,
                                  const void* rstd, const void* grad_y, void* grad_x,
                                  void* grad_scale_partial, cudaStream_t stream) {
  if (s.rows == 0) return cudaSuccess;
  return DispatchScalar(s.kind, [&](auto t, auto a) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(a)::type;
    const Rows<T, Acc> r = RowsOf<T, Acc>(s, x, scale, {grad_y, grad_x});
    const auto* inv = static_cast<const Acc*>(rstd);
    const auto* dy = static_cast<const T*>(grad_y);
    RmsNormBackwardInputKernel<T, Acc>
        <<<RowBlocks(s.rows), kThreads, 0, stream>>>(r, inv, dy, static_cast<T*>(grad_x));
    const dim3 grid(static_cast<unsigned>((s.dim + kThreads - 1) / kThreads),
                    static_cast<unsigned>(RmsNormPartialRows(s.rows)));
    RmsNormBackwardScaleKernel<T, Acc><<<grid, kThreads, 0, stream>>>(
        r, inv, dy, RowsPerPartial(s.rows), static_cast<Acc*>(grad_scale_partial));
    return cudaGetLastError();
  });
}

}  // namespace griffin::kernels
