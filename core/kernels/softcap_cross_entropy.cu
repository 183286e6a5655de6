// Soft-capped cross-entropy forward and backward, one block per row. The forward keeps a running
// (max, sum of exp) pair per thread over the row's capped logits (one read of the row, kVec
// adjacent logits per vector load), merges the pairs across the block, and writes the row's loss
// and log-sum-exp. The backward recomputes each capped logit and its probability from the saved
// log-sum-exp and writes d loss / d logit in the logits' dtype.
#include <cuda_bf16.h>

#include <cmath>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/softcap_cross_entropy.cuh"

namespace griffin::kernels {
namespace {

using chunked::kVec;
using chunked::LoadVec;
using chunked::StoreVec;
using chunked::ToAcc;

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;

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
    t = tanh(l / cap);
    return t * cap;
  }
  __device__ void Load(int64_t row, int64_t j, Acc (&out)[kVec]) const {
    LoadVec(logits + row * vocab + j, vocab - j, vec, Acc(0), out);
  }
};

// A running log-sum-exp: max m and sum s of exp(x - m).
template <typename Acc>
struct Lse {
  Acc m, s;
  __device__ void Add(Acc x) {
    if (x > m) {
      s = s * exp(m - x) + Acc(1);
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  __device__ void Merge(Lse o) {
    if (o.s == Acc(0)) return;
    if (s == Acc(0)) {
      *this = o;
      return;
    }
    const Acc hi = m > o.m ? m : o.m;
    s = s * exp(m - hi) + o.s * exp(o.m - hi);
    m = hi;
  }
};

template <typename Acc>
__device__ Lse<Acc> BlockLse(Lse<Acc> v) {
  __shared__ Acc ms[kWarps], ss[kWarps];
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    v.Merge({__shfl_xor_sync(0xffffffffu, v.m, offset), __shfl_xor_sync(0xffffffffu, v.s, offset)});
  }
  const int warp = threadIdx.x / 32;
  if (threadIdx.x % 32 == 0) ms[warp] = v.m, ss[warp] = v.s;
  __syncthreads();
  Lse<Acc> all{ms[0], ss[0]};
  for (int w = 1; w < kWarps; ++w) all.Merge({ms[w], ss[w]});  // every thread, in one order
  return all;
}

template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads)
    SoftCapCrossEntropyForwardKernel(Row<T, Acc> r, const int64_t* targets, Acc* loss, Acc* lse) {
  const int64_t row = blockIdx.x;
  Lse<Acc> acc{Acc(0), Acc(0)};
  for (int64_t j = threadIdx.x * kVec; j < r.vocab; j += kThreads * kVec) {
    Acc l[kVec];
    r.Load(row, j, l);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      Acc t;
      if (j + v < r.vocab) acc.Add(r.Capped(l[v], t));
    }
  }
  const Lse<Acc> all = BlockLse(acc);
  if (threadIdx.x == 0) {
    const Acc log_sum = all.m + log(all.s);
    const int64_t target = targets[row];
    Acc t;
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
  for (int64_t j = threadIdx.x * kVec; j < r.vocab; j += kThreads * kVec) {
    Acc l[kVec];
    r.Load(row, j, l);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      Acc t;
      const Acc p = exp(r.Capped(l[v], t) - log_sum);
      const Acc d = p - (j + v == target ? Acc(1) : Acc(0));
      l[v] = scale * (r.cap == Acc(0) ? d : d * (Acc(1) - t * t));
    }
    StoreVec(grad_logits + row * r.vocab + j, r.vocab - j, r.vec, l);
  }
}

template <typename T, typename Acc>
Row<T, Acc> RowOf(const SoftCapCrossEntropyShape& s, const void* logits, const void* other) {
  const auto aligned = [&](const void* p) {
    return p == nullptr || reinterpret_cast<uintptr_t>(p) % (kVec * ElementBytes(s.kind)) == 0;
  };
  return {static_cast<const T*>(logits), s.vocab, static_cast<Acc>(s.cap),
          s.vocab % kVec == 0 && aligned(logits) && aligned(other)};
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
        <<<static_cast<unsigned>(s.rows), kThreads, 0, stream>>>(
            RowOf<T, Acc>(s, logits, nullptr), targets, static_cast<Acc*>(loss),
            static_cast<Acc*>(lse));
    return cudaGetLastError();
  });
}

cudaError_t LaunchSoftCapCrossEntropyBackward(const SoftCapCrossEntropyShape& s,
                                              const void* logits, const int64_t* targets,
                                              const void* lse, const void* grad_loss,
                                              void* grad_logits, cudaStream_t stream) {
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
