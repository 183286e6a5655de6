#include "core/model/attention.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/model/layers.h"

namespace griffin {
namespace {
// Queries per block in prefill: keeps the score matrix O(T * (window + block)), not O(T^2).
constexpr int64_t kQueryBlock = 512;
// The reference's finite "minus infinity": a masked logit never becomes NaN in the softmax.
constexpr double kMaskValue = -2.3819763e38;
}  // namespace

at::Tensor AttendMasked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const at::Tensor& visible, double scale) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3);
  const int64_t S = k.size(1), KV = k.size(2), G = H / KV;
  // Head h = kv * G + g reads KV head kv: fold the G query heads of a group into rows.
  const at::Tensor qg = q.reshape({B, T, KV, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, KV, T * G, hd});
  const at::Tensor logits =
      at::matmul(qg, k.permute({0, 2, 3, 1})).to(at::kFloat).mul_(scale).view({B, KV, T, G, S});
  logits.masked_fill_(visible.view({B, 1, T, 1, S}).logical_not(), kMaskValue);
  const at::Tensor probs = at::softmax(logits, -1).to(q.scalar_type()).view({B, KV, T * G, S});
  const at::Tensor out = at::matmul(probs, v.permute({0, 2, 1, 3}));  // [B, KV, T*G, hd]
  return out.view({B, KV, T, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, T, H * hd});
}

at::Tensor LocalAttention(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& docs,
                          const AttentionWeights& w, const ModelConfig& c, AttentionState& state,
                          int64_t tokens_seen) {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  const int64_t window = c.attention_window;
  const at::Tensor q =
      ApplyRope(at::linear(x, w.q_w).view({B, T, H, hd}), positions, c.rope_fraction, c.rope_base);
  const at::Tensor k =
      ApplyRope(at::linear(x, w.k_w).view({B, T, KV, hd}), positions, c.rope_fraction, c.rope_base);
  const at::Tensor v = at::linear(x, w.v_w).view({B, T, KV, hd});
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  std::vector<at::Tensor> outs;
  for (int64_t s = 0; s < T; s += kQueryBlock) {
    const int64_t e = std::min(T, s + kQueryBlock);
    const int64_t ks = std::max<int64_t>(0, s - window);
    at::Tensor keys = k.narrow(1, ks, e - ks), vals = v.narrow(1, ks, e - ks);
    at::Tensor kpos = positions.narrow(1, ks, e - ks), kdoc = docs.narrow(1, ks, e - ks);
    if (s < window) {  // queries here may need tokens from before this chunk: the ring holds them
      keys = at::cat({state.keys, keys}, 1);
      vals = at::cat({state.values, vals}, 1);
      kpos = at::cat({state.slot_pos, kpos}, 1);
      kdoc = at::cat({state.slot_doc, kdoc}, 1);
    }
    const at::Tensor qpos = positions.narrow(1, s, e - s).unsqueeze(2);  // [B, Tq, 1]
    const at::Tensor qdoc = docs.narrow(1, s, e - s).unsqueeze(2);
    const at::Tensor kp = kpos.unsqueeze(1), kd = kdoc.unsqueeze(1);     // [B, 1, S]
    const at::Tensor visible = kd.eq(qdoc).logical_and(kp.le(qpos)).logical_and((qpos - kp).le(window));
    outs.push_back(AttendMasked(q.narrow(1, s, e - s), keys, vals, visible, scale));
  }
  // The ring keeps the last `window` tokens: token n of the stream lives in slot n mod window.
  const int64_t n = std::min(T, window);
  const at::Tensor slots =
      at::remainder(at::arange(tokens_seen + T - n, tokens_seen + T, positions.options()), window);
  state.keys.index_copy_(1, slots, k.narrow(1, T - n, n));
  state.values.index_copy_(1, slots, v.narrow(1, T - n, n));
  state.slot_pos.index_copy_(1, slots, positions.narrow(1, T - n, n));
  state.slot_doc.index_copy_(1, slots, docs.narrow(1, T - n, n));
  return at::linear(at::cat(outs, 1), w.o_w, w.o_b);
}

}  // namespace griffin
