// ATen-free interface of the linear-recurrence scan kernels:
//   h_t = a_t * h_{t-1} + x_t,   y_t = h_t   (h in fp32 whatever the input dtype; fp64 for fp64)
// and its backward: from dL/dy (and dL/dh_last), dL/da_t = dh_t h_{t-1}, dL/dx_t = dh_t and
// dL/dh0, where dh_t = dL/dy_t + a_{t+1} dh_{t+1} is a reverse scan (chunked_scan.cuh).
// The ATen-facing wrapper (linear_scan_cuda.cpp) checks every argument before filling these.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"
#include "core/kernels/scan_workspace.cuh"

namespace griffin::kernels {

struct LinearScanParams {
  const void* a;   // [batch, seq_len, dim], element type `kind`
  const void* x;   // [batch, seq_len, dim], element type `kind`
  void* y;         // [batch, seq_len, dim], element type `kind`
  const void* h0;  // [batch, dim] accumulation type, or nullptr (start from zero)
  void* h_last;    // [batch, dim] accumulation type, or nullptr (not wanted)
  int64_t batch, seq_len, dim;
  // Strides in elements; the channel stride is 1 (checked by the wrapper).
  int64_t a_batch_stride, a_seq_stride;
  int64_t x_batch_stride, x_seq_stride;
  int64_t y_batch_stride, y_seq_stride;
  ScalarKind kind;
  ScanWorkspace workspace;  // sized by ChunkedScanShape(batch, seq_len, dim)
};

struct LinearScanBackwardParams {
  LinearScanParams fwd;     // the forward's a, x, h0, shape and strides (y and h_last unused)
  const void* carries;      // the forward workspace's inclusive values [batch, chunks, padded_dim]
  const void* grad_y;       // [batch, seq_len, dim] contiguous, element type `kind`
  const void* grad_h_last;  // [batch, dim] accumulation type, or nullptr (no gradient)
  void* grad_a;             // [batch, seq_len, dim] contiguous, element type `kind`
  void* grad_x;             // [batch, seq_len, dim] contiguous, element type `kind`
  void* grad_h0;            // [batch, dim] accumulation type, or nullptr (not wanted)
  ScanWorkspace workspace;  // a fresh one: the backward scan runs from the last chunk
};

// Enqueue the scan or its backward on `stream`; return the launch error (cudaSuccess when it was
// enqueued). The backward needs seq_len > 0 (the wrapper handles an empty sequence).
cudaError_t LaunchLinearScan(const LinearScanParams& params, cudaStream_t stream);
cudaError_t LaunchLinearScanBackward(const LinearScanBackwardParams& params, cudaStream_t stream);

}  // namespace griffin::kernels
