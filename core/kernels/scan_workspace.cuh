// Host-side view of the chunked scans' workspace (ATen-free): the caller allocates it from these
// sizes, zeroes the flags, and passes it with the kernel's parameters. The three value arrays are
// [batch, chunks, padded_dim] each, in the accumulation type (float32; float64 for float64 input):
// chunk aggregates (A, H) and inclusive values, the last being the state at the end of every
// chunk, which the RG-LRU backward reads back as its saved carries.
#pragma once

#include <cstdint>

namespace griffin::kernels {

struct ScanWorkspaceShape {
  int64_t chunks = 0, tiles = 0;
  int64_t padded_dim = 0;        // tiles x channels per tile
  int64_t values_per_array = 0;  // batch x chunks x padded_dim
  int64_t flag_count = 0;        // batch x tiles x chunks flags, then one ticket counter
};

ScanWorkspaceShape ChunkedScanShape(int64_t batch, int64_t seq_len, int64_t dim);

struct ScanWorkspace {
  void* values = nullptr;  // 3 x values_per_array accumulation-type elements
  int* flags = nullptr;    // flag_count ints, zeroed before every launch
};

}  // namespace griffin::kernels
