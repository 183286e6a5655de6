// ATen-facing side of one token's attention against its block's cache (kernels:
// decode_attention.cu; the model-level op choosing them or the ATen composition, and the cache
// whose buffers it reads and writes: core/model/attention.h). In one step: RoPE of the token's
// query heads and key, attention over the cache's visible slots and the token itself (a slot is
// visible when it holds the same document, a position at most the token's and, in a ring, within
// the window), then the token's key, value, position and document written into its slot.
#pragma once

#include <ATen/core/Tensor.h>

namespace griffin {

// The widest head the kernels hold (a lane keeps 8 channels of a warp's 32).
inline constexpr int64_t kDecodeAttentionMaxHeadDim = 256;

struct DecodeAttentionTensors {
  at::Tensor qkv;        // [batch, 1, (heads + 2 kv_heads) * head_dim] float32 or bfloat16
  at::Tensor positions;  // [batch, 1] int64: the token's position in its document
  at::Tensor docs;       // [batch, 1] int64: its document
  at::Tensor start;      // [1] int64: its stream index (slot start, or start mod window)
  at::Tensor inv_freq;   // [rope_dim / 2] float32: RoPE's inverse frequencies
  // The cache's whole buffers, read, then written in place at the token's slot (so contiguous).
  at::Tensor keys, values;       // [batch, slots, kv_heads, head_dim] qkv's dtype
  at::Tensor key_pos, key_docs;  // [batch, slots] int64
  int64_t heads = 0;
  int64_t window = 0;  // > 0: the cache is a ring of `window` slots; 0: slots < start are used
  double scale = 1.0;
};

// Shapes, dtypes, devices and contiguity, each error naming the tensor.
void CheckDecodeAttentionTensors(const DecodeAttentionTensors& t);

namespace detail {
// Two launches; returns [batch, 1, heads * head_dim] in qkv's dtype. Inference only.
at::Tensor DecodeAttentionCuda(const DecodeAttentionTensors& t);
}  // namespace detail

}  // namespace griffin
