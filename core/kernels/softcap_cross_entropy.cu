// Soft-capped cross-entropy forward and backward, one block per row (kVec adjacent logits per
// vector load). The forward finds the row's largest logit, sums exp of the capped logits less the
// largest capped one, and writes the row's loss and log-sum-exp. The backward recomputes each
// capped logit and its probability from the saved log-sum-exp and writes d loss / d logit in the
// logits' dtype.
#include <cuda_bf16.h>

#include <cmath>

#include "core/kernels/block_reduce.cuh"
#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/softcap_cross_entropy.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using chunked::kVec;
using chunked::LoadVec;
using chunked::StoreVec;
using chunked::ToAcc;

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;

// exp and tanh in float from the hardware exp2, at a third of the instructions (per logit, the
// kernels are bound by instruction issue, not by bytes). __expf's error grows with |x| (2 +
// 1.17 |x| ulp), and x = capped logit - largest is within [-2 cap, 0]; Tanh is accurate to about
// one ulp of 1 in absolute terms, ~2e-6 on a logit capped at 30. The tests hold loss and
// gradient to the reference's float32 math within 1e-5. Accurate versions in float64.
__device__ __forceinline__ float Exp(float x) { return __expf(x); }
__device__ __forceinline__ double Exp(double x) { return exp(x); }
__device__ __forceinline__ float Tanh(float x) {
  const float t = 1.0f - __fdividef(2.0f, __expf(2.0f * fabsf(x)) + 1.0f);
  return copysignf(t, x);
}
__device__ __forceinline__ double Tanh(double x) { return tanh(x); }

template <typename T, typename Acc>
struct Row {
  const T* logits;
  int64_t vocab;
  Acc cap;  // 0: none
  bool vec;

  // cap * tanh(l / cap) in the reference's order, and tanh(l / cap) for the gradient.
  __device__ Acc Capped(Acc l, Acc& t) const {
    if (cap == Acc(0)) {
      t = Acc(0);
      return l;
    }
    t = Tanh(l / cap);
    return t * cap;
  }
  __device__ void Load(int64_t row, int64_t j, Acc (&out)[kVec]) const {
    LoadVec(logits + row * vocab + j, vocab - j, vec, Acc(0), out);
  }
};

// Two passes over the row (the second from L1/L2): the largest logit, then the sum of exp of the
// capped logits less the largest capped one (the cap is monotonic, so that is the cap of the
// largest raw logit). Branch-free loops keep several loads in flight.
template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads)
    SoftCapCrossEntropyForwardKernel(Row<T, Acc> r, const int64_t* targets, Acc* loss, Acc* lse) {
  const int64_t row = blockIdx.x;
  Acc hi = -INFINITY;
#pragma unroll 4
  for (int64_t j = threadIdx.x * kVec; j < r.vocab; j += kThreads * kVec) {
    Acc l[kVec];
    r.Load(row, j, l);
#pragma unroll
    for (int v = 0; v < kVec; ++v) hi = j + v < r.vocab && l[v] > hi ? l[v] : hi;
  }
  Acc t;
  const Acc top = r.Capped(BlockReduce<kWarps>(hi, [](Acc a, Acc b) { return a > b ? a : b; }), t);
  Acc sum = Acc(0);
#pragma unroll 4
  for (int64_t j = threadIdx.x * kVec; j < r.vocab; j += kThreads * kVec) {
    Acc l[kVec];
    r.Load(row, j, l);
#pragma unroll
    for (int v = 0; v < kVec; ++v) sum += j + v < r.vocab ? Exp(r.Capped(l[v], t) - top) : Acc(0);
  }
  sum = BlockReduce<kWarps>(sum, [](Acc a, Acc b) { return a + b; });
  if (threadIdx.x == 0) {
    const Acc log_sum = top + log(sum);
    const int64_t target = targets[row];
    loss[row] = target >= 0 && target < r.vocab
                    ? log_sum - r.Capped(ToAcc<Acc>(r.logits[row * r.vocab + target]), t)
                    : Acc(NAN);
    lse[row] = log_sum;
  }
}

// d loss / d l[j] = grad / rows * (softmax_j - [j == target]) * (1 - tanh^2(l[j] / cap)).
template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads)
    SoftCapCrossEntropyBackwardKernel(Row<T, Acc> r, const int64_t* targets, const Acc* lse,
                                      const Acc* grad_loss, int64_t rows, T* grad_logits) {
  const int64_t row = blockIdx.x;
  const Acc scale = *grad_loss / Acc(rows);
  const Acc log_sum = lse[row];
  const int64_t target = targets[row];
#pragma unroll 4
  for (int64_t j = threadIdx.x * kVec; j < r.vocab; j += kThreads * kVec) {
    Acc l[kVec];
    r.Load(row, j, l);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      Acc t;
      const Acc p = Exp(r.Capped(l[v], t) - log_sum);
      const Acc d = p - (j + v == target ? Acc(1) : Acc(0));
      l[v] = scale * (r.cap == Acc(0) ? d : d * (Acc(1) - t * t));
    }
    StoreVec(grad_logits + row * r.vocab + j, r.vocab - j, r.vec, l);
  }
}

template <typename T, typename Acc>
Row<T, Acc> RowOf(const SoftCapCrossEntropyShape& s, const void* logits, const void* other) {
  // Rows of vocab logits take vector loads when every row start is aligned (in both tensors).
  const bool vec = VectorAligned(logits, s.vocab, s.vocab, s.kind) &&
                   (other == nullptr || VectorAligned(other, s.vocab, s.vocab, s.kind));
  return {static_cast<const T*>(logits), s.vocab, static_cast<Acc>(s.cap), vec};
}

}  // namespace

cudaError_t LaunchSoftCapCrossEntropyForward(const SoftCapCrossEntropyShape& s, const void* logits,
                                             const int64_t* targets, void* loss, void* lse,
                                             cudaStream_t stream) {
  if (s.rows == 0) return cudaSuccess;
  return DispatchScalar(s.kind, [&](auto t, auto a) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(a)::type;
    SoftCapCrossEntropyForwardKernel<T, Acc>
        <<<static_cast<unsigned>(s.rows), kThreads, 0, stream>>>(RowOf<T, Acc>(s, logits, nullptr),
                                                                 targets, static_cast<Acc*>(loss),
                                                                 static_cast<Acc*>(lse));
    return cudaGetLastError();
  });
}

cudaError_t LaunchSoftCapCrossEntropyBackward(const SoftCapCrossEntropyShape& s, const void* logits,
                                              const int64_t* targets, const void* lse,
                                              const void* grad_loss, void* grad_logits,
                                              cudaStream_t stream) {
  if (s.rows == 0) return cudaSuccess;
  return DispatchScalar(s.kind, [&](auto t, auto a) {
    using T = typename decltype(t)::type;
    using Acc = typename decltype(a)::type;
    SoftCapCrossEntropyBackwardKernel<T, Acc>
        <<<static_cast<unsigned>(s.rows), kThreads, 0, stream>>>(
            RowOf<T, Acc>(s, logits, grad_logits), targets, static_cast<const Acc*>(lse),
            static_cast<const Acc*>(grad_loss), s.rows, static_cast<T*>(grad_logits));
    return cudaGetLastError();
  });
}

}  // namespace griffin::kernels
