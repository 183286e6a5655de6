// The linear-recurrence scan h_t = a_t h_{t-1} + x_t as a streaming scan (stream_scan.cuh): every
// block walks the whole sequence for a 32-byte strip of channels of one batch row, carrying the
// state in registers. Reads a and x once and writes y once.
#include <cuda_bf16.h>

#include "core/kernels/linear_scan.cuh"
#include "core/kernels/stream_scan.cuh"

namespace griffin::kernels {
namespace {

using namespace stream;

template <typename T, typename Acc>
cudaError_t Launch(const LinearScanParams& p, cudaStream_t stream) {
  constexpr int64_t elem = sizeof(T);
  const bool vec = Aligned16(p.a, p.a_batch_stride, p.a_seq_stride, elem) &&
                   Aligned16(p.x, p.x_batch_stride, p.x_seq_stride, elem) &&
                   Aligned16(p.y, p.y_batch_stride, p.y_seq_stride, elem);
  const PlainSteps<T, Acc> steps{{static_cast<const T*>(p.a), p.a_batch_stride, p.a_seq_stride},
                                 {static_cast<const T*>(p.x), p.x_batch_stride, p.x_seq_stride},
                                 {static_cast<T*>(p.y), p.y_batch_stride, p.y_seq_stride},
                                 p.seq_len,
                                 p.dim,
                                 vec};
  const int64_t strips = Strips(p.dim, kStripChannels<T>);
  const int64_t blocks = p.batch * strips;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  const auto kernel = StreamScanForward<T, Acc, PlainSteps<T, Acc>>;
  constexpr int smem = kStageBytes<PlainSteps<T, Acc>>;
  static const cudaError_t allowed =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (allowed != cudaSuccess) return allowed;
  kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(
      steps, strips, static_cast<const Acc*>(p.h0), static_cast<Acc*>(p.h_last));
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchLinearScan(const LinearScanParams& p, cudaStream_t stream) {
  if (p.batch == 0 || p.dim == 0) return cudaSuccess;
  if (p.seq_len == 0) {
    // No steps: the final state is the initial one (or zero).
    const size_t bytes = p.batch * p.dim * (p.kind == ScalarKind::kFloat64 ? 8 : 4);
    if (p.h_last == nullptr) return cudaSuccess;
    return p.h0 != nullptr
               ? cudaMemcpyAsync(p.h_last, p.h0, bytes, cudaMemcpyDeviceToDevice, stream)
               : cudaMemsetAsync(p.h_last, 0, bytes, stream);
  }
  switch (p.kind) {
    case ScalarKind::kFloat32:
      return Launch<float, float>(p, stream);
    case ScalarKind::kBFloat16:
      return Launch<__nv_bfloat16, float>(p, stream);
    case ScalarKind::kFloat64:
      return Launch<double, double>(p, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace griffin::kernels
