#include "core/model/griffin_state.h"

#include <ATen/ATen.h>

namespace griffin {

GriffinState::GriffinState(const ModelConfig& c, int64_t batch, c10::Device device,
                           c10::ScalarType dtype)
    : DecodeState(batch) {
  const auto opts = at::TensorOptions(device);
  for (BlockType b : c.blocks) {
    if (b == BlockType::kRecurrent) {
      recurrent.push_back({at::zeros({batch, c.lru_width}, opts.dtype(at::kFloat)),
                           at::zeros({batch, c.conv_width - 1, c.lru_width}, opts.dtype(dtype)),
                           at::full({batch, c.conv_width - 1}, -1, opts.dtype(at::kLong))});
    } else {
      TORCH_CHECK(c.attention_window > 0, "model '", c.name,
                  "': Griffin attention blocks need a local window (attention_window > 0)");
      const int64_t w = c.attention_window;
      attention.push_back({at::zeros({batch, w, c.num_kv_heads, c.head_dim}, opts.dtype(dtype)),
                           at::zeros({batch, w, c.num_kv_heads, c.head_dim}, opts.dtype(dtype)),
                           at::full({batch, w}, -1, opts.dtype(at::kLong)),
                           at::full({batch, w}, -1, opts.dtype(at::kLong))});
    }
  }
  docs_started = at::zeros({batch}, opts.dtype(at::kLong));
}

int64_t GriffinState::Bytes() const {
  int64_t n = docs_started.nbytes();
  for (const RecurrentState& r : recurrent) n += r.rnn.nbytes() + r.conv.nbytes() + r.conv_pos.nbytes();
  for (const AttentionState& a : attention) {
    n += a.keys.nbytes() + a.values.nbytes() + a.slot_pos.nbytes() + a.slot_doc.nbytes();
  }
  return n;
}

int64_t GriffinStateBytes(const ModelConfig& c, int64_t batch, c10::ScalarType dtype) {
  const int64_t e = c10::elementSize(dtype);
  int64_t n = batch * 8;  // docs_started
  for (BlockType b : c.blocks) {
    if (b == BlockType::kRecurrent) {
      n += batch * c.lru_width * 4 + batch * (c.conv_width - 1) * (c.lru_width * e + 8);
    } else {
      n += batch * c.attention_window * (2 * c.num_kv_heads * c.head_dim * e + 16);
    }
  }
  return n;
}

}  // namespace griffin
