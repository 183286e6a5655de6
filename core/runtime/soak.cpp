#include "core/runtime/soak.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/model/positions.h"
#include "core/runtime/device_timer.h"
#include "core/runtime/latency_stats.h"
#include "core/runtime/out_of_memory.h"

namespace griffin {
namespace {

void CheckOptions(const SoakOptions& o) {
  const auto positive = [](const char* name, int64_t v) {
    if (v <= 0)
      throw std::invalid_argument(fmt::format("soak: {} must be positive, got {}", name, v));
  };
  positive("tokens", o.tokens);
  positive("chunk", o.chunk);
  positive("batch", o.batch);
  if (o.decode_probe < 0) {
    throw std::invalid_argument(
        fmt::format("soak: decode_probe must be 0 or more, got {}", o.decode_probe));
  }
}

}  // namespace

SoakResult RunSoak(const LanguageModel& model, const SoakOptions& o, const SoakRowDone& row_done,
                   SoakForward forward) {
  CheckOptions(o);
  const at::InferenceMode inference;
  if (!forward) {
    forward = [&model](const at::Tensor& ids, const at::Tensor& positions, DecodeState& state) {
      return model.Forward(ids, positions, state, nullptr, /*last_only=*/true);
    };
  }
  const c10::Device device = model.device();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  DeviceTimer timer(device);
  SoakResult result;
  int64_t depth = 0;
  try {
    const std::unique_ptr<DecodeState> state = model.NewState(o.batch);
    while (depth < o.tokens) {
      SoakRow row;
      const int64_t chunk = std::min(o.chunk, o.tokens - depth);
      const at::Tensor ids = at::randint(1, model.config().vocab_size, {o.batch, chunk}, gen);
      SynchronizeDevice(device);
      ResetPeakDeviceMemory(device);
      timer.Start();
      at::Tensor logits = forward(ids, PositionRows(o.batch, depth, chunk), *state);
      timer.Stop();
      row.chunk_seconds = timer.Seconds();
      row.chunk_tokens = chunk;
      depth += chunk;
      // Greedy steps from the chunk's last logits, each timed alone: the decode latency at this
      // depth. They are tokens of the stream like any other.
      const int64_t probe = std::min(o.decode_probe, o.tokens - depth);
      std::vector<double> steps;
      at::Tensor next = logits.select(1, -1).argmax(-1, true);
      logits = at::Tensor();
      for (int64_t k = 0; k < probe; ++k) {
        timer.Start();
        next = model.Forward(next, PositionRows(o.batch, depth, 1), *state)
                   .select(1, -1)
                   .argmax(-1, true);
        timer.Stop();
        steps.push_back(timer.Seconds());
        ++depth;
      }
      if (!steps.empty()) row.decode_seconds = Quantile(steps, 0.5);
      row.depth = depth;
      const DeviceMemory memory = ReadDeviceMemory(device);
      row.allocated_bytes = memory.allocated;
      row.reserved_bytes = memory.reserved;
      row.peak_bytes = memory.peak;
      row.state_bytes = state->Bytes();
      row.state_reserved_bytes = state->ReservedBytes();
      result.rows.push_back(row);
      if (row_done) row_done(row);
    }
  } catch (const c10::Error& e) {
    const std::optional<OutOfMemory> oom = AsOutOfMemory(e);
    if (!oom) throw;
    result.stopped = fmt::format(
        "out of memory at depth {} with {} rows a step{}; {} chunks measured: {}", depth, o.batch,
        oom->asked.empty() ? "" : " (" + oom->asked + " asked)", result.rows.size(), oom->detail);
  }
  return result;
}

}  // namespace griffin
