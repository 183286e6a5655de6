#include "core/model/attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/model/layers.h"

namespace griffin {
namespace {
// Queries per block when a mask is materialised: memory O(T * (keys + block)), not O(T^2).
constexpr int64_t kQueryBlock = 512;
// The reference's finite "minus infinity": a masked logit never becomes NaN in the softmax.
constexpr double kMaskValue = -2.3819763e38;

// Fused attention (flash / memory-efficient on GPU, math on CPU) in [B, T, H, hd] layout.
at::Tensor FusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const std::optional<at::Tensor>& visible, bool causal, double scale) {
  std::optional<at::Tensor> mask;
  if (visible) mask = visible->unsqueeze(1);  // [B, 1, T, S], broadcast over heads
  const at::Tensor out = at::scaled_dot_product_attention(
      q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), mask, /*dropout_p=*/0.0, causal,
      scale, /*enable_gqa=*/k.size(2) != q.size(2));
  return out.transpose(1, 2).flatten(2);
}

// Whether ATen's flash attention (with a left window) takes `q`: half precision on the GPU, head
// sizes its kernels are built for. It needs compute capability 8.0, below the sm_90 this project
// builds its own kernels for (CMakeLists.txt).
bool FlashAttentionRuns(const at::Tensor& q) {
  const int64_t hd = q.size(-1);
  return q.is_cuda() && (q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf) &&
         hd % 8 == 0 && hd <= 256;
}

// The window over a fresh stream's first chunk: a band of the chunk itself (key j visible to
// query t iff t - window <= j <= t), which flash attention computes in [B, T, H, hd] layout
// without materialising a mask, forward and backward, with multi-query heads as they are. Its
// backward adds query gradients with atomics (flash-attn's key-parallel path; ATen takes the
// deterministic one only under at::globalContext().deterministicAlgorithms()), so the last bits
// of a training step's gradients may vary from run to run, as the fused global attention's did.
at::Tensor BandAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         int64_t window, double scale) {
  const int64_t T = q.size(1);
  const at::Tensor out = std::get<0>(at::_flash_attention_forward(
      q, k, v, std::nullopt, std::nullopt, T, T, /*dropout_p=*/0.0, /*is_causal=*/true,
      /*return_debug_mask=*/false, scale, /*window_size_left=*/window, /*window_size_right=*/0));
  return out.flatten(2);
}

// Local attention over the ring plus the chunk: attend first, then write the chunk into the ring
// (writing first would overwrite slots this chunk's early queries still need).
at::Tensor LocalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const at::Tensor& positions, const at::Tensor& docs, int64_t window,
                          AttentionCache& cache, const at::Tensor& start, bool fresh,
                          double scale) {
  const int64_t T = q.size(1);
  if (fresh && T > 0 && FlashAttentionRuns(q)) {
    const at::Tensor out = BandAttention(q, k, v, window, scale);
    cache.Write(k, v, positions, docs, start);
    return out;
  }
  std::vector<at::Tensor> outs;
  for (int64_t s = 0; s < T; s += kQueryBlock) {
    const int64_t e = std::min(T, s + kQueryBlock);
    const int64_t ks = std::max<int64_t>(0, s - window);
    at::Tensor keys = k.narrow(1, ks, e - ks), vals = v.narrow(1, ks, e - ks);
    at::Tensor kpos = positions.narrow(1, ks, e - ks), kdoc = docs.narrow(1, ks, e - ks);
    if (s < window) {  // these queries may need tokens from before the chunk: the ring has them
      keys = at::cat({cache.keys(), keys}, 1);
      vals = at::cat({cache.values(), vals}, 1);
      kpos = at::cat({cache.positions(), kpos}, 1);
      kdoc = at::cat({cache.docs(), kdoc}, 1);
    }
    const at::Tensor qpos = positions.narrow(1, s, e - s).unsqueeze(2);  // [B, Tq, 1]
    const at::Tensor qdoc = docs.narrow(1, s, e - s).unsqueeze(2);
    const at::Tensor kp = kpos.unsqueeze(1), kd = kdoc.unsqueeze(1);  // [B, 1, S]
    const at::Tensor visible =
        kd.eq(qdoc).logical_and(kp.le(qpos)).logical_and((qpos - kp).le(window));
    outs.push_back(AttendMasked(q.narrow(1, s, e - s), keys, vals, visible, scale));
  }
  cache.Write(k, v, positions, docs, start);
  return at::cat(outs, 1);
}

// Global attention: append the chunk to the growing cache, then attend over everything held
// (with fixed shapes: over every reserved slot, the unwritten ones masked by their document -1).
at::Tensor GlobalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const at::Tensor& positions, const at::Tensor& docs,
                           AttentionCache& cache, const at::Tensor& start, bool simple_stream,
                           double scale) {
  const int64_t T = q.size(1);
  cache.Write(k, v, positions, docs, start);
  const int64_t before = cache.held() - T;
  const at::Tensor keys = cache.keys(), vals = cache.values();
  const bool causal_only = simple_stream && !cache.fixed();
  if (causal_only && T == 1) return FusedAttention(q, keys, vals, std::nullopt, false, scale);
  if (causal_only && before == 0 && q.is_cuda()) {
    return FusedAttention(q, keys, vals, std::nullopt, /*causal=*/true, scale);  // O(T) memory
  }
  std::vector<at::Tensor> outs;
  for (int64_t s = 0; s < T; s += kQueryBlock) {
    const int64_t e = std::min(T, s + kQueryBlock);
    // Later keys are invisible to every query of this block.
    const int64_t S = cache.fixed() ? cache.slots() : before + e;
    at::Tensor visible;
    if (causal_only) {  // causal with the cached prefix: key j visible to query t iff j <= before +
                        // t
      const at::Tensor qi = at::arange(before + s, before + e, positions.options()).unsqueeze(1);
      visible = at::arange(S, positions.options())
                    .unsqueeze(0)
                    .le(qi)
                    .unsqueeze(0)
                    .expand({q.size(0), e - s, S});
    } else {
      const at::Tensor qpos = positions.narrow(1, s, e - s).unsqueeze(2);
      const at::Tensor qdoc = docs.narrow(1, s, e - s).unsqueeze(2);
      visible = cache.docs().narrow(1, 0, S).unsqueeze(1).eq(qdoc).logical_and(
          cache.positions().narrow(1, 0, S).unsqueeze(1).le(qpos));
    }
    outs.push_back(FusedAttention(q.narrow(1, s, e - s), keys.narrow(1, 0, S), vals.narrow(1, 0, S),
                                  visible, false, scale));
  }
  return at::cat(outs, 1);
}

at::Tensor DecodeAttentionReference(const DecodeAttentionTensors& t) {
  const int64_t B = t.keys.size(0), S = t.keys.size(1), KV = t.keys.size(2), hd = t.keys.size(3);
  const int64_t H = t.heads;
  const at::Tensor q =
      ApplyRope(t.qkv.narrow(2, 0, H * hd).view({B, 1, H, hd}), t.positions, t.inv_freq);
  const at::Tensor k =
      ApplyRope(t.qkv.narrow(2, H * hd, KV * hd).view({B, 1, KV, hd}), t.positions, t.inv_freq);
  const at::Tensor v = t.qkv.narrow(2, (H + KV) * hd, KV * hd).reshape({B, 1, KV, hd});
  const int64_t start = t.start.item<int64_t>();
  const int64_t used = t.window > 0 ? S : std::min(start, S);
  const at::Tensor kpos = at::cat({t.key_pos.narrow(1, 0, used), t.positions}, 1).unsqueeze(1);
  const at::Tensor kdoc = at::cat({t.key_docs.narrow(1, 0, used), t.docs}, 1).unsqueeze(1);
  const at::Tensor qpos = t.positions.unsqueeze(2), qdoc = t.docs.unsqueeze(2);  // [B, 1, 1]
  at::Tensor visible = kdoc.eq(qdoc).logical_and(kpos.le(qpos));
  if (t.window > 0) visible = visible.logical_and((qpos - kpos).le(t.window));
  const at::Tensor out =
      AttendMasked(q, at::cat({t.keys.narrow(1, 0, used), k}, 1),
                   at::cat({t.values.narrow(1, 0, used), v}, 1), visible, t.scale);
  const int64_t slot = t.window > 0 ? start % t.window : start;
  TORCH_CHECK(slot < S, "decode attention: the token's slot ", slot, " is past the cache's ", S);
  t.keys.select(1, slot).copy_(k.select(1, 0));
  t.values.select(1, slot).copy_(v.select(1, 0));
  t.key_pos.select(1, slot).copy_(t.positions.select(1, 0));
  t.key_docs.select(1, slot).copy_(t.docs.select(1, 0));
  return out;
}

}  // namespace

at::Tensor DecodeAttention(const DecodeAttentionTensors& t, OpImpl impl) {
  CheckDecodeAttentionTensors(t);
  return CallImpl(impl, "decode attention", &DecodeAttentionReference,
                  GRIFFIN_CUDA_OP(detail::DecodeAttentionCuda), t);
}

at::Tensor AttendMasked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const at::Tensor& visible, double scale) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3);
  const int64_t S = k.size(1), KV = k.size(2), G = H / KV;
  // Head h = kv * G + g reads KV head kv: fold the G query heads of a group into rows.
  const at::Tensor qg =
      q.reshape({B, T, KV, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, KV, T * G, hd});
  const at::Tensor logits =
      at::matmul(qg, k.permute({0, 2, 3, 1})).to(at::kFloat).mul_(scale).view({B, KV, T, G, S});
  logits.masked_fill_(visible.view({B, 1, T, 1, S}).logical_not(), kMaskValue);
  const at::Tensor probs = at::softmax(logits, -1).to(q.scalar_type()).view({B, KV, T * G, S});
  const at::Tensor out = at::matmul(probs, v.permute({0, 2, 1, 3}));  // [B, KV, T*G, hd]
  return out.view({B, KV, T, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, T, H * hd});
}

at::Tensor AttentionBlock(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& docs,
                          const AttentionWeights& w, const ModelConfig& c, AttentionCache& cache,
                          const at::Tensor& start, StreamShape stream, const at::Tensor& inv_freq) {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = c.num_heads, KV = c.num_kv_heads, hd = c.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const at::Tensor freq =
      inv_freq.defined() ? inv_freq
                         : RopeInverseFrequencies(hd, c.rope_fraction, c.rope_base, x.device());
  // The kernels write the cache in place: its buffers must be whole (after an out-of-memory
  // rollback they are narrowed views, and the ATen path below serves them).
  const AttentionCache::Buffers whole = cache.buffers();
  const bool contiguous = whole.keys.is_contiguous() && whole.values.is_contiguous() &&
                          whole.positions.is_contiguous() && whole.docs.is_contiguous();
  if (T == 1 && hd <= kDecodeAttentionMaxHeadDim && contiguous && InferenceKernelsRun(x)) {
    const at::Tensor qkv =
        w.qkv_w.defined() ? Linear(x, w.qkv_w, at::Tensor())
                          : at::cat({Linear(x, w.q_w, at::Tensor()), Linear(x, w.k_w, at::Tensor()),
                                     Linear(x, w.v_w, at::Tensor())},
                                    -1);
    cache.MakeRoom(1);
    const AttentionCache::Buffers buf = cache.buffers();
    const at::Tensor out =
        DecodeAttention({qkv, positions, docs, start, freq, buf.keys, buf.values, buf.positions,
                         buf.docs, H, cache.local() ? c.attention_window : 0, scale},
                        OpImpl::kCuda);
    cache.CountWritten(1);
    return Linear(out, w.o_w, w.o_b);
  }
  const at::Tensor q = ApplyRope(at::linear(x, w.q_w).view({B, T, H, hd}), positions, freq);
  const at::Tensor k = ApplyRope(at::linear(x, w.k_w).view({B, T, KV, hd}), positions, freq);
  const at::Tensor v = at::linear(x, w.v_w).view({B, T, KV, hd});
  const at::Tensor out =
      cache.local() ? LocalAttention(q, k, v, positions, docs, c.attention_window, cache, start,
                                     stream.fresh, scale)
                    : GlobalAttention(q, k, v, positions, docs, cache, start, stream.simple, scale);
  return Linear(out, w.o_w, w.o_b);
}

}  // namespace griffin
