// The linear-recurrence scan h_t = a_t h_{t-1} + x_t as a chunked scan (chunked_scan.cuh): every
// block owns 128 channels x 64 time steps, so batch 1 at long T fills the GPU as well as large
// batches do, and the carries between chunks pass through a single-pass look-back. Reads a and x
// once and writes y once. Where a block keeps its inputs depends on the dtype (measured, below).
#include <cuda_bf16.h>

#include <type_traits>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/linear_scan.cuh"
#include "core/kernels/staged_steps.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using namespace chunked;

// fp32 and fp64: inputs held in registers (ChunkedScanForward); measured on the H200, staging
// them through shared memory made fp32 1.4x slower (1 x 16384 x 2560: 242 us against 171 us; 72 KB
// of shared memory a block leaves 3 blocks an SM and adds a shared-memory pass).
template <typename T, typename Acc>
struct RegisterSteps {
  const T* a;
  const T* x;
  T* y;
  const Acc* h0;
  Acc* h_last;
  int64_t seq_len, dim;
  int64_t a_bs, a_ts, x_bs, x_ts, y_bs, y_ts;
  bool vec;

  __device__ void Load(int64_t b, int64_t t, int64_t d0, Acc (&av)[kVec], Acc (&xv)[kVec]) const {
    const int64_t valid = dim - d0;
    LoadVec(a + b * a_bs + t * a_ts + d0, valid, vec, Acc(1), av);
    LoadVec(x + b * x_bs + t * x_ts + d0, valid, vec, Acc(0), xv);
  }
  __device__ void Store(int64_t b, int64_t t, int64_t d0, const Acc (&h)[kVec]) const {
    StoreVec(y + b * y_bs + t * y_ts + d0, dim - d0, vec, h);
  }
};

template <typename T, typename Acc>
cudaError_t LaunchInRegisters(const LinearScanParams& p, const Links<Acc>& links, unsigned blocks,
                              bool vec, cudaStream_t stream) {
  const RegisterSteps<T, Acc> src{static_cast<const T*>(p.a),
                                  static_cast<const T*>(p.x),
                                  static_cast<T*>(p.y),
                                  static_cast<const Acc*>(p.h0),
                                  static_cast<Acc*>(p.h_last),
                                  p.seq_len,
                                  p.dim,
                                  p.a_batch_stride,
                                  p.a_seq_stride,
                                  p.x_batch_stride,
                                  p.x_seq_stride,
                                  p.y_batch_stride,
                                  p.y_seq_stride,
                                  vec};
  ChunkedScanForward<Acc><<<blocks, kThreads, 0, stream>>>(src, links);
  return cudaGetLastError();
}

// bf16: inputs staged through shared memory (ChunkedScanForwardStaged, staged_steps.cuh): 32 KB a
// block, 64 registers a thread, 4 blocks an SM instead of 2; 2.2x faster than in registers on the
// H200 (1 x 16384 x 2560: 116 us against 257 us).
template <typename T, typename Acc>
cudaError_t LaunchStaged(const LinearScanParams& p, const Links<Acc>& links, unsigned blocks,
                         bool vec, cudaStream_t stream) {
  using Steps = staged::PlainSteps<T, Acc, kVec>;
  const Steps steps{{static_cast<const T*>(p.a), p.a_batch_stride, p.a_seq_stride},
                    {static_cast<const T*>(p.x), p.x_batch_stride, p.x_seq_stride},
                    {static_cast<T*>(p.y), p.y_batch_stride, p.y_seq_stride},
                    p.seq_len,
                    p.dim,
                    vec};
  const auto kernel = ChunkedScanForwardStaged<Acc, Steps>;
  constexpr int smem = kStagedBytes<Steps>;
  constexpr int static_smem = 2 * kWarps * kChannels * sizeof(Acc) + sizeof(int64_t);
  static_assert(smem + static_smem <= 48 * 1024,
                "a larger stage needs cudaFuncAttributeMaxDynamicSharedMemorySize");
  kernel<<<blocks, kThreads, smem, stream>>>(steps, static_cast<const Acc*>(p.h0),
                                             static_cast<Acc*>(p.h_last), links);
  return cudaGetLastError();
}

template <typename T, typename Acc>
cudaError_t Launch(const LinearScanParams& p, cudaStream_t stream) {
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, p.batch, p.seq_len, p.dim);
  const int64_t blocks = p.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  // Every operand aligned for one vector of kVec elements: both kernels' vector path.
  const bool vec = VectorAligned(p.a, p.a_batch_stride, p.a_seq_stride, p.kind) &&
                   VectorAligned(p.x, p.x_batch_stride, p.x_seq_stride, p.kind) &&
                   VectorAligned(p.y, p.y_batch_stride, p.y_seq_stride, p.kind);
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return LaunchStaged<T, Acc>(p, links, static_cast<unsigned>(blocks), vec, stream);
  } else {
    return LaunchInRegisters<T, Acc>(p, links, static_cast<unsigned>(blocks), vec, stream);
  }
}

}  // namespace

cudaError_t LaunchLinearScan(const LinearScanParams& p, cudaStream_t stream) {
  if (p.batch == 0 || p.dim == 0) return cudaSuccess;
  if (p.seq_len == 0) {
    // No steps: the final state is the initial one (or zero).
    const size_t bytes = p.batch * p.dim * (p.kind == ScalarKind::kFloat64 ? 8 : 4);  // state
    if (p.h_last == nullptr) return cudaSuccess;
    return p.h0 != nullptr
               ? cudaMemcpyAsync(p.h_last, p.h0, bytes, cudaMemcpyDeviceToDevice, stream)
               : cudaMemsetAsync(p.h_last, 0, bytes, stream);
  }
  return DispatchScalar(p.kind, [&](auto t, auto acc) {
    return Launch<typename decltype(t)::type, typename decltype(acc)::type>(p, stream);
  });
}

}  // namespace griffin::kernels
