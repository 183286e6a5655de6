#include "core/kernels/scan_workspace_alloc.h"

#include <ATen/ATen.h>

namespace griffin::detail {

at::ScalarType AccumulationType(at::ScalarType input) {
  return input == at::kDouble ? at::kDouble : at::kFloat;
}

kernels::ScalarKind KernelScalarKind(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return kernels::ScalarKind::kFloat32;
    case at::kBFloat16:
      return kernels::ScalarKind::kBFloat16;
    case at::kDouble:
      return kernels::ScalarKind::kFloat64;
    default:
      TORCH_CHECK(false, "no CUDA kernel for dtype ", t);
  }
}

ScanWorkspaceTensors AllocateScanWorkspace(int64_t batch, int64_t seq_len, int64_t dim,
                                           at::ScalarType acc, const at::Device& device) {
  ScanWorkspaceTensors ws;
  ws.shape = kernels::ChunkedScanShape(batch, seq_len, dim);
  ws.values = at::empty({3, batch, ws.shape.chunks, ws.shape.padded_dim},
                        at::TensorOptions(device).dtype(acc));
  ws.flags = at::zeros({ws.shape.flag_count}, at::TensorOptions(device).dtype(at::kInt));
  return ws;
}

}  // namespace griffin::detail
