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

  struct Raw {
    Packed<T, kVec> a, x;
  };
  __device__ Raw Fetch(int64_t b, int64_t t, int64_t d0) const {
    const int64_t valid = dim - d0;
    return {LoadRaw<T, kVec>(a + b * a_bs + t * a_ts + d0, valid, vec, FromAcc<T>(Acc(1))),
            LoadRaw<T, kVec>(x + b * x_bs + t * x_ts + d0, valid, vec, FromAcc<T>(Acc(0)))};
  }
  __device__ void Decode(const Raw& r, int64_t, Acc (&av)[kVec], Acc (&xv)[kVec]) const {
    Widen(r.a, av);
    Widen(r.x, xv);
  }
  __device__ void Store(int64_t b, int64_t t, int64_t d0, const Acc (&h)[kVec]) const {
    StoreVec(y + b * y_bs + t * y_ts + d0, dim - d0, vec, h);
  }
};

template <typename T, typename Acc>
RegisterSteps<T, Acc> MakeRegisterSteps(const LinearScanParams& p, bool vec) {
  return {static_cast<const T*>(p.a),
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
}

template <typename T, typename Acc>
cudaError_t LaunchInRegisters(const LinearScanParams& p, const Links<Acc>& links, unsigned blocks,
                              bool vec, cudaStream_t stream) {
  ChunkedScanForward<Acc>
      <<<blocks, kThreads, 0, stream>>>(MakeRegisterSteps<T, Acc>(p, vec), links);
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
  static_assert(kStagedBlocks<Acc, Steps> == 4, "measured at 4 blocks an SM");
  return LaunchForwardStaged<Acc>(steps, static_cast<const Acc*>(p.h0), static_cast<Acc*>(p.h_last),
                                  links, blocks, stream);
}

// Every operand of the forward aligned for one vector of kVec elements: the kernels' vector path.
bool ForwardVectorAligned(const LinearScanParams& p) {
  return VectorAligned(p.a, p.a_batch_stride, p.a_seq_stride, p.kind) &&
         VectorAligned(p.x, p.x_batch_stride, p.x_seq_stride, p.kind) &&
         VectorAligned(p.y, p.y_batch_stride, p.y_seq_stride, p.kind);
}

template <typename T, typename Acc>
cudaError_t Launch(const LinearScanParams& p, cudaStream_t stream) {
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, p.batch, p.seq_len, p.dim);
  const int64_t blocks = p.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  const bool vec = ForwardVectorAligned(p);
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return LaunchStaged<T, Acc>(p, links, static_cast<unsigned>(blocks), vec, stream);
  } else {
    return LaunchInRegisters<T, Acc>(p, links, static_cast<unsigned>(blocks), vec, stream);
  }
}

// The backward's gradients, all contiguous [batch, seq_len, dim] (states [batch, dim]).
template <typename T, typename Acc>
struct StepGradients {
  const Acc* carries;
  const T* grad_y;
  const Acc* grad_h_last;
  T* grad_a;
  T* grad_x;
  Acc* grad_h0;
  bool vec;
};

// The backward's shared memory: each thread's raw inputs, staged (Steps::Raw per step, as the
// staged forward), and its replayed states (kVec accumulators per step). Where the input is in
// the accumulation type (fp32, fp64) a step's state takes the place of its x, which the replay
// has read by then. bf16: 32 + 32 KB a block, 3 blocks an SM; fp32: 64 KB, 3; fp64 (the gradient
// checks): 128 KB, 1.
template <typename Acc, class Steps>
constexpr bool kStatesInPlace = sizeof(typename Steps::Raw) == 2 * kVec * sizeof(Acc);
template <typename Acc, class Steps>
constexpr int kStateBytes = kStatesInPlace<Acc, Steps>
                                ? 0
                                : static_cast<int>(sizeof(Acc) * kSteps * kThreads * kVec);
template <typename Acc, class Steps>
constexpr int kBackwardBytes = kStagedBytes<Steps> + kStateBytes<Acc, Steps>;
template <typename Acc, class Steps>
constexpr int kBackwardBlocks = BlocksBySharedMemory<Acc>(kBackwardBytes<Acc, Steps>);

// The reverse scan of dL/dh (chunked_scan.cuh), then dL/dx_t = dh_t and dL/da_t = dh_t h_{t-1}
// walking each warp's steps backwards. The inputs and the replayed states wait in shared memory
// and dL/dy is read where it is used (twice; the second read mostly hits L2), so that registers do
// not bound the blocks an SM holds: with all three in registers (3 x kSteps x kVec values a thread)
// the kernel spilled at 128 registers and ran 2 blocks an SM (Nsight Compute, bf16: 25%
// occupancy, 55% of the stall cycles waiting on L1TEX, mostly local memory).
template <typename T, typename Acc, class Steps>
__global__ void __launch_bounds__(kThreads, (kBackwardBlocks<Acc, Steps>))
    LinearScanBackwardKernel(Steps all_steps, const Acc* h0, StepGradients<T, Acc> grads,
                             Links<Acc> links) {
  __shared__ alignas(16) Acc s_a[kWarps][kChannels];
  __shared__ alignas(16) Acc s_h[kWarps][kChannels];
  extern __shared__ uint4 backward_mem[];
  const BlockCoord c = TakeTicket(links, /*reverse=*/true);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d0 = c.tile * kChannels + lane * kVec;
  const int64_t t0 = c.chunk * kChunk + warp * kSteps;
  const int64_t seq_len = all_steps.seq_len, dim = all_steps.dim;
  Steps steps = all_steps;
  steps.Bind(c.b, d0);
  // [kSteps][kThreads] of each: every thread reads only what it wrote itself.
  typename Steps::Raw* raw = reinterpret_cast<typename Steps::Raw*>(backward_mem) + threadIdx.x;
  Acc* states =
      reinterpret_cast<Acc*>(reinterpret_cast<char*>(backward_mem) + kStagedBytes<Steps>) +
      threadIdx.x * kVec;
  const auto state = [&](int s) {
    if constexpr (kStatesInPlace<Acc, Steps>) {
      return reinterpret_cast<Acc*>(&raw[s * kThreads].x);
    } else {
      return states + s * kThreads * kVec;
    }
  };
#pragma unroll
  for (int s = 0; s < kSteps; ++s) steps.Stage(raw + s * kThreads, t0 + s);
  CommitAsync();
  WaitAsync<0>();

  StatesBeforeSteps(
      links, c, s_a, s_h, grads.carries, h0, dim, d0,
      [&](int s, Acc(&a)[kVec], Acc(&x)[kVec]) { steps.Decode(raw[s * kThreads], a, x); },
      [&](int s, const Acc(&h)[kVec]) {
#pragma unroll
        for (int v = 0; v < kVec; ++v) state(s)[v] = h[v];
      });
  const auto decay = [&](int s, int v) { return ToAcc<Acc>(raw[s * kThreads].a.v[v]); };
  const auto grad = [&](int s, Acc(&g)[kVec]) {
    LoadStepGrad(grads.grad_y, c.b, t0 + s, d0, seq_len, dim, grads.vec, g);
  };
  Acc start[kVec], m[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) {
    const bool has = grads.grad_h_last != nullptr && d0 + v < dim;
    start[v] = has ? grads.grad_h_last[c.b * dim + d0 + v] : Acc(0);
  }
  MessageIntoWarp(links, c, s_a, s_h, decay, grad, start, m);
#pragma unroll
  for (int s = kSteps - 1; s >= 0; --s) {
    const int64_t t = t0 + s;
    if (t >= seq_len) continue;
    Acc g[kVec], da[kVec], dx[kVec];
    grad(s, g);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      dx[v] = g[v] + m[v];
      da[v] = dx[v] * state(s)[v];
      m[v] = decay(s, v) * dx[v];
    }
    const int64_t off = (c.b * seq_len + t) * dim + d0;
    StoreVec(grads.grad_a + off, dim - d0, grads.vec, da);
    StoreVec(grads.grad_x + off, dim - d0, grads.vec, dx);
  }
  // m is now the message out of this warp's first step: for the sequence's first step, dL/dh0.
  if (c.chunk == 0 && warp == 0 && grads.grad_h0 != nullptr) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      if (d0 + v < dim) grads.grad_h0[c.b * dim + d0 + v] = m[v];
    }
  }
}

template <typename T, typename Acc>
cudaError_t LaunchBackward(const LinearScanBackwardParams& p, cudaStream_t stream) {
  const LinearScanParams& f = p.fwd;
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, f.batch, f.seq_len, f.dim);
  const int64_t blocks = f.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  using Steps = staged::PlainSteps<T, Acc, kVec>;
  const bool grads_vec = VectorAligned(p.grad_y, f.seq_len * f.dim, f.dim, f.kind) &&
                         VectorAligned(p.grad_a, 0, 0, f.kind) &&
                         VectorAligned(p.grad_x, 0, 0, f.kind);
  // The backward writes no y: the staged steps' output operand is the (unused) dL/dx.
  const Steps steps{{static_cast<const T*>(f.a), f.a_batch_stride, f.a_seq_stride},
                    {static_cast<const T*>(f.x), f.x_batch_stride, f.x_seq_stride},
                    {static_cast<T*>(p.grad_x), f.seq_len * f.dim, f.dim},
                    f.seq_len,
                    f.dim,
                    VectorAligned(f.a, f.a_batch_stride, f.a_seq_stride, f.kind) &&
                        VectorAligned(f.x, f.x_batch_stride, f.x_seq_stride, f.kind)};
  const StepGradients<T, Acc> grads{static_cast<const Acc*>(p.carries),
                                    static_cast<const T*>(p.grad_y),
                                    static_cast<const Acc*>(p.grad_h_last),
                                    static_cast<T*>(p.grad_a),
                                    static_cast<T*>(p.grad_x),
                                    static_cast<Acc*>(p.grad_h0),
                                    grads_vec};
  const auto kernel = LinearScanBackwardKernel<T, Acc, Steps>;
  constexpr int smem = kBackwardBytes<Acc, Steps>;
  if (const cudaError_t e = AllowSharedMemory<Acc, smem>(kernel); e != cudaSuccess) return e;
  kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(
      steps, static_cast<const Acc*>(f.h0), grads, links);
  return cudaGetLastError();
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

cudaError_t LaunchLinearScanBackward(const LinearScanBackwardParams& p, cudaStream_t stream) {
  const LinearScanParams& f = p.fwd;
  if (f.batch == 0 || f.dim == 0) return cudaSuccess;
  if (f.seq_len == 0) return cudaErrorInvalidValue;  // the wrapper's case: dL/dh0 = dL/dh_last
  return DispatchScalar(f.kind, [&](auto t, auto acc) {
    return LaunchBackward<typename decltype(t)::type, typename decltype(acc)::type>(p, stream);
  });
}

}  // namespace griffin::kernels
