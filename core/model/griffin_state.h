// Griffin's decode state: fixed-size whatever the number of tokens processed. Per recurrent block
// the RG-LRU state (fp32) and the conv tail; per attention block a ring buffer of exactly
// `attention_window` keys/values with the position and document of each slot.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model/config.h"
#include "core/model/language_model.h"

namespace griffin {

struct RecurrentState {
  at::Tensor rnn;       // [B, L] float32
  at::Tensor conv;      // [B, W-1, L] model dtype: the last W-1 inputs of the conv (pre-conv)
  at::Tensor conv_pos;  // [B, W-1] int64: their positions (0 = document start)
};

struct AttentionState {
  at::Tensor keys, values;  // [B, window, KV, hd] model dtype; keys stored after RoPE
  at::Tensor slot_pos;      // [B, window] int64: position of the token in each slot
  at::Tensor slot_doc;      // [B, window] int64: its document index; -1 = never written
};

class GriffinState : public DecodeState {
 public:
  GriffinState(const ModelConfig& config, int64_t batch, c10::Device device, c10::ScalarType dtype);
  int64_t Bytes() const override;

  std::vector<RecurrentState> recurrent;   // one per recurrent block, in order
  std::vector<AttentionState> attention;   // one per attention block, in order
  at::Tensor docs_started;                 // [B] int64: document starts seen so far

  void Advance(int64_t tokens) { tokens_seen_ += tokens; }
};

// Bytes a GriffinState holds for this config and batch (independent of tokens processed).
int64_t GriffinStateBytes(const ModelConfig& config, int64_t batch, c10::ScalarType dtype);

}  // namespace griffin
