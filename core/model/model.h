// The model of both families (docs/MODEL.md section 1): a stack of residual blocks,
// each RMSNorm -> temporal block (RG-LRU recurrence or attention) -> add, RMSNorm -> GeGLU MLP ->
// add; final norm, tied logits, optional soft-cap. RecurrentGemma is the (R, R, A) pattern with
// local attention; Gemma-1 is all global attention; the ablations are the configs in between.
#pragma once

#include "core/model/language_model.h"
#include "core/model/model_state.h"
#include "core/model/weights.h"

namespace griffin {

class Model : public LanguageModel {
 public:
  Model(ModelConfig config, ModelWeights weights, c10::Device device, OpChoice ops);

  const ModelConfig& config() const override { return config_; }
  c10::Device device() const override { return device_; }
  std::unique_ptr<DecodeState> NewState(int64_t batch) const override;
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions, DecodeState& state,
                     const ActivationHook* hook = nullptr,
                     bool last_logits_only = false) const override;
  // Logits only at `rows` of the flattened [batch * T] positions: float32 [n, vocab]. Training on
  // a recall task scores a few query positions per sequence, and the full float32 logits (2 GiB
  // at 256 x 256 tokens and vocabulary 8192) would be most of a step's memory traffic.
  at::Tensor ForwardRows(const at::Tensor& tokens, const at::Tensor& positions, DecodeState& state,
                         const at::Tensor& rows) const;
  // The mean cross-entropy of those rows' logits against `targets` (int64 [n], on the model's
  // device): the training loss, with no float32 logits in memory on a GPU (OutputLoss).
  at::Tensor LossRows(const at::Tensor& tokens, const at::Tensor& positions, DecodeState& state,
                      const at::Tensor& rows, const at::Tensor& targets) const;
  int64_t WeightBytes() const override { return weights_.Bytes(); }
  const ModelWeights& weights() const { return weights_; }

 private:
  // Embedding and residual blocks (advances the state): the last hidden state [batch, T, width].
  at::Tensor Trunk(const at::Tensor& tokens, const at::Tensor& positions, DecodeState& state,
                   const ActivationHook* hook) const;
  // The final hidden states at `rows` of the flattened [batch * T] positions, normed.
  at::Tensor NormedRows(const at::Tensor& tokens, const at::Tensor& positions, DecodeState& state,
                        const at::Tensor& rows) const;
  // Final norm and tied logits (soft-capped) of hidden states [..., width].
  at::Tensor Head(const at::Tensor& x, const ActivationHook* hook) const;
  at::Tensor RecurrentBlock(const at::Tensor& x, const at::Tensor& positions,
                            const RecurrentWeights& w, RecurrentState& state) const;

  ModelConfig config_;
  ModelWeights weights_;
  c10::Device device_;
  OpChoice ops_;
  at::Tensor rope_inv_freq_;  // RoPE's inverse frequencies on a GPU (every attention block's)
};

// Shape and dtype checks every Forward makes on its inputs (names the argument).
void CheckForwardInputs(const at::Tensor& tokens, const at::Tensor& positions,
                        const DecodeState& state);

}  // namespace griffin
