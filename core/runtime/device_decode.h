// Greedy decoding that never waits for the host: each step feeds the current tokens, takes the
// argmax of the logits as the next tokens and advances the positions, all on the device. With
// `graph` on a CUDA device the step is captured once as a CUDA graph (after two eager warm-up
// steps) and every later step is one graph launch: the decode loop stops being bound by the
// host's kernel launches. Otherwise the same fixed-shape step runs eagerly (what the CPU tests
// compare against the ordinary decode).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

#include "core/model/language_model.h"

namespace griffin {

class CapturedStep;

class DeviceGreedyDecoder {
 public:
  // `first_tokens`, `positions`: int64 [batch, 1], the tokens the first step feeds and their
  // positions (copied to the model's device). Room for `max_steps` steps is reserved in the
  // state's growing caches now, and the state's shapes stay fixed until the decoder is gone.
  DeviceGreedyDecoder(const LanguageModel& model, DecodeState& state,
                      const at::Tensor& first_tokens, const at::Tensor& positions,
                      int64_t max_steps, bool graph);
  ~DeviceGreedyDecoder();
  DeviceGreedyDecoder(const DeviceGreedyDecoder&) = delete;
  DeviceGreedyDecoder& operator=(const DeviceGreedyDecoder&) = delete;

  void Step();
  // float32 [batch, 1, vocab] of the last step (a buffer the next step overwrites).
  const at::Tensor& logits() const { return logits_; }
  // int64 [batch, 1] on the device: what the next step feeds (the argmax of logits()).
  const at::Tensor& tokens() const { return tokens_; }
  int64_t steps() const { return steps_; }
  bool graphed() const;

 private:
  const LanguageModel& model_;
  DecodeState& state_;
  at::Tensor tokens_, positions_, logits_;
  int64_t max_steps_, steps_ = 0;
  std::function<void()> work_;              // one step: Forward, argmax, positions + 1
  std::unique_ptr<CapturedStep> captured_;  // set when the step runs as a CUDA graph
};

}  // namespace griffin
