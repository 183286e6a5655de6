// The linear-recurrence scan h_t = a_t h_{t-1} + x_t as a chunked scan (chunked_scan.cuh) whose
// inputs are staged through shared memory (staged_steps.cuh): every block owns 128 channels x 64
// time steps, so batch 1 at long T fills the GPU as well as large batches do, and the carries
// between chunks pass through a single-pass look-back. Reads a and x once and writes y once.
#include <cuda_bf16.h>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/linear_scan.cuh"
#include "core/kernels/staged_steps.cuh"

namespace griffin::kernels {
namespace {

using namespace chunked;

template <typename T, typename Acc>
cudaError_t Launch(const LinearScanParams& p, cudaStream_t stream) {
  using Steps = staged::PlainSteps<T, Acc, kVec>;
  constexpr int64_t align = sizeof(T) * kVec < 16 ? sizeof(T) * kVec : 16;
  const bool vec = staged::Aligned(p.a, p.a_batch_stride, p.a_seq_stride, kVec, align) &&
                   staged::Aligned(p.x, p.x_batch_stride, p.x_seq_stride, kVec, align) &&
                   staged::Aligned(p.y, p.y_batch_stride, p.y_seq_stride, kVec, align);
  const Steps steps{{static_cast<const T*>(p.a), p.a_batch_stride, p.a_seq_stride},
                    {static_cast<const T*>(p.x), p.x_batch_stride, p.x_seq_stride},
                    {static_cast<T*>(p.y), p.y_batch_stride, p.y_seq_stride},
                    p.seq_len,
                    p.dim,
                    vec};
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, p.batch, p.seq_len, p.dim);
  const int64_t blocks = p.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  const auto kernel = ChunkedScanForwardStaged<Acc, Steps>;
  constexpr int smem = kStagedBytes<Steps>;
  static const cudaError_t allowed =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (allowed != cudaSuccess) return allowed;
  kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(
      steps, static_cast<const Acc*>(p.h0), static_cast<Acc*>(p.h_last), links);
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
