// End-to-end speed of a model (what `griffin bench` reports, llama-bench style): prefill time for
// prompt lengths, then decode time per token at that depth, with device memory. Raw samples are
// kept; medians and p90 are derived from them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/language_model.h"
#include "core/runtime/latency_stats.h"

namespace griffin {

struct SpeedOptions {
  std::vector<int64_t> prompt_tokens = {512};
  std::vector<int64_t> batches = {1};
  int64_t decode_tokens = 128;
  int repeats = 3;  // prefills timed per point; decoding continues from the last one
  int warmup = 1;
  uint64_t seed = 0;  // random prompt ids
  // Prefill in pieces of at most this many tokens through the state (0: the whole prompt in one
  // call). Long contexts (1M tokens) need it: one call would materialise activations for all.
  int64_t prefill_chunk = 0;
  // Decode steps as a CUDA graph replayed per token (DeviceGreedyDecoder) instead of eager
  // launches from the host. Ignored off CUDA (the same fixed-shape step then runs eagerly).
  bool decode_graph = false;
};

// Untimed decode steps a graph decode takes before the timed ones: the decoder's two eager
// warm-up steps and the capture. They are real tokens, so the state holds them too.
inline constexpr int64_t kGraphDecodeSetupSteps = 3;

// Tokens a state holds after a point of `prompt` tokens: the prompt and every decode step.
inline int64_t TokensHeldAfterDecode(const SpeedOptions& o, int64_t prompt) {
  return prompt + o.decode_tokens + (o.decode_graph ? kGraphDecodeSetupSteps : 0);
}

struct SpeedPoint {
  int64_t batch = 0, prompt_tokens = 0;
  std::vector<double> prefill_seconds;      // one per repeat
  std::vector<double> decode_step_seconds;  // one per decoded token (all rows advance one token)
  // DecodeState::Bytes (the slots in use, from shapes) and ReservedBytes.
  int64_t state_bytes_after_prefill = 0, state_bytes_after_decode = 0;
  int64_t state_reserved_after_decode = 0;
  // DecodeState::StorageBytes (measured: the storages the state's tensors live in).
  int64_t state_storage_before_decode = 0, state_storage_after_decode = 0;
  // The allocator's allocated bytes just before the decode (GPU): with allocated_after_decode,
  // the growth across the decode, all buffers counted, which should be the state's growth.
  int64_t allocated_before_decode_bytes = 0;
  int64_t peak_prefill_bytes = 0, peak_decode_bytes = 0;  // allocator peaks (GPU), weights included
  int64_t allocated_after_decode_bytes = 0;  // allocator's allocated bytes after decode (GPU)
  int64_t weight_bytes = 0;
  bool decode_graphed = false;  // the timed decode steps were CUDA graph replays
};

// Called before each measurement with a short description, for progress reporting.
using SpeedProgress = std::function<void(const std::string&)>;

std::vector<SpeedPoint> MeasureSpeed(const LanguageModel& model, const SpeedOptions& options,
                                     const SpeedProgress& progress = nullptr);

}  // namespace griffin
