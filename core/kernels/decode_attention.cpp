// Argument checks of one token's attention (its reference, the ATen composition over the same
// buffers, is core/model/attention.cpp, next to the cache it reads).
#include "core/kernels/decode_attention.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckDecodeAttentionTensors(const DecodeAttentionTensors& t) {
  TORCH_CHECK(t.keys.dim() == 4,
              "decode attention: keys must be [batch, slots, kv_heads, "
              "head_dim], got ",
              t.keys.sizes());
  const int64_t B = t.keys.size(0), S = t.keys.size(1), KV = t.keys.size(2), hd = t.keys.size(3);
  const at::ScalarType dt = t.keys.scalar_type();
  TORCH_CHECK(dt == at::kFloat || dt == at::kBFloat16,
              "decode attention: the cache must be float32 or bfloat16, got ", dt);
  TORCH_CHECK(hd >= 1 && hd <= kDecodeAttentionMaxHeadDim,
              "decode attention: head_dim must be in [1, ", kDecodeAttentionMaxHeadDim, "], got ",
              hd);
  TORCH_CHECK(KV >= 1 && t.heads >= KV && t.heads % KV == 0, "decode attention: ", t.heads,
              " query heads do not share ", KV, " key heads evenly");
  // The split kernel's grid has a block row per (batch row, key head): CUDA's second grid
  // dimension holds 65535.
  TORCH_CHECK(B * KV <= 65535, "decode attention: batch ", B, " x ", KV,
              " key heads is more than the 65535 block rows a launch takes");
  TORCH_CHECK(t.window >= 0 && (t.window == 0 || t.window == S), "decode attention: a ring of ", S,
              " slots needs window ", S, ", got ", t.window);
  TORCH_CHECK(t.qkv.sizes() == at::IntArrayRef({B, 1, (t.heads + 2 * KV) * hd}) &&
                  t.qkv.scalar_type() == dt,
              "decode attention: qkv must be ", dt, " [", B, ", 1, ", (t.heads + 2 * KV) * hd,
              "], got ", t.qkv.scalar_type(), " ", t.qkv.sizes());
  TORCH_CHECK(t.values.sizes() == t.keys.sizes() && t.values.scalar_type() == dt,
              "decode attention: values must be like keys ", t.keys.sizes(), ", got ",
              t.values.sizes());
  for (const auto& [name, x, shape] :
       {std::tuple<const char*, const at::Tensor&, std::vector<int64_t>>{
            "positions", t.positions, {B, 1}},
        {"docs", t.docs, {B, 1}},
        {"start", t.start, {1}},
        {"key_pos", t.key_pos, {B, S}},
        {"key_docs", t.key_docs, {B, S}}}) {
    TORCH_CHECK(x.sizes() == at::IntArrayRef(shape) && x.scalar_type() == at::kLong,
                "decode attention: ", name, " must be int64 ", at::IntArrayRef(shape), ", got ",
                x.scalar_type(), " ", x.sizes());
  }
  TORCH_CHECK(t.inv_freq.dim() == 1 && 2 * t.inv_freq.size(0) <= hd &&
                  t.inv_freq.scalar_type() == at::kFloat,
              "decode attention: inv_freq must be float32 [at most ", hd / 2, "], got ",
              t.inv_freq.scalar_type(), " ", t.inv_freq.sizes());
  for (const auto& [name, x] : {std::pair<const char*, const at::Tensor&>{"keys", t.keys},
                                {"values", t.values},
                                {"key_pos", t.key_pos},
                                {"key_docs", t.key_docs}}) {
    TORCH_CHECK(x.is_contiguous(), "decode attention: ", name,
                " must be contiguous (the token is written into it in place)");
  }
  for (const at::Tensor* x :
       {&t.qkv, &t.positions, &t.docs, &t.start, &t.inv_freq, &t.values, &t.key_pos, &t.key_docs}) {
    TORCH_CHECK(x->device() == t.keys.device(), "decode attention: every tensor must be on ",
                t.keys.device(), ", one is on ", x->device());
  }
}

}  // namespace griffin
