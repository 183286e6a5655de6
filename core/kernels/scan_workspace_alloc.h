// Allocating the chunked scans' workspace from ATen (the kernels themselves are ATen-free), and
// the dtype mapping between ATen and the kernels' ScalarKind.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/kernel_common.cuh"
#include "core/kernels/scan_workspace.cuh"

namespace griffin::detail {

// float32 for float32 and bfloat16 inputs (the state is never bf16); float64 for float64.
at::ScalarType AccumulationType(at::ScalarType input);
kernels::ScalarKind KernelScalarKind(at::ScalarType t);

struct ScanWorkspaceTensors {
  kernels::ScanWorkspaceShape shape;
  at::Tensor values;  // [3, batch, chunks, padded_dim], accumulation type
  at::Tensor flags;   // int32, zeroed
  kernels::ScanWorkspace view() const { return {values.data_ptr(), flags.data_ptr<int>()}; }
  // The state at the end of every chunk, [batch, chunks, padded_dim] (valid after the launch).
  at::Tensor carries() const { return values[2]; }
};

ScanWorkspaceTensors AllocateScanWorkspace(int64_t batch, int64_t seq_len, int64_t dim,
                                           at::ScalarType acc, const at::Device& device);

}  // namespace griffin::detail
