// Attention for both families: the block (projections, RoPE, cached attention, output
// projection) and the masked attention it is built on (docs/MODEL.md section 4).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/decode_attention.h"
#include "core/kernels/op_impl.h"
#include "core/model/attention_cache.h"
#include "core/model/config.h"
#include "core/model/weights.h"

namespace griffin {

// q: [B, T, H, hd]; k, v: [B, S, KV, hd] (head h reads KV head h / (H/KV)); visible: bool
// [B, T, S]. Logits scaled by `scale`, softmax in float32, probabilities cast back to q's dtype
// (the reference's numerics). Returns [B, T, H * hd]. Every query must see a key.
at::Tensor AttendMasked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const at::Tensor& visible, double scale);

// One attention block over a chunk of T tokens continuing `cache`. A query sees the keys of its
// own document at positions <= its own, and, with a local window, no more than `window` back.
// `start`: int64 [1] on the device, the stream index of the chunk's first token.
// `stream`: what the host knows of the tokens so far, which lets fused kernels run without a mask.
struct StreamShape {
  bool simple = false;  // one unpadded document from position 0, this chunk included: causal
  bool fresh = false;   // simple, and this chunk is its start: the cache holds nothing visible
};
// `inv_freq`: RoPE's inverse frequencies for c (RopeInverseFrequencies) on the model's device, or
// undefined: made here.
// A one-token step where the inference kernels run (InferenceKernelsRun) takes the decode
// attention op's kernels: q, k and v from one product, RoPE, attention and the cache write in two
// launches.
at::Tensor AttentionBlock(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& docs,
                          const AttentionWeights& w, const ModelConfig& c, AttentionCache& cache,
                          const at::Tensor& start, StreamShape stream, const at::Tensor& inv_freq);

// One token's attention against a cache's buffers (core/kernels/decode_attention.h): `reference`
// is the ATen composition (ApplyRope, AttendMasked over the used slots and the token, then the
// write into its slot), `cuda` the kernels.
at::Tensor DecodeAttention(const DecodeAttentionTensors& t, OpImpl impl);

}  // namespace griffin
