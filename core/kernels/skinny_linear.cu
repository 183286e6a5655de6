// The skinny matrix product: a warp (or a few, each a slice of a long row) per output feature
// streams that feature's weight row once,
// kUnroll 16-byte loads a lane in flight before any is used (a 2560-wide bf16 row is ten of them
// per lane: one round trip), multiplies it with every row of x (read through L1, where all warps
// find it) and sums over the warp; the bias is added in float32 and the result rounded once, as
// cuBLAS's epilogue does. What bounds it is bytes in flight per SM: 8 warps a block, blocks of
// 80 registers, so 6-8 blocks an SM keep 200-250 KB of weight loads outstanding.
#include <cuda_bf16.h>

#include "core/kernels/block_reduce.cuh"
#include "core/kernels/scalar_convert.cuh"
#include "core/kernels/skinny_linear.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kVecElems = 8;  // elements a lane loads at once (16 bytes of bf16)
constexpr int kUnroll = 8;
constexpr int kWarpElems = 32 * kVecElems;

// Warps that share one output's weight row, each a slice of about kSliceElems of its `in`: the
// down projections' 7680- and 16384-wide rows walked by one warp were eight round trips in a row
// (46-48% of the ceiling, bench/README.md); sliced, a lane's loads are one round trip.
constexpr int64_t kSliceElems = 2048;

int WarpsPerRow(int64_t in) {
  const int64_t want = (in + kSliceElems - 1) / kSliceElems;
  return want <= 1 ? 1 : want <= 2 ? 2 : want <= 4 ? 4 : 8;
}

template <typename T, int kRows, int kWarpsPerRow>
__global__ void __launch_bounds__(kThreads)
    SkinnyLinearKernel(SkinnyLinearShape s, const T* x, const T* w, const T* b, T* y, bool vec) {
  constexpr int kRowsPerBlock = kWarps / kWarpsPerRow;
  __shared__ float partial[kWarps][kRows];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, slice = warp % kWarpsPerRow;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp / kWarpsPerRow;
  // Slices in whole warp loads, so that only the row's last one ends part-way through a vector.
  const int64_t loads = (s.in + kWarpElems - 1) / kWarpElems;
  const int64_t per = (loads + kWarpsPerRow - 1) / kWarpsPerRow * kWarpElems;
  const int64_t begin = slice * per, end = begin + per < s.in ? begin + per : s.in;
  const T* row = w + n * s.in;
  float acc[kRows];
#pragma unroll
  for (int m = 0; m < kRows; ++m) acc[m] = 0.f;
  for (int64_t k0 = begin + lane * kVecElems; n < s.out && k0 < end; k0 += kWarpElems * kUnroll) {
    Packed<T, kVecElems> wr[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t k = k0 + u * kWarpElems;
      wr[u] = LoadRaw<T, kVecElems>(row + k, k < end ? s.in - k : 0, vec, T(0.f));
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t k = k0 + u * kWarpElems;
      if (k >= end) break;
      float wf[kVecElems];
      Widen(wr[u], wf);
#pragma unroll
      for (int m = 0; m < kRows; ++m) {
        float xf[kVecElems];
        Widen(LoadRaw<T, kVecElems>(x + m * s.in + k, s.in - k, vec, T(0.f)), xf);
#pragma unroll
        for (int e = 0; e < kVecElems; ++e) acc[m] = fmaf(wf[e], xf[e], acc[m]);
      }
    }
  }
#pragma unroll
  for (int m = 0; m < kRows; ++m) acc[m] = WarpSum(acc[m]);
  if constexpr (kWarpsPerRow > 1) {  // the slices' sums, added in slice order
    if (lane == 0) {
#pragma unroll
      for (int m = 0; m < kRows; ++m) partial[warp][m] = acc[m];
    }
    __syncthreads();
    if (slice != 0) return;
#pragma unroll
    for (int m = 0; m < kRows; ++m) {
      for (int t = 1; t < kWarpsPerRow; ++t) acc[m] += partial[warp + t][m];
    }
  }
  if (n >= s.out || lane != 0) return;
  const float bias = b != nullptr ? ToAcc<float>(b[n]) : 0.f;
#pragma unroll
  for (int m = 0; m < kRows; ++m) y[m * s.out + n] = FromAcc<T, float>(acc[m] + bias);
}

}  // namespace

cudaError_t LaunchSkinnyLinear(const SkinnyLinearShape& s, const void* x, const void* w,
                               const void* b, void* y, cudaStream_t stream) {
  if (s.rows == 0 || s.out == 0) return cudaSuccess;
  if (s.rows > kSkinnyLinearMaxRows) return cudaErrorInvalidValue;
  // 16-byte loads: every row starts on a 16-byte boundary.
  const int64_t bytes = ElementBytes(s.kind);
  const bool vec = (s.in * bytes) % 16 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                   reinterpret_cast<uintptr_t>(w) % 16 == 0;
  return DispatchScalar(s.kind, [&](auto t, auto) -> cudaError_t {
    using T = typename decltype(t)::type;
    if constexpr (std::is_same_v<T, double>) {
      return cudaErrorInvalidValue;
    } else {
      const int warps_per_row = WarpsPerRow(s.in);
      const int64_t rows_per_block = kWarps / warps_per_row;
      const unsigned blocks = static_cast<unsigned>((s.out + rows_per_block - 1) / rows_per_block);
      return DispatchWidth<kSkinnyLinearMaxRows>(static_cast<int>(s.rows), [&](auto rows) {
        constexpr int kRows = decltype(rows)::value;
        return DispatchWidth<kWarps>(warps_per_row, [&](auto slices) -> cudaError_t {
          constexpr int kSlices = decltype(slices)::value;
          if constexpr (kWarps % kSlices != 0) {
            return cudaErrorInvalidValue;
          } else {
            SkinnyLinearKernel<T, kRows, kSlices><<<blocks, kThreads, 0, stream>>>(
                s, static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b),
                static_cast<T*>(y), vec);
            return cudaGetLastError();
          }
        });
      });
    }
  });
}

}  // namespace griffin::kernels
