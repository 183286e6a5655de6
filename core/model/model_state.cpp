#include "core/model/model_state.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <unordered_set>

namespace griffin {

ModelState::ModelState(const ModelConfig& c, int64_t batch, c10::Device device,
                       c10::ScalarType dtype)
    : DecodeState(batch) {
  const auto opts = at::TensorOptions(device);
  for (BlockType b : c.blocks) {
    if (b == BlockType::kRecurrent) {
      recurrent.push_back({at::zeros({batch, c.lru_width}, opts.dtype(at::kFloat)),
                           at::zeros({batch, c.conv_width - 1, c.lru_width}, opts.dtype(dtype)),
                           at::full({batch, c.conv_width - 1}, -1, opts.dtype(at::kLong))});
    } else {
      attention.emplace_back(batch, c.num_kv_heads, c.head_dim, c.attention_window, dtype, device);
    }
  }
  docs_started = at::zeros({batch}, opts.dtype(at::kLong));
  tokens_written = at::zeros({1}, opts.dtype(at::kLong));
}

void UpdateState(at::Tensor& state, const at::Tensor& value) {
  if (c10::GradMode::is_enabled()) {
    state = value.clone();
  } else {
    state.copy_(value);
  }
}

void ModelState::FixShapes(int64_t more_tokens) {
  for (AttentionCache& a : attention) a.FixShape(more_tokens);
}

void ModelState::UnfixShapes() {
  for (AttentionCache& a : attention) a.UnfixShape();
}

void ModelState::AdvanceReplayed(int64_t tokens) {
  for (AttentionCache& a : attention) a.CountWritten(tokens);
  Advance(tokens);
}

int64_t ModelState::Bytes() const {
  int64_t n = docs_started.nbytes() + tokens_written.nbytes();
  for (const RecurrentState& r : recurrent)
    n += r.rnn.nbytes() + r.conv.nbytes() + r.conv_pos.nbytes();
  for (const AttentionCache& a : attention) n += a.HeldBytes();
  return n;
}

int64_t DistinctStorageBytes(const std::vector<at::Tensor>& tensors) {
  std::unordered_set<const c10::StorageImpl*> seen;
  int64_t n = 0;
  for (const at::Tensor& t : tensors) {
    if (!t.defined() || !t.has_storage()) continue;
    const c10::StorageImpl* storage = t.storage().unsafeGetStorageImpl();
    if (seen.insert(storage).second) n += static_cast<int64_t>(storage->nbytes());
  }
  return n;
}

int64_t ModelState::StorageBytes() const {
  std::vector<at::Tensor> tensors = {docs_started, tokens_written};
  for (const RecurrentState& r : recurrent)
    tensors.insert(tensors.end(), {r.rnn, r.conv, r.conv_pos});
  for (const AttentionCache& a : attention) {
    const AttentionCache::Buffers b = a.buffers();
    tensors.insert(tensors.end(), {b.keys, b.values, b.positions, b.docs});
  }
  return DistinctStorageBytes(tensors);
}

int64_t ModelState::ReservedBytes() const {
  int64_t n = Bytes();
  for (const AttentionCache& a : attention) n += a.ReservedBytes() - a.HeldBytes();
  return n;
}

StateSize AnalyticStateSize(const ModelConfig& c, int64_t batch, int64_t tokens,
                            c10::ScalarType dtype) {
  const int64_t e = static_cast<int64_t>(c10::elementSize(dtype));
  StateSize s;
  s.bookkeeping = batch * 8 + 8;  // docs_started, tokens_written
  for (BlockType b : c.blocks) {
    if (b == BlockType::kRecurrent) {
      s.recurrent += batch * c.lru_width * 4 + batch * (c.conv_width - 1) * c.lru_width * e;
      s.bookkeeping += batch * (c.conv_width - 1) * 8;
    } else {
      const int64_t slots = c.attention_window > 0 ? c.attention_window : tokens;
      s.attention += batch * slots * 2 * c.num_kv_heads * c.head_dim * e;
      s.bookkeeping += batch * slots * 16;
    }
  }
  return s;
}

}  // namespace griffin
