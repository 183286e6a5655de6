// Linear-recurrence scan, sequential over time: one thread owns one (batch, channel) pair and
// keeps h in an fp32 register while it walks the sequence. Adjacent threads own adjacent
// channels, so every load and store is coalesced across the warp. This parallelises only over
// batch x channels; the chunked kernel that also splits time is the next step (issue 5).
#include <cuda_bf16.h>

#include "core/kernels/linear_scan.cuh"

namespace griffin::kernels {
namespace {

template <typename T>
__device__ __forceinline__ float ToFloat(T v);
template <>
__device__ __forceinline__ float ToFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ float ToFloat<__nv_bfloat16>(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <typename T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ float FromFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

constexpr int kThreads = 128;
// Loads issued ahead of the dependent multiply-adds, so each thread has several in flight.
constexpr int kPrefetch = 8;

template <typename T>
__global__ void __launch_bounds__(kThreads) LinearScanSequentialKernel(LinearScanParams p) {
  const int64_t d = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t b = blockIdx.y;
  if (d >= p.dim) return;
  const T* __restrict__ a = static_cast<const T*>(p.a) + b * p.a_batch_stride + d;
  const T* __restrict__ x = static_cast<const T*>(p.x) + b * p.x_batch_stride + d;
  T* __restrict__ y = static_cast<T*>(p.y) + b * p.y_batch_stride + d;

  float h = p.h0 != nullptr ? p.h0[b * p.dim + d] : 0.0f;
  int64_t t = 0;
  for (; t + kPrefetch <= p.seq_len; t += kPrefetch) {
    float av[kPrefetch], xv[kPrefetch];
#pragma unroll
    for (int i = 0; i < kPrefetch; ++i) {
      av[i] = ToFloat(a[(t + i) * p.a_seq_stride]);
      xv[i] = ToFloat(x[(t + i) * p.x_seq_stride]);
    }
#pragma unroll
    for (int i = 0; i < kPrefetch; ++i) {
      h = fmaf(av[i], h, xv[i]);
      y[(t + i) * p.y_seq_stride] = FromFloat<T>(h);
    }
  }
  for (; t < p.seq_len; ++t) {
    h = fmaf(ToFloat(a[t * p.a_seq_stride]), h, ToFloat(x[t * p.x_seq_stride]));
    y[t * p.y_seq_stride] = FromFloat<T>(h);
  }
  if (p.h_last != nullptr) p.h_last[b * p.dim + d] = h;
}

}  // namespace

cudaError_t LaunchLinearScan(const LinearScanParams& params, cudaStream_t stream) {
  if (params.batch == 0 || params.dim == 0) return cudaSuccess;
  const dim3 grid(static_cast<unsigned>((params.dim + kThreads - 1) / kThreads),
                  static_cast<unsigned>(params.batch));
  switch (params.kind) {
    case ScalarKind::kFloat32:
      LinearScanSequentialKernel<float><<<grid, kThreads, 0, stream>>>(params);
      break;
    case ScalarKind::kBFloat16:
      LinearScanSequentialKernel<__nv_bfloat16><<<grid, kThreads, 0, stream>>>(params);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace griffin::kernels
