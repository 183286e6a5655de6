// A long stream through one model's state (`griffin soak`): random tokens fed chunk by chunk, each
// chunk timed and followed by a few timed decode steps, device memory read after each; the shape
// of a serving process that runs for days. A state that grows where it should not, or a leak,
// shows as allocated or reserved bytes rising with depth. Where the device runs out of memory the
// stream stops there and every row measured so far is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/model/language_model.h"

namespace griffin {

struct SoakOptions {
  int64_t tokens = 1000000;  // tokens streamed into each row, the decode probes' included
  int64_t chunk = 8192;      // tokens per forward call through the state
  int64_t batch = 1;
  int64_t decode_probe = 8;  // greedy decode steps timed after each chunk (0: none)
  uint64_t seed = 0;         // random token ids
};

struct SoakRow {
  int64_t depth = 0;         // tokens the state holds after this chunk and its probe
  int64_t chunk_tokens = 0;  // tokens in this chunk (per row of the batch)
  double chunk_seconds = 0;
  // Median decode step of the probe (NaN without one): latency at this depth.
  double decode_seconds = std::numeric_limits<double>::quiet_NaN();
  // The device allocator after the chunk and its probe, and its peak during them (0 on the CPU).
  int64_t allocated_bytes = 0, reserved_bytes = 0, peak_bytes = 0;
  int64_t state_bytes = 0, state_reserved_bytes = 0;  // DecodeState::Bytes / ReservedBytes
};

struct SoakResult {
  std::vector<SoakRow> rows;
  // Empty when every token was streamed; otherwise why not. (A file `griffin soak` rewrites after
  // each chunk says "interrupted: ..." until the run ends.)
  std::string stopped;
};

// One chunk through the state, logits of its last position: the model's Forward; tests substitute
// their own (to fail at a chosen chunk).
using SoakForward =
    std::function<at::Tensor(const at::Tensor& ids, const at::Tensor& positions, DecodeState&)>;
// Called after every row, for progress and for writing what is measured so far.
using SoakRowDone = std::function<void(const SoakRow&)>;

// Streams options.tokens tokens through a new state of `model`. Running out of memory (the device
// allocator's, or the CPU's) ends the stream with SoakResult::stopped naming the depth and the
// allocation; other errors propagate. Checks the options (std::invalid_argument).
SoakResult RunSoak(const LanguageModel& model, const SoakOptions& options,
                   const SoakRowDone& row_done = nullptr, SoakForward forward = nullptr);

}  // namespace griffin
