// The GeGLU product, one thread per kVec adjacent channels of a row: the gate's and the up
// branch's vectors loaded together, gelu_tanh in float32 exactly as ATen writes it (its CUDA gelu
// kernel: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))), rounded to the element type, then
// the product rounded again, so the result is the ATen composition's (core/kernels/geglu.h).
#include <cuda_bf16.h>

#include <cmath>

#include "core/kernels/geglu.cuh"
#include "core/kernels/scalar_convert.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

constexpr int kVec = 4;
constexpr int kThreads = 256;

__device__ __forceinline__ float GeluTanhAsAten(float x) {
  constexpr float kBeta = M_SQRT2 * M_2_SQRTPI * 0.5f;
  constexpr float kKappa = 0.044715f;
  const float cube = x * x * x;
  const float inner = kBeta * (x + kKappa * cube);
  return 0.5f * x * (1.f + tanhf(inner));
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    GegluKernel(GegluShape s, const T* gate_up, T* out, bool vec) {
  const int64_t per_row = (s.width + kVec - 1) / kVec;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= s.rows * per_row) return;
  const int64_t row = i / per_row, d0 = (i % per_row) * kVec;
  const T* gate = gate_up + row * 2 * s.width + d0;
  const int64_t valid = s.width - d0;
  const Packed<T, kVec> g_raw = LoadRaw<T, kVec>(gate, valid, vec, T(0.f));
  const Packed<T, kVec> u_raw = LoadRaw<T, kVec>(gate + s.width, valid, vec, T(0.f));
  float g[kVec], u[kVec];
  Widen(g_raw, g);
  Widen(u_raw, u);
  T* y = out + row * s.width + d0;
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const float gelu = ToAcc<float>(FromAcc<T, float>(GeluTanhAsAten(g[v])));
    if (v < valid) y[v] = FromAcc<T, float>(gelu * u[v]);
  }
}

}  // namespace

cudaError_t LaunchGeglu(const GegluShape& s, const void* gate_up, void* out, cudaStream_t stream) {
  if (s.rows == 0 || s.width == 0) return cudaSuccess;
  const bool vec = VectorAligned(gate_up, 2 * s.width, 2 * s.width, s.kind) &&
                   VectorAligned(out, s.width, s.width, s.kind);
  return DispatchScalar(s.kind, [&](auto t, auto) -> cudaError_t {
    using T = typename decltype(t)::type;
    if constexpr (std::is_same_v<T, double>) {
      return cudaErrorInvalidValue;
    } else {
      const int64_t threads = s.rows * ((s.width + kVec - 1) / kVec);
      GegluKernel<T>
          <<<static_cast<unsigned>((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
              s, static_cast<const T*>(gate_up), static_cast<T*>(out), vec);
      return cudaGetLastError();
    }
  });
}

}  // namespace griffin::kernels
