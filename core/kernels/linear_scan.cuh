// ATen-free interface of the linear-recurrence scan kernel:
//   h_t = a_t * h_{t-1} + x_t,   y_t = h_t   (h in fp32 whatever the input dtype; fp64 for fp64)
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

// Enqueues the scan on `stream`; returns the launch error (cudaSuccess when it was enqueued).
cudaError_t LaunchLinearScan(const LinearScanParams& params, cudaStream_t stream);

}  // namespace griffin::kernels
