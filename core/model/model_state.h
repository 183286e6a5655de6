// The decode state of either family, one entry per block: for a recurrent block the RG-LRU state
// (fp32) and the conv tail; for an attention block its AttentionCache (a ring of `window` slots
// for local attention, a chunk-grown buffer for global attention). Griffin's state is therefore
// fixed-size; a Transformer's grows with the context.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model/attention_cache.h"
#include "core/model/config.h"
#include "core/model/language_model.h"

namespace griffin {

struct RecurrentState {
  at::Tensor rnn;       // [B, L] float32
  at::Tensor conv;      // [B, W-1, L] model dtype: the last W-1 inputs of the conv (pre-conv)
  at::Tensor conv_pos;  // [B, W-1] int64: their positions (0 = document start)
};

class ModelState : public DecodeState {
 public:
  ModelState(const ModelConfig& config, int64_t batch, c10::Device device, c10::ScalarType dtype);
  int64_t Bytes() const override;
  int64_t ReservedBytes() const override;
  int64_t StorageBytes() const override;

  std::vector<RecurrentState> recurrent;  // one per recurrent block, in order
  std::vector<AttentionCache> attention;  // one per attention block, in order
  at::Tensor docs_started;                // [B] int64: document starts seen so far
  // [1] int64: tokens_seen() kept on the device, where the attention caches' slots are computed
  // (a captured decode step must not bake the host's count into the graph).
  at::Tensor tokens_written;
  // Every token so far is one unpadded document starting at position 0 (plain causal masks).
  bool simple_stream = true;

  void Advance(int64_t tokens) { tokens_seen_ += tokens; }
  void FixShapes(int64_t more_tokens) override;
  void UnfixShapes() override;
  void AdvanceReplayed(int64_t tokens) override;
};

// Writes `value` into the state tensor `state`: in place, so a decode step captured in a CUDA
// graph replays into the buffers it saw, except while autograd records (training), where in
// place would overwrite a tensor an op saved for backward (the RG-LRU saves its h0); there the
// state is rebound to a copy (never a view: it would keep a whole prefill buffer alive).
void UpdateState(at::Tensor& state, const at::Tensor& value);

// The bytes of the distinct storages `tensors` live in, each storage counted once, all of it
// (a view of a larger buffer counts the whole buffer).
int64_t DistinctStorageBytes(const std::vector<at::Tensor>& tensors);

// Bytes a state holds for `config` after `tokens` tokens of context (the analytic counterpart of
// ModelState::Bytes; Griffin's does not depend on `tokens` once local windows are full).
struct StateSize {
  int64_t recurrent = 0;    // RG-LRU states and conv tails
  int64_t attention = 0;    // keys and values
  int64_t bookkeeping = 0;  // positions and documents of cached tokens, document counters
  int64_t total() const { return recurrent + attention + bookkeeping; }
};
StateSize AnalyticStateSize(const ModelConfig& config, int64_t batch, int64_t tokens,
                            c10::ScalarType dtype);

}  // namespace griffin
