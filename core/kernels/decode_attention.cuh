// ATen-free interface of the one-token attention kernels (the math: decode_attention.h). A decode
// step's query, key and value arrive as one [batch, (heads + 2 kv_heads) * head_dim] row of
// projections before RoPE; the cache is the attention block's whole buffer, keys and values
// [batch, slots, kv_heads, head_dim] in `kind`, positions and documents int64 [batch, slots].
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

// Query heads one block of the split kernel holds (more heads share a key head in more blocks).
inline constexpr int kDecodeAttentionMaxGroup = 8;
inline constexpr int kDecodeAttentionMaxHeadDim = 256;

struct DecodeAttentionShape {
  int64_t batch, heads, kv_heads, head_dim;
  int64_t slots;      // the cache's capacity S
  int64_t window;     // > 0: a ring of `window` == S slots; 0: a growing cache (slots < start used)
  int64_t rope_half;  // RoPE rotates the pairs (i, i + rope_half) for i < rope_half
  float scale;        // on q . k
  ScalarKind kind;    // float32 or bfloat16
};

struct DecodeAttentionParams {
  const void* qkv;          // [batch, (heads + 2 kv_heads) * head_dim]: q, then k, then v
  const int64_t* position;  // [batch]: the token's position in its document
  const int64_t* doc;       // [batch]: the token's document
  const int64_t* start;     // [1]: the token's stream index (its slot: start, or start mod window)
  const float* inv_freq;    // [rope_half]: RoPE's inverse frequencies
  void* keys;               // the cache, read, then the token written into its slot
  void* values;
  int64_t* key_pos;
  int64_t* key_doc;
  void* out;    // [batch, heads * head_dim] in `kind`
  float* work;  // DecodeAttentionWorkFloats(shape, splits)
};

// Splits of the cache's slots over blocks: enough blocks to fill `sms` multiprocessors a few
// times over, at least kMinSlotsPerSplit slots each.
int64_t DecodeAttentionSplits(const DecodeAttentionShape& s, int sms);
int64_t DecodeAttentionWorkFloats(const DecodeAttentionShape& s, int64_t splits);

// Two launches: each split's partial softmax and weighted values (every block rotates its query
// heads and the new key itself), then the combination over splits, which also writes the token's
// rotated key, value, position and document into its slot (after every read of the cache).
cudaError_t LaunchDecodeAttention(const DecodeAttentionShape& s, const DecodeAttentionParams& p,
                                  int64_t splits, cudaStream_t stream);

}  // namespace griffin::kernels
