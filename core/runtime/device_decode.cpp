#include "core/runtime/device_decode.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <stdexcept>

#include "core/runtime/captured_step.h"

namespace griffin {

DeviceGreedyDecoder::DeviceGreedyDecoder(const LanguageModel& model, DecodeState& state,
                                         const at::Tensor& first_tokens,
                                         const at::Tensor& positions, int64_t max_steps, bool graph)
    : model_(model), state_(state), max_steps_(max_steps) {
  const int64_t B = state.batch();
  TORCH_CHECK(first_tokens.sizes() == at::IntArrayRef({B, 1}) &&
                  positions.sizes() == at::IntArrayRef({B, 1}),
              "device decode: tokens and positions must be [", B, ", 1], got ",
              first_tokens.sizes(), " and ", positions.sizes());
  TORCH_CHECK(max_steps > 0, "device decode: max_steps must be positive, got ", max_steps);
  const int64_t vocab = model.config().vocab_size;
  const at::Tensor ids = first_tokens.to(at::kCPU, at::kLong);
  TORCH_CHECK(ids.ge(0).all().item<bool>() && ids.lt(vocab).all().item<bool>(),
              "device decode: a first token id is outside the vocabulary of ", vocab);
  // Own buffers: the captured step reads and writes exactly these on every replay.
  tokens_ = first_tokens.to(model.device(), at::kLong).clone();
  positions_ = positions.to(model.device(), at::kLong).clone();
  state_.FixShapes(max_steps);
  work_ = [this] {
    const c10::NoGradGuard no_grad;  // state updates in place: what a captured step replays
    logits_ = model_.Forward(tokens_, positions_, state_);
    tokens_.copy_(logits_.select(1, -1).argmax(-1, /*keepdim=*/true));
    positions_.add_(1);
  };
  if (graph && model.device().is_cuda()) {
    captured_ = std::make_unique<CapturedStep>(work_, model.device(), /*warmup=*/2);
  }
}

DeviceGreedyDecoder::~DeviceGreedyDecoder() { state_.UnfixShapes(); }

bool DeviceGreedyDecoder::graphed() const { return captured_ && captured_->captured(); }

void DeviceGreedyDecoder::Step() {
  if (steps_ >= max_steps_) {
    throw std::runtime_error(
        fmt::format("device decode: all {} steps reserved for this decoder are used", max_steps_));
  }
  if (!captured_) {
    work_();
  } else if (captured_->Run()) {
    state_.AdvanceReplayed(1);  // a replay runs none of Forward's host-side bookkeeping
  }
  ++steps_;
}

}  // namespace griffin
