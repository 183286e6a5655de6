// The one model interface both families implement (docs/DESIGN.md section 1): make an empty decode
// state for a batch, run a chunk of tokens (prefill: many; decode: one) at given positions through
// it and get logits, and report the state's bytes.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <string>

#include "core/kernels/op_impl.h"
#include "core/model/config.h"

namespace griffin {

// Called with a stable name ("embed", "layers.3.temporal_out", "final_norm", ...) and the
// activation at that point, so a user can dump and diff layers against a Python reference.
using ActivationHook = std::function<void(const std::string& name, const at::Tensor& value)>;

class DecodeState {
 public:
  virtual ~DecodeState() = default;
  int64_t batch() const { return batch_; }
  // Tokens (pads included) that went through this state so far.
  int64_t tokens_seen() const { return tokens_seen_; }
  // Bytes of the tokens the state holds: its fixed tensors and the cache slots in use, counted
  // from their shapes (the number AnalyticStateSize predicts).
  virtual int64_t Bytes() const = 0;
  // Bytes allocated, including a growing cache's room not yet filled, from the shapes too.
  virtual int64_t ReservedBytes() const { return Bytes(); }
  // Measured, not counted: the bytes of the distinct storages the state's tensors live in (each
  // storage once, whatever views of it the state keeps), so a buffer larger than its shapes say,
  // or one the shapes miss, shows here and not in Bytes().
  virtual int64_t StorageBytes() const = 0;

  // For decode steps captured once in a CUDA graph and replayed: FixShapes gives every growing
  // buffer room for `more_tokens` now and fixes the shapes a one-token step sees (state updates
  // are in place, so replays read and write the same buffers); UnfixShapes ends that.
  // Replays run no host code: AdvanceReplayed moves the host-side counters for them.
  virtual void FixShapes(int64_t more_tokens) = 0;
  virtual void UnfixShapes() = 0;
  virtual void AdvanceReplayed(int64_t tokens) = 0;

 protected:
  explicit DecodeState(int64_t batch) : batch_(batch) {}
  int64_t batch_;
  int64_t tokens_seen_ = 0;
  friend class Model;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual const ModelConfig& config() const = 0;
  virtual c10::Device device() const = 0;
  virtual std::unique_ptr<DecodeState> NewState(int64_t batch) const = 0;
  // tokens, positions: int64 [batch, T]. positions are positions within the document: 0 marks a
  // document start (the state resets there), -1 marks left padding. Returns float32 logits
  // [batch, T, vocab] (or [batch, 1, vocab] for the last token only, which is all a prefill
  // before sampling needs: at 8k tokens the full logits are 8 GB) and advances the state.
  // Page-locked (pinned) host tensors upload asynchronously: leave them unchanged after the call.
  virtual at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                             DecodeState& state, const ActivationHook* hook = nullptr,
                             bool last_logits_only = false) const = 0;
  virtual int64_t WeightBytes() const = 0;
};

struct LoadOptions {
  c10::Device device = c10::Device(c10::kCPU);
  // Absent: the checkpoint's own dtype (presets: float32).
  std::optional<DType> dtype;
  uint64_t seed = 0;  // random weights of `preset:NAME`
  OpChoice ops;
};

// `spec` is a checkpoint folder or `preset:NAME` (random weights for that preset).
std::unique_ptr<LanguageModel> LoadModel(const std::string& spec, const LoadOptions& options);

}  // namespace griffin
