// The fused RG-LRU forward and backward as chunked scans (chunked_scan.cuh). The gates, the decay
// and the input normaliser are computed from the gate inputs as each step is loaded, in fp32
// (fp64 for fp64 inputs), so the only memory traffic is the inputs and the output.
#include <cuda_bf16.h>

#include <cstring>
#include <limits>
#include <type_traits>

#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/rglru_scan.cuh"
#include "core/kernels/staged_steps.cuh"
#include "core/kernels/vector_access.cuh"

namespace griffin::kernels {
namespace {

using namespace chunked;

// The gate math, per element and step: three exponentials (four with the gelu branch), two
// reciprocals and a square root. In float each is the special function unit's approximation
// alone (PTX ex2.approx, rcp.approx, sqrt.approx, rsqrt.approx: a few ulp; Sigmoid's and Tanh's
// reciprocals never see a denormal) instead of the library's correctly rounded functions. Those
// refine the unit's value and keep a slow path for special inputs: about ten instructions each,
// and a call site per element: the bf16 backward held 258 calls, 10552 instructions (169 KB,
// five times the SM's instruction cache), and its warps spent 38% of their time waiting for
// instructions (Nsight Compute, bench/README.md "The RG-LRU kernels"). fp64 keeps the library
// functions.
__device__ __forceinline__ float Exp(float v) { return __expf(v); }
__device__ __forceinline__ double Exp(double v) { return exp(v); }
__device__ __forceinline__ float Reciprocal(float v) {
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}
__device__ __forceinline__ double Reciprocal(double v) { return 1.0 / v; }
__device__ __forceinline__ float Sqrt(float v) {
  float r;
  asm("sqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}
__device__ __forceinline__ double Sqrt(double v) { return sqrt(v); }
__device__ __forceinline__ float ReciprocalSqrt(float v) {
  float r;
  asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}
__device__ __forceinline__ double ReciprocalSqrt(double v) { return 1.0 / sqrt(v); }

template <typename Acc>
__device__ __forceinline__ Acc Sigmoid(Acc v) {
  return Reciprocal(Acc(1) + Exp(-v));
}

// tanh(u) = 1 - 2 / (exp(2u) + 1): the gelu branch enters as 1 + tanh, so its absolute error (a
// few ulp of 1) is what counts; exp(2u) overflowing to infinity gives 1.
__device__ __forceinline__ float Tanh(float u) {
  return 1.f - 2.f * Reciprocal(Exp(2.f * u) + 1.f);
}
__device__ __forceinline__ double Tanh(double u) { return tanh(u); }

template <typename Acc>
__device__ __forceinline__ Acc GeluTanh(Acc v) {
  const Acc k = Acc(0.7978845608028654);  // sqrt(2 / pi)
  return Acc(0.5) * v * (Acc(1) + Tanh(k * (v + Acc(0.044715) * v * v * v)));
}

// One step's gate values for one channel, exactly as the reference computes them.
template <typename Acc>
struct Gates {
  Acc i, r, a, a_square, mult;
  __device__ Gates(Acc gate_x, Acc gate_a, Acc softplus_a, bool reset) {
    i = Sigmoid(gate_x);
    r = Sigmoid(gate_a);
    const Acc log_a = Acc(-8) * r * softplus_a;
    a = Exp(log_a);
    a_square = Exp(Acc(2) * log_a);  // as the references do, not a * a
    mult = Sqrt(Acc(1) - a_square);
    if (reset) a = Acc(0), mult = Acc(1);
  }
};

// Typed view of RgLruInputs for one thread's kVec channels of one step.
template <typename T, typename Acc>
struct RgLruStepInputs {
  const T* x;
  const T* gate_x;
  const T* gate_a;
  const int64_t* positions;
  const Acc* softplus_a;
  const Acc* h0;
  int64_t seq_len, dim;
  bool vec;

  explicit RgLruStepInputs(const RgLruInputs& in)
      : x(static_cast<const T*>(in.x)),
        gate_x(static_cast<const T*>(in.gate_x)),
        gate_a(static_cast<const T*>(in.gate_a)),
        positions(in.positions),
        softplus_a(static_cast<const Acc*>(in.softplus_a)),
        h0(static_cast<const Acc*>(in.h0)),
        seq_len(in.seq_len),
        dim(in.dim),
        vec(VectorAligned(in.x, in.seq_len * in.dim, in.dim, in.kind) &&
            VectorAligned(in.gate_x, 0, 0, in.kind) && VectorAligned(in.gate_a, 0, 0, in.kind)) {}

  __device__ int64_t Offset(int64_t b, int64_t t, int64_t d0) const {
    return (b * seq_len + t) * dim + d0;
  }
  // Step t's inputs as stored: loads only (LoadRaw), so that several steps' are in flight.
  struct Raw {
    Packed<T, kVec> x, gate_x, gate_a;
    int64_t position;
  };
  __device__ Raw Fetch(int64_t b, int64_t t, int64_t d0) const {
    const int64_t off = Offset(b, t, d0), valid = dim - d0;
    const T zero = FromAcc<T>(Acc(0));
    return {LoadRaw<T, kVec>(x + off, valid, vec, zero),
            LoadRaw<T, kVec>(gate_x + off, valid, vec, zero),
            LoadRaw<T, kVec>(gate_a + off, valid, vec, zero), positions[b * seq_len + t]};
  }
  // A step's inputs in the accumulation type, softplus(a_param) of the channels, and whether the
  // step starts a document.
  __device__ bool Unpack(const Raw& r, int64_t d0, Acc (&xv)[kVec], Acc (&gx)[kVec],
                         Acc (&ga)[kVec], Acc (&sp)[kVec]) const {
    Widen(r.x, xv);
    Widen(r.gate_x, gx);
    Widen(r.gate_a, ga);
#pragma unroll
    for (int v = 0; v < kVec; ++v) sp[v] = d0 + v < dim ? softplus_a[d0 + v] : Acc(0);
    return r.position == 0;
  }
};

template <typename T, typename Acc>
struct RgLruSource {
  RgLruStepInputs<T, Acc> in;
  const T* gelu_in;
  T* y;
  const Acc* h0;
  Acc* h_last;
  int64_t seq_len, dim;

  using Raw = typename RgLruStepInputs<T, Acc>::Raw;
  __device__ Raw Fetch(int64_t b, int64_t t, int64_t d0) const { return in.Fetch(b, t, d0); }
  // Channels past dim get x = 0 and a = exp(0) = 1 (sp = 0): the identity step.
  __device__ void Decode(const Raw& r, int64_t d0, Acc (&a)[kVec], Acc (&bx)[kVec]) const {
    Acc xv[kVec], gx[kVec], ga[kVec], sp[kVec];
    const bool reset = in.Unpack(r, d0, xv, gx, ga, sp);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      const Gates<Acc> g(gx[v], ga[v], sp[v], reset);
      a[v] = g.a;
      bx[v] = xv[v] * g.i * g.mult;
    }
  }
  __device__ void Store(int64_t b, int64_t t, int64_t d0, const Acc (&h)[kVec]) const {
    const int64_t off = in.Offset(b, t, d0);
    if (gelu_in == nullptr) {
      StoreVec(y + off, dim - d0, in.vec, h);
      return;
    }
    Acc gate[kVec], out[kVec];
    LoadVec(gelu_in + off, dim - d0, in.vec, Acc(0), gate);
#pragma unroll
    for (int v = 0; v < kVec; ++v) out[v] = h[v] * GeluTanh(gate[v]);
    StoreVec(y + off, dim - d0, in.vec, out);
  }
};

// The forward's steps staged through shared memory (ChunkedScanForwardStaged): a step's raw x,
// gate_x, gate_a and position (bf16: 32 bytes) are copied there asynchronously, decoded once by
// the gate math, and the decoded map (a, normalised x: 32 bytes of float) takes their place for
// the second pass. 64 KB a block, 3 blocks an SM.
// A staged step's position past the sequence (Decode gives the identity). Real positions are
// token counts from a document's start, and -1 for a left-padded batch's pads (which are ordinary
// steps here, as in the reference), so the marker is a value no position takes.
constexpr int64_t kPastEndPosition = std::numeric_limits<int64_t>::min();

template <typename T, typename Acc>
struct RgLruStagedSteps {
  RgLruSource<T, Acc> src;
  int64_t seq_len, dim;
  int64_t b = 0, d0 = 0;
  Acc sp[kVec] = {};  // softplus(a_param) of this thread's channels (after Bind)

  struct alignas(16) Raw {  // read as two 16-byte vectors
    Vec<T, kVec> x, gate_x, gate_a;
    int64_t position;
  };
  static constexpr bool kDecodeOnce = true;
  static_assert(!kDecodeOnce || sizeof(Raw) >= 2 * kVec * sizeof(Acc), "room for a decoded map");

  __device__ void Bind(int64_t row, int64_t first_channel) {
    b = row, d0 = first_channel;
#pragma unroll
    for (int v = 0; v < kVec; ++v) sp[v] = d0 + v < dim ? src.in.softplus_a[d0 + v] : Acc(0);
  }
  __device__ void Stage(Raw* dst, int64_t t) const {
    const RgLruStepInputs<T, Acc>& in = src.in;
    if (t >= seq_len) {
      dst->position = kPastEndPosition;
      return;
    }
    const int64_t off = in.Offset(b, t, d0);
    if (in.vec && d0 + kVec <= dim) {
      constexpr int bytes = sizeof(Vec<T, kVec>);
      staged::CopyAsync<bytes>(&dst->x, in.x + off);
      staged::CopyAsync<bytes>(&dst->gate_x, in.gate_x + off);
      staged::CopyAsync<bytes>(&dst->gate_a, in.gate_a + off);
      staged::CopyAsync<8>(&dst->position, in.positions + b * seq_len + t);
      return;
    }
    // Channels past dim read as zero: with sp = 0 the identity.
    const typename RgLruStepInputs<T, Acc>::Raw r = in.Fetch(b, t, d0);
    memcpy(&dst->x, r.x.w, sizeof(dst->x));
    memcpy(&dst->gate_x, r.gate_x.w, sizeof(dst->gate_x));
    memcpy(&dst->gate_a, r.gate_a.w, sizeof(dst->gate_a));
    dst->position = r.position;
  }
  // A staged step's inputs in the accumulation type, softplus(a_param) of the channels, and
  // whether the step starts a document (RgLruStepInputs::Unpack's contract).
  __device__ bool Unpack(const Raw& staged, Acc (&xv)[kVec], Acc (&gx)[kVec], Acc (&ga)[kVec],
                         Acc (&spv)[kVec]) const {
    const Raw r = staged;  // whole, before any use
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      xv[v] = ToAcc<Acc>(r.x.v[v]);
      gx[v] = ToAcc<Acc>(r.gate_x.v[v]);
      ga[v] = ToAcc<Acc>(r.gate_a.v[v]);
      spv[v] = sp[v];
    }
    return r.position == 0;
  }
  __device__ void Decode(const Raw& staged, Acc (&a)[kVec], Acc (&bx)[kVec]) const {
    if (staged.position == kPastEndPosition) {
#pragma unroll
      for (int v = 0; v < kVec; ++v) a[v] = Acc(1), bx[v] = Acc(0);
      return;
    }
    Acc xv[kVec], gx[kVec], ga[kVec], spv[kVec];
    const bool reset = Unpack(staged, xv, gx, ga, spv);
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      const Gates<Acc> g(gx[v], ga[v], spv[v], reset);
      a[v] = g.a;
      bx[v] = xv[v] * g.i * g.mult;
    }
  }
  __device__ void Store(int64_t t, const Acc (&h)[kVec]) const { src.Store(b, t, d0, h); }
};

template <typename T, typename Acc>
cudaError_t LaunchForward(const RgLruForwardParams& p, cudaStream_t stream) {
  const RgLruInputs& in = p.in;
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, in.batch, in.seq_len, in.dim);
  RgLruSource<T, Acc> src{RgLruStepInputs<T, Acc>(in),
                          static_cast<const T*>(p.gelu_in),
                          static_cast<T*>(p.y),
                          static_cast<const Acc*>(in.h0),
                          static_cast<Acc*>(p.h_last),
                          in.seq_len,
                          in.dim};
  src.in.vec = src.in.vec && VectorAligned(p.y, 0, 0, in.kind) &&
               (p.gelu_in == nullptr || VectorAligned(p.gelu_in, 0, 0, in.kind));
  const int64_t blocks = in.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  // bf16 staged; fp32 and fp64 in registers, where a staged step (56 or 112 bytes) would leave
  // one or two blocks an SM.
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const RgLruStagedSteps<T, Acc> steps{src, in.seq_len, in.dim};
    return LaunchForwardStaged<Acc>(steps, src.h0, src.h_last, links, static_cast<unsigned>(blocks),
                                    stream);
  } else {
    ChunkedScanForward<Acc><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(src, links);
    return cudaGetLastError();
  }
}

template <typename T, typename Acc>
struct BackwardArgs {
  RgLruSource<T, Acc> fwd;  // loads steps exactly as the forward does
  RgLruStepInputs<T, Acc> in;
  const T* grad_y;
  const Acc* carries;
  T* grad_x;
  T* grad_gate_x;
  T* grad_gate_a;
  Acc* grad_softplus_partial;
  Acc* grad_h0;
};

// d sqrt(u) / du with the reference's bound (SqrtBoundDerivative: at most 1000, i.e. u floored at
// 1 / (4 * 1000^2)), which keeps bf16 training from producing infinities as a -> 1.
template <typename Acc>
__device__ __forceinline__ Acc SqrtBoundDerivative(Acc u) {
  const Acc floor = Acc(1) / (Acc(4) * Acc(1000) * Acc(1000));
  return Acc(0.5) * ReciprocalSqrt(u > floor ? u : floor);
}

// Where the backward keeps each step's inputs between its first pass (the decays) and its last
// (the gradients). bf16: staged in shared memory (RgLruStagedSteps, 64 KB a block, within the 2
// blocks an SM that 128 registers allow), so the last pass reads them there; before, it loaded
// them from global memory again, one step ahead, and waited one round trip per step (Nsight
// Compute, bf16: DRAM 11% busy, 0.44 eligible warps a scheduler). fp32 and fp64 load them twice:
// a staged fp32 step takes 64 bytes, and 128 KB a block would leave one block an SM.
template <typename T>
constexpr bool kStagedBackward = std::is_same_v<T, __nv_bfloat16>;
template <typename T, typename Acc>
constexpr int kBackwardStageBytes = kStagedBackward<T> ? kStagedBytes<RgLruStagedSteps<T, Acc>> : 0;

// The backward as a chunked reverse scan of dL/dh (chunked_scan.cuh: StatesBeforeSteps and
// MessageIntoWarp), then the gates' gradients step by step.
template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads, 2)
    RgLruBackwardKernel(BackwardArgs<T, Acc> p, Links<Acc> links) {
  __shared__ alignas(16) Acc s_a[kWarps][kChannels];
  __shared__ alignas(16) Acc s_h[kWarps][kChannels];
  extern __shared__ uint4 backward_mem[];  // kStagedBackward: [kSteps][kThreads] staged steps
  const BlockCoord c = TakeTicket(links, /*reverse=*/true);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d0 = c.tile * kChannels + lane * kVec;
  const int64_t t0 = c.chunk * kChunk + warp * kSteps;
  const int64_t seq_len = p.in.seq_len, dim = p.in.dim;
  const int64_t padded = links.tiles * kChannels;
  using Staged = RgLruStagedSteps<T, Acc>;
  Staged staged{p.fwd, seq_len, dim};
  typename Staged::Raw* const stage =
      reinterpret_cast<typename Staged::Raw*>(backward_mem) + threadIdx.x;

  // 1. Decays and normalised inputs (h_prev holds b_t for now), then the states before each step.
  Acc a[kSteps][kVec], h_prev[kSteps][kVec];
  if constexpr (kStagedBackward<T>) {
    staged.Bind(c.b, d0);
#pragma unroll
    for (int s = 0; s < kSteps; ++s) staged.Stage(stage + s * kThreads, t0 + s);
    CommitAsync();
    WaitAsync<0>();
#pragma unroll
    for (int s = 0; s < kSteps; ++s) staged.Decode(stage[s * kThreads], a[s], h_prev[s]);
  } else {
    LoadSteps(p.fwd, c.b, t0, d0, a, h_prev);
  }
  StatesBeforeSteps(
      links, c, s_a, s_h, p.carries, p.in.h0, dim, d0,
      [&](int s, Acc(&as)[kVec], Acc(&bs)[kVec]) {
#pragma unroll
        for (int v = 0; v < kVec; ++v) as[v] = a[s][v], bs[v] = h_prev[s][v];
      },
      [&](int s, const Acc(&h)[kVec]) {
#pragma unroll
        for (int v = 0; v < kVec; ++v) h_prev[s][v] = h[v];
      });
  // 2. The message from the right (nothing flows into the last step: h_last has no gradient).
  Acc g[kSteps][kVec];
  LoadStepGrads(p.grad_y, c.b, t0, d0, seq_len, dim, p.in.vec, g);
  Acc start[kVec], m[kVec], d_softplus[kVec];
#pragma unroll
  for (int v = 0; v < kVec; ++v) start[v] = Acc(0);
  MessageIntoWarp(
      links, c, s_a, s_h, [&](int s, int v) { return a[s][v]; },
      [&](int s, Acc(&gs)[kVec]) {
#pragma unroll
        for (int v = 0; v < kVec; ++v) gs[v] = g[s][v];
      },
      start, m);
#pragma unroll
  for (int v = 0; v < kVec; ++v) d_softplus[v] = Acc(0);
  // 3. Per-step gradients, walking the steps backwards with the true message from the right.
  // Unstaged, each step's inputs are loaded while the step after it is computed (one step ahead).
  using Raw = typename RgLruStepInputs<T, Acc>::Raw;
  const auto fetch = [&](int s) {
    return !kStagedBackward<T> && t0 + s < seq_len ? p.in.Fetch(c.b, t0 + s, d0) : Raw{};
  };
  Raw next = fetch(kSteps - 1);
#pragma unroll
  for (int s = kSteps - 1; s >= 0; --s) {
    const int64_t t = t0 + s;
    const Raw raw = next;
    if (s > 0) next = fetch(s - 1);
    if (t >= seq_len) continue;
    Acc xv[kVec], gx[kVec], ga[kVec], sp[kVec];
    const bool reset = kStagedBackward<T> ? staged.Unpack(stage[s * kThreads], xv, gx, ga, sp)
                                          : p.in.Unpack(raw, d0, xv, gx, ga, sp);
    Acc dx[kVec], dgx[kVec], dga[kVec];
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      const Gates<Acc> gt(gx[v], ga[v], sp[v], reset);
      const Acc dh = g[s][v] + m[v];
      m[v] = a[s][v] * dh;
      dx[v] = dh * gt.i * gt.mult;
      const Acc d_i = dh * xv[v] * gt.mult;
      dgx[v] = d_i * gt.i * (Acc(1) - gt.i);
      Acc d_log_a = Acc(0);  // a and the sqrt are constants at a document start
      if (!reset) {
        const Acc d_mult = dh * xv[v] * gt.i;
        const Acc d_a = dh * h_prev[s][v];
        // mult = sqrt(1 - exp(2 log a)): d mult / d log a = -2 a^2 sqrt'(1 - a^2)
        d_log_a =
            d_a * gt.a - d_mult * Acc(2) * gt.a_square * SqrtBoundDerivative(Acc(1) - gt.a_square);
      }
      // log a = -8 r softplus(a_param)
      const Acc d_r = d_log_a * Acc(-8) * sp[v];
      dga[v] = d_r * gt.r * (Acc(1) - gt.r);
      d_softplus[v] += d_log_a * Acc(-8) * gt.r;
    }
    const int64_t off = p.in.Offset(c.b, t, d0);
    StoreVec(p.grad_x + off, dim - d0, p.in.vec, dx);
    StoreVec(p.grad_gate_x + off, dim - d0, p.in.vec, dgx);
    StoreVec(p.grad_gate_a + off, dim - d0, p.in.vec, dga);
  }
  // m is now dL/dh entering this warp's first step: for the sequence's first step, dL/dh0.
  if (c.chunk == 0 && warp == 0 && p.grad_h0 != nullptr) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      if (d0 + v < dim) p.grad_h0[c.b * dim + d0 + v] = m[v];
    }
  }
  // 4. This chunk's d softplus, summed over its warps in a fixed order (deterministic).
  __syncthreads();
  WriteLane(s_a[warp], d_softplus);
  __syncthreads();
  if (warp == 0) {
    Acc sum[kVec] = {};
    for (int w = 0; w < kWarps; ++w) {
      Acc part[kVec];
      ReadLane(s_a[w], part);
#pragma unroll
      for (int v = 0; v < kVec; ++v) sum[v] += part[v];
    }
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      p.grad_softplus_partial[(c.b * links.chunks + c.chunk) * padded + d0 + v] = sum[v];
    }
  }
}

template <typename T, typename Acc>
cudaError_t LaunchBackward(const RgLruBackwardParams& p, cudaStream_t stream) {
  const RgLruInputs& in = p.in;
  const Links<Acc> links = MakeLinks<Acc>(p.workspace, in.batch, in.seq_len, in.dim);
  const RgLruStepInputs<T, Acc> steps(in);
  BackwardArgs<T, Acc> args{
      {steps, nullptr, nullptr, static_cast<const Acc*>(in.h0), nullptr, in.seq_len, in.dim},
      steps,
      static_cast<const T*>(p.grad_y),
      static_cast<const Acc*>(p.carries),
      static_cast<T*>(p.grad_x),
      static_cast<T*>(p.grad_gate_x),
      static_cast<T*>(p.grad_gate_a),
      static_cast<Acc*>(p.grad_softplus_partial),
      static_cast<Acc*>(p.grad_h0)};
  args.in.vec = args.in.vec && VectorAligned(p.grad_y, 0, 0, in.kind) &&
                VectorAligned(p.grad_x, 0, 0, in.kind) &&
                VectorAligned(p.grad_gate_x, 0, 0, in.kind) &&
                VectorAligned(p.grad_gate_a, 0, 0, in.kind);
  const int64_t blocks = in.batch * links.tiles * links.chunks;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  const auto kernel = RgLruBackwardKernel<T, Acc>;
  constexpr int smem = kBackwardStageBytes<T, Acc>;
  if (const cudaError_t e = AllowSharedMemory<Acc, smem>(kernel); e != cudaSuccess) return e;
  kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(args, links);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchRgLruForward(const RgLruForwardParams& p, cudaStream_t stream) {
  if (p.in.batch == 0 || p.in.dim == 0 || p.in.seq_len == 0) return cudaSuccess;
  return DispatchScalar(p.in.kind, [&](auto t, auto acc) {
    return LaunchForward<typename decltype(t)::type, typename decltype(acc)::type>(p, stream);
  });
}

cudaError_t LaunchRgLruBackward(const RgLruBackwardParams& p, cudaStream_t stream) {
  if (p.in.batch == 0 || p.in.dim == 0 || p.in.seq_len == 0) return cudaSuccess;
  return DispatchScalar(p.in.kind, [&](auto t, auto acc) {
    return LaunchBackward<typename decltype(t)::type, typename decltype(acc)::type>(p, stream);
  });
}

}  // namespace griffin::kernels
