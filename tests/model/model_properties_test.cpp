// Properties any correct model of either family must have, on the fixtures and on random models
// across the ablation family: chunked prefill == one prefill, document resets == fresh state, a
// left-padded batch == each sequence alone, and state bytes == the analytic size at every length.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include "core/model/language_model.h"

#include "core/model/model.h"
#include "core/model/model_state.h"
#include "core/runtime/generate.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

std::unique_ptr<LanguageModel> Model(const std::string& spec) {
  LoadOptions o;
  o.seed = 7;
  return LoadModel(spec, o);
}

at::Tensor RandomIds(int64_t batch, int64_t T, int64_t vocab, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(1, vocab, {batch, T}, gen, at::kLong);
}

at::Tensor Arange(int64_t batch, int64_t T) {
  return at::arange(T, at::kLong).expand({batch, T}).contiguous();
}

class ModelProperties : public ::testing::TestWithParam<std::string> {
 protected:
  at::InferenceMode inference_;
};

TEST_P(ModelProperties, ChunkedPrefillEqualsOnePrefill) {
  const auto model = Model(GetParam());
  const int64_t T = 45;  // several windows of the local-attention configs (12 and 5)
  const at::Tensor ids = RandomIds(2, T, model->config().vocab_size, 1);
  const at::Tensor pos = Arange(2, T);
  auto whole_state = model->NewState(2);
  const at::Tensor whole = model->Forward(ids, pos, *whole_state);
  // Fixed splits (chunks longer than the window, single decode steps, a chunk straddling the
  // ring's wrap) and random ones from a seeded generator.
  std::vector<std::vector<int64_t>> all_splits = {
      {7, 1, 20, 17}, {1, 1, 1, 42}, {30, 15}, {13, 13, 13, 6}};
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2024);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<int64_t> splits;
    for (int64_t left = T; left > 0;) {
      const int64_t n = std::min(left, at::randint(1, 16, {1}, gen, at::kLong).item<int64_t>());
      splits.push_back(n);
      left -= n;
    }
    all_splits.push_back(splits);
  }
  for (const std::vector<int64_t>& splits : all_splits) {
    auto state = model->NewState(2);
    std::vector<at::Tensor> parts;
    int64_t start = 0;
    for (int64_t n : splits) {
      parts.push_back(model->Forward(ids.narrow(1, start, n), pos.narrow(1, start, n), *state));
      start += n;
    }
    EXPECT_LE(RelativeError(at::cat(parts, 1), whole), 1e-5)
        << fmt::format("{}", fmt::join(splits, ","));
  }
}

TEST_P(ModelProperties, LogitsAtChosenRowsEqualTheFullLogitsThere) {
  const auto model = Model(GetParam());
  const auto* concrete = dynamic_cast<const griffin::Model*>(model.get());
  ASSERT_NE(concrete, nullptr);
  const int64_t B = 3, T = 29;
  const at::Tensor ids = RandomIds(B, T, model->config().vocab_size, 5);
  const at::Tensor pos = Arange(B, T);
  auto full_state = model->NewState(B);
  const at::Tensor full = model->Forward(ids, pos, *full_state).flatten(0, 1);
  // Unsorted, repeated, first and last rows, each sequence represented.
  const at::Tensor rows = at::tensor(std::vector<int64_t>{86, 0, 30, 30, 57, 13, 28}, at::kLong);
  auto rows_state = model->NewState(B);
  const at::Tensor picked = concrete->ForwardRows(ids, pos, *rows_state, rows);
  ASSERT_EQ(picked.sizes(), (std::vector<int64_t>{7, model->config().vocab_size}));
  EXPECT_LE(RelativeError(picked, full.index_select(0, rows)), 1e-5);
  // The state advanced as with a full forward: the next token's logits agree.
  const at::Tensor next = RandomIds(B, 1, model->config().vocab_size, 6);
  EXPECT_LE(RelativeError(model->Forward(next, at::full({B, 1}, T, at::kLong), *rows_state),
                          model->Forward(next, at::full({B, 1}, T, at::kLong), *full_state)),
            1e-5);
  auto bad_state = model->NewState(B);
  EXPECT_THROW(concrete->ForwardRows(ids, pos, *bad_state, at::tensor({B * T}, at::kLong)),
               c10::Error);
  EXPECT_THROW(concrete->ForwardRows(ids, pos, *bad_state, at::tensor({1.0})), c10::Error);
}

TEST_P(ModelProperties, DocumentResetEqualsAFreshState) {
  const auto model = Model(GetParam());
  const at::Tensor ids = RandomIds(1, 40, model->config().vocab_size, 2);
  // Two documents in one stream: positions restart at token 23.
  const at::Tensor pos =
      at::cat({at::arange(23, at::kLong), at::arange(17, at::kLong)}).unsqueeze(0);
  auto state = model->NewState(1);
  const at::Tensor both = model->Forward(ids, pos, *state);
  auto fresh = model->NewState(1);
  const at::Tensor second = model->Forward(ids.narrow(1, 23, 17), Arange(1, 17), *fresh);
  EXPECT_LE(RelativeError(both.narrow(1, 23, 17), second), 1e-5);
  // And through the decode path: the reset arrives as a single token.
  auto stepwise = model->NewState(1);
  model->Forward(ids.narrow(1, 0, 23), pos.narrow(1, 0, 23), *stepwise);
  std::vector<at::Tensor> steps;
  for (int64_t t = 23; t < 40; ++t) {
    steps.push_back(model->Forward(ids.narrow(1, t, 1), pos.narrow(1, t, 1), *stepwise));
  }
  EXPECT_LE(RelativeError(at::cat(steps, 1), second), 1e-5);
}

TEST_P(ModelProperties, LeftPaddedBatchEqualsEachSequenceAlone) {
  const auto model = Model(GetParam());
  const int64_t V = model->config().vocab_size;
  std::vector<std::vector<int64_t>> seqs;
  for (int64_t len : {30, 19, 4}) {
    const at::Tensor row = RandomIds(1, len, V, 10 + len)[0];
    seqs.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + len);
  }
  auto [tokens, positions] = LeftPadBatch(seqs, /*pad_id=*/0);
  auto state = model->NewState(3);
  const at::Tensor batched = model->Forward(tokens, positions, *state);
  // Then a few decode steps for the whole batch.
  std::vector<at::Tensor> steps;
  const at::Tensor next = RandomIds(3, 5, V, 99);
  for (int64_t s = 0; s < 5; ++s) {
    const at::Tensor step_pos = positions.select(1, positions.size(1) - 1).unsqueeze(1) + 1 + s;
    steps.push_back(model->Forward(next.narrow(1, s, 1), step_pos, *state));
  }
  for (int64_t b = 0; b < 3; ++b) {
    const int64_t n = static_cast<int64_t>(seqs[b].size());
    std::vector<int64_t> alone_ids = seqs[b];
    for (int64_t s = 0; s < 5; ++s) alone_ids.push_back(next[b][s].item<int64_t>());
    const at::Tensor alone = SequenceLogits(*model, alone_ids, n);
    EXPECT_LE(RelativeError(batched[b].narrow(0, 30 - n, n), alone.narrow(0, 0, n)), 1e-5) << b;
    EXPECT_LE(RelativeError(at::cat(steps, 1)[b], alone.narrow(0, n, 5)), 1e-5) << b;
  }
}

TEST_P(ModelProperties, StateBytesMatchTheAnalyticSizeAtEveryLength) {
  const auto model = Model(GetParam());
  const ModelConfig& c = model->config();
  const bool grows = c.CountBlocks(BlockType::kAttention) > 0 && c.attention_window == 0;
  auto state = model->NewState(2);
  EXPECT_EQ(state->Bytes(), AnalyticStateSize(c, 2, 0, at::kFloat).total());
  const at::Tensor ids = RandomIds(2, 100, c.vocab_size, 3);
  model->Forward(ids, Arange(2, 100), *state);
  EXPECT_EQ(state->Bytes(), AnalyticStateSize(c, 2, 100, at::kFloat).total());
  const int64_t after_prefill = state->Bytes();
  for (int64_t t = 100; t < 110; ++t) {
    model->Forward(ids.narrow(1, 0, 1), at::full({2, 1}, t, at::kLong), *state);
  }
  EXPECT_EQ(state->Bytes(), AnalyticStateSize(c, 2, 110, at::kFloat).total());
  EXPECT_EQ(state->Bytes() > after_prefill, grows) << "only a global-attention cache grows";
  EXPECT_GE(state->ReservedBytes(), state->Bytes());
  EXPECT_EQ(state->tokens_seen(), 110);
}

TEST_P(ModelProperties, StateBytesAfterOneTenAndHundredWindows) {
  // Fixed-size for Griffin and the local-attention models, growing for global attention, and
  // always the analytic size: after 1x, 10x and 100x the window (12 where attention is global).
  const auto model = Model(GetParam());
  const ModelConfig& c = model->config();
  const int64_t window = c.attention_window > 0 ? c.attention_window : 12;
  auto state = model->NewState(1);
  int64_t seen = 0;
  std::vector<int64_t> bytes;
  for (int64_t multiple : {1, 10, 100}) {
    const int64_t n = multiple * window - seen;
    model->Forward(RandomIds(1, n, c.vocab_size, 5 + multiple),
                   at::arange(seen, seen + n, at::kLong).unsqueeze(0), *state, nullptr,
                   /*last_logits_only=*/true);
    seen += n;
    bytes.push_back(state->Bytes());
    EXPECT_EQ(state->Bytes(), AnalyticStateSize(c, 1, seen, at::kFloat).total()) << seen;
  }
  const bool fixed = c.CountBlocks(BlockType::kAttention) == 0 || c.attention_window > 0;
  EXPECT_EQ(bytes[0] == bytes[1] && bytes[1] == bytes[2], fixed);
}

TEST_P(ModelProperties, StateOwnsItsMemoryAfterABatchOnePrefill) {
  // A state tensor that is a view of a prefill buffer keeps the whole buffer alive (at batch 1 a
  // narrow is "contiguous", so contiguous() does not copy): every tensor must own exactly its
  // bytes.
  const auto model = Model(GetParam());
  auto base = model->NewState(1);
  model->Forward(RandomIds(1, 200, model->config().vocab_size, 4), Arange(1, 200), *base);
  const auto& state = dynamic_cast<const ModelState&>(*base);
  auto owns = [](const at::Tensor& t) { return t.storage().nbytes() == t.nbytes(); };
  EXPECT_TRUE(owns(state.docs_started));
  for (const RecurrentState& r : state.recurrent) {
    EXPECT_TRUE(owns(r.rnn));
    EXPECT_TRUE(owns(r.conv));
    EXPECT_TRUE(owns(r.conv_pos));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, ModelProperties,
    ::testing::Values(testing::FixtureDir("tiny-recurrentgemma"), testing::FixtureDir("tiny-gemma"),
                      "preset:tiny-griffin", "preset:tiny-hawk", "preset:tiny-gemma",
                      "preset:tiny-griffin,window=0",  // Griffin with global attention
                      "preset:tiny-gemma,window=5",    // local-attention-only Transformer
                      "preset:tiny-gemma,kv_heads=4",  // MHA instead of MQA
                      "preset:tiny-gemma,kv_heads=2",  // grouped queries
                      "preset:tiny-griffin,pattern=RA,window=5",  // other block patterns
                      "preset:tiny-griffin,pattern=RRRA,lru_width=64,layers=8"),
    [](const auto& info) {
      std::string n = info.param;
      const bool preset = n.rfind("preset:", 0) == 0;
      n = (preset ? "preset_" : "fixture_") + n.substr(n.find_last_of("/:") + 1);
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

}  // namespace
}  // namespace griffin
