// Reductions over a warp and over a block, each in one fixed order (the same bits on every run),
// every thread getting the result: shared by the RMSNorm, the loss, the decode attention and the
// skinny matrix product.
#pragma once

namespace griffin::kernels {

template <typename Acc, typename Op>
__device__ __forceinline__ Acc WarpReduce(Acc v, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

template <typename Acc>
__device__ __forceinline__ Acc WarpSum(Acc v) {
  return WarpReduce(v, [](Acc a, Acc b) { return a + b; });
}

// Over a block of kWarps warps (blockDim.x == 32 * kWarps); every thread of the block calls it.
// The warps' results are combined in warp order; the closing barrier lets the next call reuse the
// buffer.
template <int kWarps, typename Acc, typename Op>
__device__ Acc BlockReduce(Acc v, Op op) {
  __shared__ Acc warps[kWarps];
  v = WarpReduce(v, op);
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = v;
  __syncthreads();
  Acc all = warps[0];
  for (int w = 1; w < kWarps; ++w) all = op(all, warps[w]);
  __syncthreads();
  return all;
}

}  // namespace griffin::kernels
