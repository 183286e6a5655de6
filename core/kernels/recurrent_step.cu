// The recurrent block's fused decode step (interface and math: recurrent_step.cuh).
#include <cuda_bf16.h>

#include <type_traits>

#include "core/kernels/recurrent_step.cuh"
#include "core/kernels/scalar_convert.cuh"

namespace griffin::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kOutputs = 32;                         // gate outputs per block
constexpr int kLanesPerRow = kOutputs / 4;           // lanes reading one weight row, 4 floats each
constexpr int kRowGroups = kThreads / kLanesPerRow;  // weight rows read at once per block
// softplus as ATen computes it (beta 1, threshold 20).
__device__ float Softplus(float x) { return x > 20.f ? x : log1pf(expf(x)); }
__device__ float Sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

// Four consecutive outputs j .. j+3 of row `row` of a [.., blk, blk] weight (vector load when
// the row is 16-byte aligned and all four exist).
__device__ void LoadRow4(const float* w, int64_t row, int j, int blk, float (&out)[4]) {
  const float* p = w + row * blk + j;
  if (blk % 4 == 0 && j + 3 < blk) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
  } else {
#pragma unroll
    for (int k = 0; k < 4; ++k) out[k] = j + k < blk ? p[k] : 0.f;
  }
}

// Where a block works: one (row b, head, 32-output slice), and the pointers every phase uses.
template <typename T>
struct StepBlock {
  int blk, slice, head;
  int64_t b, row0, head_rows, pos;
  __device__ explicit StepBlock(const RecurrentStepParams& p)
      : blk(static_cast<int>(p.dim / p.heads)),
        slice(blockIdx.x),
        head(blockIdx.y),
        b(blockIdx.z),
        row0(b * p.dim + static_cast<int64_t>(head) * blk),
        head_rows(static_cast<int64_t>(head) * blk),
        pos(p.positions[b]) {}
};

// The head's conv output into conv_out [blk], in the model's dtype; then, once every thread's
// reads of the tail are done, this block counts itself in: the last block of the head shifts the
// head's tail, the last block of the row its positions; both reset their tickets. kTapsAhead
// reads every tap whether it counts or not, so that no load waits for the positions.
template <typename T, int W, bool kTapsAhead>
__device__ __forceinline__ void ConvThenShiftTail(const RecurrentStepParams& p,
                                                  const StepBlock<T>& s, float* conv_out) {
  __shared__ bool last_of_head, last_of_row;
  const T* u = static_cast<const T*>(p.u);
  const T* cw = static_cast<const T*>(p.conv_w);
  const T* cb = static_cast<const T*>(p.conv_b);
  T* tail = static_cast<T*>(p.tail);
  const int64_t b = s.b;
  // keep[k]: the tap k tokens back counts iff none of the tokens after it starts a document.
  bool keep[W];
  keep[0] = true;
#pragma unroll
  for (int k = 1; k < W; ++k) {
    keep[k] = keep[k - 1] && (k == 1 ? s.pos != 0 : p.tail_pos[b * (W - 1) + W - k] != 0);
  }
  for (int i = threadIdx.x; i < s.blk; i += kThreads) {
    const int64_t ch = s.head_rows + i;
    float acc =
        ToAcc<float>(cb[ch]) + ToAcc<float>(cw[(W - 1) * p.dim + ch]) * ToAcc<float>(u[s.row0 + i]);
#pragma unroll
    for (int k = 1; k < W; ++k) {
      if constexpr (kTapsAhead) {
        const float tap = ToAcc<float>(cw[(W - 1 - k) * p.dim + ch]) *
                          ToAcc<float>(tail[(b * (W - 1) + W - 1 - k) * p.dim + ch]);
        if (keep[k]) acc += tap;
      } else if (keep[k]) {
        acc += ToAcc<float>(cw[(W - 1 - k) * p.dim + ch]) *
               ToAcc<float>(tail[(b * (W - 1) + W - 1 - k) * p.dim + ch]);
      }
    }
    conv_out[i] = ToAcc<float>(FromAcc<T>(acc));
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    int* head_ticket = p.tickets + b * p.heads + s.head;
    last_of_head = atomicAdd(head_ticket, 1) == static_cast<int>(gridDim.x) - 1;
    if (last_of_head) *head_ticket = 0;
    int* row_ticket = p.tickets + p.batch * p.heads + b;
    last_of_row = atomicAdd(row_ticket, 1) == static_cast<int>(gridDim.x * gridDim.y) - 1;
    if (last_of_row) *row_ticket = 0;
  }
  __syncthreads();
  if (W > 1 && last_of_head) {
    for (int i = threadIdx.x; i < s.blk; i += kThreads) {
      const int64_t ch = s.head_rows + i;
#pragma unroll
      for (int k = 0; k + 1 < W - 1; ++k) {
        tail[(b * (W - 1) + k) * p.dim + ch] = tail[(b * (W - 1) + k + 1) * p.dim + ch];
      }
      tail[(b * (W - 1) + W - 2) * p.dim + ch] = u[s.row0 + i];
    }
  }
  if (W > 1 && last_of_row && threadIdx.x == 0) {
    for (int k = 0; k + 1 < W - 1; ++k) {
      p.tail_pos[b * (W - 1) + k] = p.tail_pos[b * (W - 1) + k + 1];
    }
    p.tail_pos[b * (W - 1) + W - 2] = s.pos;
  }
}

// This thread's four partial sums of each gate projection into its row group's slots of
// [kRowGroups][kOutputs] (read back by SumPartials after a barrier).
__device__ __forceinline__ void StorePartials(float* part_x, float* part_a, int group,
                                              const float (&sx)[4], const float (&sa)[4]) {
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const int o = (threadIdx.x % kLanesPerRow) * 4 + k;
    part_x[group * kOutputs + o] = sx[k];
    part_a[group * kOutputs + o] = sa[k];
  }
}

// Partial sums of the gate projections [kRowGroups][kOutputs], summed in a fixed order
// (deterministic), for this thread's output.
__device__ __forceinline__ void SumPartials(const float* part_x, const float* part_a, float& gx,
                                            float& ga) {
  gx = 0.f, ga = 0.f;
  for (int g = 0; g < kRowGroups; ++g) {
    gx += part_x[g * kOutputs + threadIdx.x];
    ga += part_a[g * kOutputs + threadIdx.x];
  }
}

// The gates and the state update of one channel: returns h_t.
__device__ __forceinline__ float NewState(float gx, float ga, float a_param, float h_prev,
                                          float conv, bool reset) {
  const float in_gate = Sigmoid(gx);
  const float r = Sigmoid(ga);
  const float log_a = -8.f * r * Softplus(a_param);
  const float a = reset ? 0.f : expf(log_a);
  const float multiplier = reset ? 1.f : sqrtf(1.f - expf(2.f * log_a));
  return a * h_prev + conv * in_gate * multiplier;
}

// Shared memory: the head's conv output [blk], then the partial sums of the two projections.
struct StepShared {
  float *conv_out, *part_x, *part_a;
  __device__ explicit StepShared(float* smem, int blk)
      : conv_out(smem), part_x(smem + blk), part_a(smem + blk + kRowGroups * kOutputs) {}
};

// Gate projections for outputs j0 .. j0+31 of the block's head: thread (group g, lane l) reads
// 4 outputs of rows g, g + kRowGroups, ... with 16-byte loads; partial sums meet in shared
// memory. Each load where it is used: with more than one row per launch, blocks are many, the
// weights come from L2 and registers bound the blocks an SM.
template <typename T, int W>
__global__ void __launch_bounds__(kThreads) RecurrentStepKernel(RecurrentStepParams p) {
  extern __shared__ float smem[];
  const StepBlock<T> s(p);
  const StepShared sh(smem, s.blk);
  ConvThenShiftTail<T, W, false>(p, s, sh.conv_out);

  const int group = threadIdx.x / kLanesPerRow;
  const int j4 = s.slice * kOutputs + (threadIdx.x % kLanesPerRow) * 4;
  float sx[4] = {0.f, 0.f, 0.f, 0.f}, sa[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = group; i < s.blk; i += kRowGroups) {
    float wx[4], wa[4];
    LoadRow4(p.gate_x_w, s.head_rows + i, j4, s.blk, wx);
    LoadRow4(p.gate_a_w, s.head_rows + i, j4, s.blk, wa);
    const float c = sh.conv_out[i];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      sx[k] += c * wx[k];
      sa[k] += c * wa[k];
    }
  }
  StorePartials(sh.part_x, sh.part_a, group, sx, sa);
  __syncthreads();
  if (threadIdx.x >= kOutputs) return;
  const int j = s.slice * kOutputs + threadIdx.x;
  if (j >= s.blk) return;
  float gx, ga;
  SumPartials(sh.part_x, sh.part_a, gx, ga);
  const int64_t ch = s.head_rows + j;
  const float h = NewState(gx + p.gate_x_b[ch], ga + p.gate_a_b[ch], p.a_param[ch],
                           p.h[s.b * p.dim + ch], sh.conv_out[j], s.pos == 0);
  p.h[s.b * p.dim + ch] = h;
  float y = ToAcc<float>(FromAcc<T>(h));
  if (p.y_branch != nullptr) y *= ToAcc<float>(static_cast<const T*>(p.y_branch)[s.row0 + j]);
  static_cast<T*>(p.out)[s.row0 + j] = FromAcc<T>(y);
}

// Gate-weight rows a thread holds in registers in the batch-1 kernel (all of a 256-wide head's).
// At batch 1 the step reads 5 MB of float32 gate weights (2B shapes) in 80 blocks, and what
// bounds it is how many bytes are in flight, not bandwidth: a thread issues all its rows' loads,
// and everything else the step reads, at the start, before the conv phase, whose work then hides
// their latency. With more rows the same kernel ran 1.3-1.9x slower (batch 8 and 64 on the H200,
// two blocks an SM; bench/README.md, "Recurrent decode step").
constexpr int kRowsAhead = 8;

template <typename T, int W>
__global__ void __launch_bounds__(kThreads, 2) RecurrentStepBatch1Kernel(RecurrentStepParams p) {
  extern __shared__ float smem[];
  const StepBlock<T> s(p);
  const StepShared sh(smem, s.blk);
  const int group = threadIdx.x / kLanesPerRow;
  const int j4 = s.slice * kOutputs + (threadIdx.x % kLanesPerRow) * 4;
  float wx[kRowsAhead][4], wa[kRowsAhead][4];
  const auto load_rows = [&](int first) {
#pragma unroll
    for (int k = 0; k < kRowsAhead; ++k) {
      const int i = first + k * kRowGroups;
      if (i < s.blk) {
        LoadRow4(p.gate_x_w, s.head_rows + i, j4, s.blk, wx[k]);
        LoadRow4(p.gate_a_w, s.head_rows + i, j4, s.blk, wa[k]);
      }
    }
  };
  load_rows(group);
  // What the threads that finish an output read besides the projections.
  const int j = s.slice * kOutputs + threadIdx.x;
  const bool outputs = threadIdx.x < kOutputs && j < s.blk;
  float bias_x = 0.f, bias_a = 0.f, a_param = 0.f, h_prev = 0.f, branch = 1.f;
  if (outputs) {
    const int64_t ch = s.head_rows + j;
    bias_x = p.gate_x_b[ch];
    bias_a = p.gate_a_b[ch];
    a_param = p.a_param[ch];
    h_prev = p.h[s.b * p.dim + ch];
    if (p.y_branch != nullptr) branch = ToAcc<float>(static_cast<const T*>(p.y_branch)[s.row0 + j]);
  }
  ConvThenShiftTail<T, W, true>(p, s, sh.conv_out);

  float sx[4] = {0.f, 0.f, 0.f, 0.f}, sa[4] = {0.f, 0.f, 0.f, 0.f};
  for (int first = group; first < s.blk; first += kRowsAhead * kRowGroups) {
    if (first != group) load_rows(first);
#pragma unroll
    for (int k = 0; k < kRowsAhead; ++k) {
      const int i = first + k * kRowGroups;
      if (i >= s.blk) break;
      const float c = sh.conv_out[i];
#pragma unroll
      for (int o = 0; o < 4; ++o) {
        sx[o] += c * wx[k][o];
        sa[o] += c * wa[k][o];
      }
    }
  }
  StorePartials(sh.part_x, sh.part_a, group, sx, sa);
  __syncthreads();
  if (!outputs) return;
  float gx, ga;
  SumPartials(sh.part_x, sh.part_a, gx, ga);
  const int64_t ch = s.head_rows + j;
  const float h = NewState(gx + bias_x, ga + bias_a, a_param, h_prev, sh.conv_out[j], s.pos == 0);
  p.h[s.b * p.dim + ch] = h;
  const float y = ToAcc<float>(FromAcc<T>(h)) * branch;
  static_cast<T*>(p.out)[s.row0 + j] = FromAcc<T>(y);
}

template <typename T>
cudaError_t LaunchTyped(const RecurrentStepParams& p, cudaStream_t stream) {
  const int blk = static_cast<int>(p.dim / p.heads);
  const dim3 grid((blk + kOutputs - 1) / kOutputs, static_cast<unsigned>(p.heads),
                  static_cast<unsigned>(p.batch));
  const size_t smem = (static_cast<size_t>(blk) + 2 * kRowGroups * kOutputs) * sizeof(float);
  return DispatchWidth<4>(static_cast<int>(p.width), [&](auto width) {
    constexpr int W = decltype(width)::value;
    if (p.batch == 1) {
      RecurrentStepBatch1Kernel<T, W><<<grid, kThreads, smem, stream>>>(p);
    } else {
      RecurrentStepKernel<T, W><<<grid, kThreads, smem, stream>>>(p);
    }
    return cudaGetLastError();
  });
}

}  // namespace

int64_t RecurrentStepTickets(int64_t batch, int64_t heads) { return batch * (heads + 1); }

cudaError_t LaunchRecurrentStep(const RecurrentStepParams& p, cudaStream_t stream) {
  if (p.batch == 0 || p.dim == 0) return cudaSuccess;
  if (p.heads <= 0 || p.dim % p.heads != 0 || p.batch > 65535 || p.heads > 65535) {
    return cudaErrorInvalidConfiguration;
  }
  // Dynamic shared memory: the head's conv output plus the partial sums must fit in 48 KiB.
  if ((p.dim / p.heads + 2 * kRowGroups * kOutputs) * 4 > 48 * 1024) {
    return cudaErrorInvalidConfiguration;
  }
  return DispatchScalar(p.kind, [&](auto t, auto) {
    using T = typename decltype(t)::type;
    if constexpr (std::is_same_v<T, double>) {
      return cudaErrorInvalidValue;  // the decode step runs the model's dtypes only
    } else {
      return LaunchTyped<T>(p, stream);
    }
  });
}

}  // namespace griffin::kernels
