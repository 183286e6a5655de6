#include "core/runtime/speed_bench.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "core/model/positions.h"
#include "core/runtime/device_decode.h"
#include "core/runtime/device_timer.h"

namespace griffin {

namespace {

// The prompt through the state in pieces of at most `chunk` tokens (0: one call); the logits of
// the last position.
at::Tensor Prefill(const LanguageModel& model, const at::Tensor& ids, const at::Tensor& pos,
                   DecodeState& state, int64_t chunk) {
  const int64_t T = ids.size(1);
  if (chunk <= 0 || chunk >= T) return model.Forward(ids, pos, state, nullptr, true);
  at::Tensor logits;
  for (int64_t start = 0; start < T; start += chunk) {
    const int64_t n = std::min(chunk, T - start);
    logits = model.Forward(ids.narrow(1, start, n), pos.narrow(1, start, n), state, nullptr, true);
  }
  return logits;
}

}  // namespace

std::vector<SpeedPoint> MeasureSpeed(const LanguageModel& model, const SpeedOptions& o,
                                     const SpeedProgress& progress) {
  const at::InferenceMode inference;
  const c10::Device device = model.device();
  const int64_t vocab = model.config().vocab_size;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  std::vector<SpeedPoint> points;
  for (int64_t batch : o.batches) {
    for (int64_t prompt : o.prompt_tokens) {
      SpeedPoint p;
      p.batch = batch;
      p.prompt_tokens = prompt;
      p.weight_bytes = model.WeightBytes();
      const at::Tensor ids = at::randint(1, vocab, {batch, prompt}, gen, at::kLong);
      const at::Tensor pos = PositionRows(batch, 0, prompt);
      DeviceTimer timer(device);
      for (int w = 0; w < o.warmup; ++w) {  // kernels loaded, allocator grown, cuBLAS plans made
        if (progress) progress(fmt::format("B={} prompt={}: warm-up", batch, prompt));
        auto state = model.NewState(batch);
        at::Tensor logits = Prefill(model, ids, pos, *state, o.prefill_chunk);
        for (int64_t t = 0; t < std::min<int64_t>(3, o.decode_tokens); ++t) {
          logits = model.Forward(logits.select(1, -1).argmax(-1, true),
                                 PositionRows(batch, prompt + t, 1), *state);
        }
        SynchronizeDevice(device);
      }
      std::unique_ptr<DecodeState> state;
      at::Tensor logits;
      for (int r = 0; r < o.repeats; ++r) {
        if (progress)
          progress(fmt::format("B={} prompt={}: prefill {}/{}", batch, prompt, r + 1, o.repeats));
        state = model.NewState(batch);
        logits = at::Tensor();
        SynchronizeDevice(device);
        ResetPeakDeviceMemory(device);
        timer.Start();
        logits = Prefill(model, ids, pos, *state, o.prefill_chunk);
        timer.Stop();
        p.prefill_seconds.push_back(timer.Seconds());
        p.peak_prefill_bytes = std::max(p.peak_prefill_bytes, ReadDeviceMemory(device).peak);
      }
      p.state_bytes_after_prefill = state->Bytes();
      if (progress)
        progress(fmt::format("B={} prompt={}: decode {} tokens", batch, prompt, o.decode_tokens));
      // Greedy: the next token is chosen on the device, as a serving loop would. The prefill's
      // logits are released before the decode peak is measured.
      at::Tensor next = logits.select(1, -1).argmax(-1, true);
      logits = at::Tensor();
      SynchronizeDevice(device);
      ResetPeakDeviceMemory(device);
      p.state_storage_before_decode = state->StorageBytes();
      p.allocated_before_decode_bytes = ReadDeviceMemory(device).allocated;
      if (o.decode_graph) {
        DeviceGreedyDecoder decoder(model, *state, next, PositionRows(batch, prompt, 1),
                                    o.decode_tokens + kGraphDecodeSetupSteps, /*graph=*/true);
        for (int64_t t = 0; t < kGraphDecodeSetupSteps; ++t) decoder.Step();
        SynchronizeDevice(device);
        for (int64_t t = 0; t < o.decode_tokens; ++t) {
          timer.Start();
          decoder.Step();
          timer.Stop();
          p.decode_step_seconds.push_back(timer.Seconds());
        }
        p.decode_graphed = decoder.graphed();
      } else {
        for (int64_t t = 0; t < o.decode_tokens; ++t) {
          const at::Tensor step_pos = PositionRows(batch, prompt + t, 1);
          // The range Nsight Compute profiles one decode step's kernels by (the per-token time
          // budget, scripts/decode_budget.py).
          const ProfileRange range("decode step");
          timer.Start();
          next = model.Forward(next, step_pos, *state).select(1, -1).argmax(-1, true);
          timer.Stop();
          p.decode_step_seconds.push_back(timer.Seconds());
        }
      }
      SynchronizeDevice(device);  // the graph decoder, gone, has given back its buffers
      const DeviceMemory after = ReadDeviceMemory(device);
      p.state_storage_after_decode = state->StorageBytes();
      p.peak_decode_bytes = after.peak;
      p.allocated_after_decode_bytes = after.allocated;
      p.state_bytes_after_decode = state->Bytes();
      p.state_reserved_after_decode = state->ReservedBytes();
      points.push_back(std::move(p));
    }
  }
  return points;
}

}  // namespace griffin
