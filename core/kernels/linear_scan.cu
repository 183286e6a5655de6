// The linear-recurrence scan h_t = a_t h_{t-1} + x_t as a chunked scan (chunked_scan.cuh): every
// block owns 128 channels x 64 time steps, so batch 1 at long T fills the GPU as well as large
// batches do, and the carries between chunks pass through a single-pass look-back. Reads a and
// x once and writes y once.
#include <cuda_bf16.h>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/linear_scan.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using namespace chunked;

template <typename T, typename Acc>
struct PlainScanSource {
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
cudaError_t Launch(const LinearScanParams& p, cudaStream_t stream) {
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, p.batch, p.seq_len, p.dim);
  const bool vec = VectorAligned(p.a, p.a_batch_stride, p.a_seq_stride, p.kind) &&
                   VectorAligned(p.x, p.x_batch_stride, p.x_seq_stride, p.kind) &&
                   VectorAligned(p.y, p.y_batch_stride, p.y_seq_stride, p.kind);
  const PlainScanSource<T, Acc> src{static_cast<const T*>(p.a),
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
  const int64_t blocks = p.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  ChunkedScanForward<Acc><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(src, links);
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
