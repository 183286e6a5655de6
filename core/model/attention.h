// Masked multi-query / grouped / multi-head attention shared by both families, and Griffin's
// local attention over a ring buffer of `window` keys/values (docs/MODEL_SPEC.md section 3.8).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/model/config.h"
#include "core/model/griffin_state.h"
#include "core/model/weights.h"

namespace griffin {

// q: [B, T, H, hd]; k, v: [B, S, KV, hd] (H a multiple of KV: head h reads KV head h / (H/KV));
// visible: bool [B, T, S]. Logits scaled by `scale`, softmax in float32, probabilities cast
// back to q's dtype. Returns [B, T, H * hd]. Every query must see at least one key.
at::Tensor AttendMasked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const at::Tensor& visible, double scale);

// Griffin's local MQA block: projections, half-RoPE, attention to the current token and the
// `window` previous tokens of the same document, output projection. docs: int64 [B, T]
// document index of each token. Reads and updates the ring buffer in `state`.
at::Tensor LocalAttention(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& docs,
                          const AttentionWeights& w, const ModelConfig& c, AttentionState& state,
                          int64_t tokens_seen);

}  // namespace griffin
