// ATen-free interface of the fused RG-LRU kernels (the math: core/model/rglru.h). Forward: from
// the conv output x and the two gate projections' outputs (before the sigmoid), compute
//   i = sigmoid(gate_x), r = sigmoid(gate_a), log a = -8 r softplus(a_param), a = exp(log a),
//   h_t = a_t h_{t-1} + sqrt(1 - a_t^2) i_t x_t   (a_t = 0 and the sqrt = 1 where position == 0)
// inside the scan, never writing a or the normalised input to memory; optionally the output is
// h * gelu_tanh(gelu_in) (the recurrent block's product with its other branch). Backward:
// gradients for x, both gate inputs, softplus(a_param) (per-chunk partial sums, reduced by the
// caller in a fixed order: deterministic) and h0, recomputing h from the forward's chunk carries.
// Every [batch, seq_len, dim] tensor is contiguous; positions are [batch, seq_len] int64.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"
#include "core/kernels/scan_workspace.cuh"

namespace griffin::kernels {

struct RgLruInputs {
  const void* x;       // element type `kind`
  const void* gate_x;  // element type `kind`, before the sigmoid
  const void* gate_a;  // element type `kind`, before the sigmoid
  const int64_t* positions;
  const void* softplus_a;  // [dim] accumulation type: softplus(a_param)
  const void* h0;          // [batch, dim] accumulation type, or nullptr
  int64_t batch, seq_len, dim;
  ScalarKind kind;
};

struct RgLruForwardParams {
  RgLruInputs in;
  const void* gelu_in;      // [batch, seq_len, dim] element type `kind`, or nullptr
  void* y;                  // element type `kind`
  void* h_last;             // [batch, dim] accumulation type, or nullptr
  ScanWorkspace workspace;  // ChunkedScanShape(batch, seq_len, dim); its carries feed backward
};

struct RgLruBackwardParams {
  RgLruInputs in;
  const void* grad_y;   // element type `kind`
  const void* carries;  // the forward workspace's inclusive values [batch, chunks, padded_dim]
  void* grad_x;
  void* grad_gate_x;
  void* grad_gate_a;
  void* grad_softplus_partial;  // [batch, chunks, padded_dim] accumulation type
  void* grad_h0;                // [batch, dim] accumulation type, or nullptr
  ScanWorkspace workspace;      // a fresh one: the backward scan runs from the last chunk
};

cudaError_t LaunchRgLruForward(const RgLruForwardParams& params, cudaStream_t stream);
cudaError_t LaunchRgLruBackward(const RgLruBackwardParams& params, cudaStream_t stream);

}  // namespace griffin::kernels
