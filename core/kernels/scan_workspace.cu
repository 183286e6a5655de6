#include "core/kernels/chunked_scan.cuh"
#include "core/kernels/scan_workspace.cuh"

namespace griffin::kernels {

ScanWorkspaceShape ChunkedScanShape(int64_t batch, int64_t seq_len, int64_t dim) {
  ScanWorkspaceShape s;
  s.chunks = chunked::Chunks(seq_len);
  s.tiles = chunked::Tiles(dim);
  s.padded_dim = s.tiles * chunked::kChannels;
  s.values_per_array = batch * s.chunks * s.padded_dim;
  s.flag_count = batch * s.tiles * s.chunks + 1;
  return s;
}

}  // namespace griffin::kernels
