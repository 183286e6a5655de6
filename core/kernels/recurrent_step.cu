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
// Weight rows a thread holds in registers at once. At batch 1 the step reads 5 MB of float32
// gate weights (2B shapes) in 80 blocks: what bounds it is how many bytes are in flight, not
// bandwidth, so a thread issues all its rows' loads (a 256-wide head's 8) before using any, and
// before the conv phase, whose work then hides their latency. With more rows per launch, blocks
// are many and the weights come from L2: holding rows costs registers, hence blocks an SM, and
// the step ran 1.3-1.9x slower at batch 8 and 64 on the H200 (bench/README.md); there a thread
// reads one row at a time.
constexpr int kRowsAheadBatch1 = 8;
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

// kAhead: every load issued at the start (batch 1, bound by latency), or each where it is used
// (more rows, bound by the blocks resident, i.e. by registers).
template <typename T, int W, bool kAhead>
__global__ void __launch_bounds__(kThreads, kAhead ? 2 : 1)
    RecurrentStepKernel(RecurrentStepParams p) {
  constexpr int kRowsAhead = kAhead ? kRowsAheadBatch1 : 1;
  extern __shared__ float smem[];
  float* conv_out = smem;                          // [blk]: this head's conv output
  float* part_x = smem + p.dim / p.heads;          // [kRowGroups][kOutputs]
  float* part_a = part_x + kRowGroups * kOutputs;  // [kRowGroups][kOutputs]
  __shared__ bool last_of_head, last_of_row;

  const int blk = static_cast<int>(p.dim / p.heads);
  const int slice = blockIdx.x, head = blockIdx.y;
  const int64_t b = blockIdx.z;
  const int64_t row0 = b * p.dim + static_cast<int64_t>(head) * blk;  // [batch, dim] offset
  const T* u = static_cast<const T*>(p.u);
  const T* cw = static_cast<const T*>(p.conv_w);
  const T* cb = static_cast<const T*>(p.conv_b);
  T* tail = static_cast<T*>(p.tail);
  const int64_t pos = p.positions[b];

  // Gate projections for outputs j0 .. j0+31 of this head: thread (group g, lane l) reads 4
  // outputs of rows g, g + kRowGroups, ... with 16-byte loads, kRowsAhead rows at a time; partial
  // sums meet in shared memory. The first rows' loads go out now, with everything else the step
  // reads, so that the launch waits on one round trip to memory, not one per phase.
  const int group = threadIdx.x / kLanesPerRow;
  const int j4 = slice * kOutputs + (threadIdx.x % kLanesPerRow) * 4;
  const int64_t head_rows = static_cast<int64_t>(head) * blk;
  float wx[kRowsAhead][4], wa[kRowsAhead][4];
  const auto load_rows = [&](int first) {
#pragma unroll
    for (int k = 0; k < kRowsAhead; ++k) {
      const int i = first + k * kRowGroups;
      if (i < blk) {
        LoadRow4(p.gate_x_w, head_rows + i, j4, blk, wx[k]);
        LoadRow4(p.gate_a_w, head_rows + i, j4, blk, wa[k]);
      }
    }
  };
  if constexpr (kAhead) load_rows(group);
  // What the final phase's threads (one per output) read besides the projections.
  const int j = slice * kOutputs + threadIdx.x;
  const bool outputs = threadIdx.x < kOutputs && j < blk;
  float bias_x = 0.f, bias_a = 0.f, a_param = 0.f, h_prev = 0.f, branch = 1.f;
  const auto load_output_inputs = [&] {
    if (!outputs) return;
    const int64_t ch = head_rows + j;
    bias_x = p.gate_x_b[ch];
    bias_a = p.gate_a_b[ch];
    a_param = p.a_param[ch];
    h_prev = p.h[b * p.dim + ch];
    if (p.y_branch != nullptr) branch = ToAcc<float>(static_cast<const T*>(p.y_branch)[row0 + j]);
  };
  if constexpr (kAhead) load_output_inputs();

  // keep[s]: the tap s tokens back counts iff none of the tokens after it starts a document. Ahead,
  // the taps are read whether they count or not, so that no load waits for the positions.
  bool keep[W];
  keep[0] = true;
#pragma unroll
  for (int s = 1; s < W; ++s) {
    keep[s] = keep[s - 1] && (s == 1 ? pos != 0 : p.tail_pos[b * (W - 1) + W - s] != 0);
  }
  for (int i = threadIdx.x; i < blk; i += kThreads) {
    const int64_t ch = static_cast<int64_t>(head) * blk + i;
    float acc =
        ToAcc<float>(cb[ch]) + ToAcc<float>(cw[(W - 1) * p.dim + ch]) * ToAcc<float>(u[row0 + i]);
#pragma unroll
    for (int s = 1; s < W; ++s) {
      if (kAhead || keep[s]) {
        const float tap = ToAcc<float>(cw[(W - 1 - s) * p.dim + ch]) *
                          ToAcc<float>(tail[(b * (W - 1) + W - 1 - s) * p.dim + ch]);
        if (keep[s]) acc += tap;
      }
    }
    conv_out[i] = ToAcc<float>(FromAcc<T>(acc));  // the conv's output is in the model's dtype
  }
  __syncthreads();
  // Every thread's reads of the tail are done: count this block in. The last block of the head
  // shifts the head's tail, the last block of the row its positions; both reset their tickets.
  if (threadIdx.x == 0) {
    __threadfence();
    int* head_ticket = p.tickets + b * p.heads + head;
    last_of_head = atomicAdd(head_ticket, 1) == static_cast<int>(gridDim.x) - 1;
    if (last_of_head) *head_ticket = 0;
    int* row_ticket = p.tickets + p.batch * p.heads + b;
    last_of_row = atomicAdd(row_ticket, 1) == static_cast<int>(gridDim.x * gridDim.y) - 1;
    if (last_of_row) *row_ticket = 0;
  }
  __syncthreads();
  if (W > 1 && last_of_head) {
    for (int i = threadIdx.x; i < blk; i += kThreads) {
      const int64_t ch = static_cast<int64_t>(head) * blk + i;
#pragma unroll
      for (int k = 0; k + 1 < W - 1; ++k) {
        tail[(b * (W - 1) + k) * p.dim + ch] = tail[(b * (W - 1) + k + 1) * p.dim + ch];
      }
      tail[(b * (W - 1) + W - 2) * p.dim + ch] = u[row0 + i];
    }
  }
  if (W > 1 && last_of_row && threadIdx.x == 0) {
    for (int k = 0; k + 1 < W - 1; ++k) {
      p.tail_pos[b * (W - 1) + k] = p.tail_pos[b * (W - 1) + k + 1];
    }
    p.tail_pos[b * (W - 1) + W - 2] = pos;
  }

  float sx[4] = {0.f, 0.f, 0.f, 0.f}, sa[4] = {0.f, 0.f, 0.f, 0.f};
  for (int first = group; first < blk; first += kRowsAhead * kRowGroups) {
    if (!kAhead || first != group) load_rows(first);
#pragma unroll
    for (int k = 0; k < kRowsAhead; ++k) {
      const int i = first + k * kRowGroups;
      if (i >= blk) break;
      const float c = conv_out[i];
#pragma unroll
      for (int o = 0; o < 4; ++o) {
        sx[o] += c * wx[k][o];
        sa[o] += c * wa[k][o];
      }
    }
  }
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const int o = (threadIdx.x % kLanesPerRow) * 4 + k;
    part_x[group * kOutputs + o] = sx[k];
    part_a[group * kOutputs + o] = sa[k];
  }
  __syncthreads();
  if (!outputs) return;
  if constexpr (!kAhead) load_output_inputs();
  float gx = 0.f, ga = 0.f;
  for (int g = 0; g < kRowGroups; ++g) {  // fixed order: deterministic
    gx += part_x[g * kOutputs + threadIdx.x];
    ga += part_a[g * kOutputs + threadIdx.x];
  }
  const int64_t ch = head_rows + j;
  const float in_gate = Sigmoid(gx + bias_x);
  const float r = Sigmoid(ga + bias_a);
  const float log_a = -8.f * r * Softplus(a_param);
  const bool reset = pos == 0;
  const float a = reset ? 0.f : expf(log_a);
  const float multiplier = reset ? 1.f : sqrtf(1.f - expf(2.f * log_a));
  const float h = a * h_prev + conv_out[j] * in_gate * multiplier;
  p.h[b * p.dim + ch] = h;
  const float y = ToAcc<float>(FromAcc<T>(h)) * branch;
  static_cast<T*>(p.out)[row0 + j] = FromAcc<T>(y);
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
      RecurrentStepKernel<T, W, true><<<grid, kThreads, smem, stream>>>(p);
    } else {
      RecurrentStepKernel<T, W, false><<<grid, kThreads, smem, stream>>>(p);
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
