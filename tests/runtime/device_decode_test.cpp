// DeviceGreedyDecoder's fixed-shape step (what a CUDA graph captures) against the ordinary eager
// decode: the same logits and ids past the local window, for Griffin, Hawk and the Transformer,
// at batch 2 with a left-padded row; the state ends where eager decoding leaves it; and misuse is
// a clear error. On the CPU the step runs eagerly; tests/model/model_gpu_test.cpp replays it as a
// CUDA graph.
#include "core/runtime/device_decode.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/model/language_model.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

struct Prefilled {
  std::unique_ptr<DecodeState> state;
  at::Tensor next, positions;  // [2, 1]: the first token to feed and its position
};

// Row 0: 20 prompt tokens from position 0; row 1: 5 pads (position -1) then 15 tokens.
Prefilled Prefill(const LanguageModel& model) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor ids = at::randint(1, model.config().vocab_size, {2, 20}, gen, at::kLong);
  at::Tensor pos = at::arange(20, at::kLong).repeat({2, 1});
  pos[1].narrow(0, 0, 5).fill_(-1);
  pos[1].narrow(0, 5, 15).copy_(at::arange(15, at::kLong));
  Prefilled p;
  p.state = model.NewState(2);
  const at::Tensor logits = model.Forward(ids, pos, *p.state, nullptr, true);
  p.next = logits.select(1, -1).argmax(-1, true);
  p.positions = pos.narrow(1, 19, 1) + 1;
  return p;
}

class DeviceDecode : public ::testing::TestWithParam<std::string> {
 protected:
  at::InferenceMode inference_;
};

TEST_P(DeviceDecode, MatchesEagerDecodePastTheWindow) {
  const auto model = LoadModel("preset:" + GetParam(), {});
  const int64_t window = model->config().attention_window;
  const int64_t steps = std::max<int64_t>(30, 2 * window + 5);

  Prefilled eager = Prefill(*model);
  std::vector<at::Tensor> want;
  at::Tensor next = eager.next, pos = eager.positions;
  for (int64_t t = 0; t < steps; ++t) {
    want.push_back(model->Forward(next, pos, *eager.state));
    next = want.back().select(1, -1).argmax(-1, true);
    pos = pos + 1;
  }

  Prefilled fixed = Prefill(*model);
  DeviceGreedyDecoder decoder(*model, *fixed.state, fixed.next, fixed.positions, steps,
                              /*graph=*/true);
  for (int64_t t = 0; t < steps; ++t) {
    decoder.Step();
    EXPECT_LE(RelativeError(decoder.logits(), want[t]), 1e-5) << "step " << t;
    EXPECT_TRUE(at::equal(decoder.tokens(), want[t].select(1, -1).argmax(-1, true)))
        << "step " << t;
  }
  EXPECT_FALSE(decoder.graphed());  // CPU: the same step, eagerly
  EXPECT_EQ(fixed.state->tokens_seen(), eager.state->tokens_seen());
  EXPECT_EQ(fixed.state->Bytes(), eager.state->Bytes());
  // Every step reserved is used: one more is an error, not a write past the room.
  testing::ExpectErrorContaining([&] { decoder.Step(); }, {"all", "steps reserved"});
}

INSTANTIATE_TEST_SUITE_P(Presets, DeviceDecode,
                         ::testing::Values("tiny-griffin", "tiny-hawk", "tiny-gemma"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(DeviceDecodeErrors, BadInputsAreClear) {
  const at::InferenceMode inference;
  const auto model = LoadModel("preset:tiny-griffin", {});
  auto state = model->NewState(2);
  const at::Tensor pos = at::zeros({2, 1}, at::kLong);
  testing::ExpectErrorContaining(
      [&] {
        DeviceGreedyDecoder(*model, *state, at::zeros({1, 1}, at::kLong), pos, 4, false);
      },
      {"must be [2, 1]"});
  testing::ExpectErrorContaining(
      [&] {
        DeviceGreedyDecoder(*model, *state, at::full({2, 1}, 100000, at::kLong), pos, 4, false);
      },
      {"outside the vocabulary"});
  testing::ExpectErrorContaining(
      [&] {
        DeviceGreedyDecoder(*model, *state, at::zeros({2, 1}, at::kLong), pos, 0, false);
      },
      {"max_steps must be positive"});
}

// After the decoder is gone the state's shapes are free again: eager decoding goes on and a
// Transformer's cache grows past the room the decoder reserved.
TEST(DeviceDecodeErrors, StateIsUsableAfterwards) {
  const at::InferenceMode inference;
  const auto model = LoadModel("preset:tiny-gemma", {});
  Prefilled p = Prefill(*model);
  {
    DeviceGreedyDecoder decoder(*model, *p.state, p.next, p.positions, 3, false);
    for (int t = 0; t < 3; ++t) decoder.Step();
    p.next = decoder.tokens().clone();
  }
  at::Tensor pos = p.positions + 3;
  for (int t = 0; t < 2000; t += 500) {
    const at::Tensor ids = at::ones({2, 500}, at::kLong);
    const at::Tensor chunk = pos + at::arange(500, at::kLong).unsqueeze(0);
    EXPECT_EQ(model->Forward(ids, chunk, *p.state).size(1), 500);
    pos = pos + 500;
  }
  EXPECT_EQ(p.state->tokens_seen(), 20 + 3 + 2000);
}

}  // namespace
}  // namespace griffin
