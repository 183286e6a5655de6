// Both families against their reference implementations' outputs on the tiny fixtures:
// tiny-recurrentgemma (the official DeepMind implementation) and tiny-gemma (HF transformers'
// GemmaForCausalLM): prefill logits, decode-path logits (past Griffin's window), greedy ids.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/io/safetensors.h"
#include "core/model/language_model.h"
#include "core/runtime/device_decode.h"
#include "core/runtime/generate.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::FixtureDir;
using testing::RelativeError;

class FixtureParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    reference_ = SafetensorsFile::Open(FixtureDir(GetParam()) + "/reference.safetensors");
  }
  at::Tensor Ref(const std::string& name) const { return reference_->Tensor(name).clone(); }
  static std::vector<int64_t> Ids(const at::Tensor& row) {
    const at::Tensor r = row.contiguous();
    return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
  }
  std::unique_ptr<LanguageModel> Load(std::optional<DType> dtype = std::nullopt) const {
    LoadOptions o;
    o.dtype = dtype;
    return LoadModel(FixtureDir(GetParam()), o);
  }
  std::shared_ptr<const SafetensorsFile> reference_;
  at::InferenceMode inference_;
};

TEST(FixtureConfig, RecurrentGemmaConfigMatchesTheFixture) {
  const auto model = LoadModel(FixtureDir("tiny-recurrentgemma"), {});
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.vocab_size, 384);
  EXPECT_EQ(c.width, 96);
  EXPECT_EQ(c.lru_width, 128);
  EXPECT_EQ(c.mlp_width, 144);  // config.json's intermediate_size 288 holds both branches
  EXPECT_EQ(c.num_layers(), 6);
  EXPECT_EQ(c.blocks[2], BlockType::kAttention);
  EXPECT_EQ(c.blocks[3], BlockType::kRecurrent);
  EXPECT_EQ(c.attention_window, 12);
}

TEST(FixtureConfig, GemmaConfigMatchesTheFixture) {
  const auto model = LoadModel(FixtureDir("tiny-gemma"), {});
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.family, ModelFamily::kTransformer);
  EXPECT_EQ(c.mlp_width, 192);  // Gemma's intermediate_size is one branch
  EXPECT_EQ(c.num_layers(), 3);
  EXPECT_EQ(c.num_kv_heads, 1);
  EXPECT_EQ(c.attention_window, 0);
  EXPECT_EQ(c.rope_fraction, 1.0);
}

TEST_P(FixtureParity, PrefillLogitsMatchReferenceForBothSequences) {
  const auto model = Load();
  const at::Tensor ids = Ref("input_ids");  // [2, 36], 3x the window
  const at::Tensor positions = at::arange(ids.size(1), at::kLong).expand_as(ids).contiguous();
  auto state = model->NewState(2);
  const at::Tensor logits = model->Forward(ids, positions, *state);
  EXPECT_LE(RelativeError(logits, Ref("logits")), 1e-5);
  auto last_state = model->NewState(2);
  const at::Tensor last =
      model->Forward(ids, positions, *last_state, nullptr, /*last_logits_only=*/true);
  ASSERT_EQ(last.size(1), 1);
  EXPECT_LE(RelativeError(last, Ref("logits").narrow(1, 35, 1)), 1e-5);
}

TEST_P(FixtureParity, DecodePathLogitsMatchReference) {
  const auto model = Load();
  const std::vector<int64_t> ids = Ids(Ref("input_ids")[0]);
  const at::Tensor want = Ref("logits")[0];
  for (int64_t p : {0, 1, 5, 7, 12, 13, 20, 30}) {
    const at::Tensor got = SequenceLogits(*model, ids, p);
    EXPECT_LE(RelativeError(got.narrow(0, p, 36 - p), want.narrow(0, p, 36 - p)), 1e-5)
        << "decode from " << p;
  }
}

TEST_P(FixtureParity, GreedyIdsMatchReference) {
  const auto model = Load();
  GenerateOptions o;
  o.max_new_tokens = Ref("greedy_ids").size(1);
  EXPECT_EQ(Generate(*model, Ids(Ref("prompt_ids")[0]), o), Ids(Ref("greedy_ids")[0]));
}

// The fixed-shape step a CUDA graph captures (run eagerly here; replayed on the GPU in
// model_gpu_test): the reference's greedy ids, 16 prompt tokens and 28 new, past 3 windows.
TEST_P(FixtureParity, DeviceGreedyDecodeIdsMatchReference) {
  const auto model = Load();
  const at::Tensor prompt = Ref("prompt_ids");
  const int64_t P = prompt.size(1), n = Ref("greedy_ids").size(1);
  auto state = model->NewState(1);
  const at::Tensor last = model->Forward(prompt, at::arange(P, at::kLong).unsqueeze(0), *state,
                                         nullptr, /*last_logits_only=*/true);
  DeviceGreedyDecoder decoder(*model, *state, last.select(1, -1).argmax(-1, true),
                              at::full({1, 1}, P, at::kLong), n - 1, /*graph=*/true);
  std::vector<int64_t> ids = Ids(decoder.tokens()[0]);
  for (int64_t t = 1; t < n; ++t) {
    decoder.Step();
    ids.push_back(decoder.tokens()[0][0].item<int64_t>());
  }
  EXPECT_EQ(ids, Ids(Ref("greedy_ids")[0]));
}

TEST_P(FixtureParity, BFloat16StaysCloseToTheFloat32Reference) {
  // bf16 weights and activations (RG-LRU in fp32): 1.9e-2 relative was measured on the Griffin
  // fixture, whose output projections were scaled up on purpose; prefill and decode agree closer.
  const auto model = Load(DType::kBFloat16);
  const std::vector<int64_t> ids = Ids(Ref("input_ids")[0]);
  const at::Tensor prefill = SequenceLogits(*model, ids, std::nullopt);
  const at::Tensor decode = SequenceLogits(*model, ids, 0);
  EXPECT_LE(RelativeError(prefill, Ref("logits")[0]), 3e-2);
  EXPECT_LE(RelativeError(decode, prefill), 1e-2);
}

TEST_P(FixtureParity, HooksNameEveryLayer) {
  const auto model = Load();
  std::vector<std::string> names;
  at::Tensor layer5;
  ActivationHook hook = [&](const std::string& name, const at::Tensor& t) {
    names.push_back(name);
    if (name == "layers.5.out") layer5 = t.clone();
  };
  auto state = model->NewState(1);
  model->Forward(at::tensor({2, 17, 5}, at::kLong).unsqueeze(0),
                 at::arange(3, at::kLong).unsqueeze(0), *state, &hook);
  EXPECT_EQ(names.front(), "embed");
  EXPECT_EQ(names.back(), "logits");
  const int64_t layers = model->config().num_layers();
  EXPECT_EQ(static_cast<int64_t>(names.size()), 1 + layers * 3 + 2);
  if (layers > 5) {
    ASSERT_TRUE(layer5.defined());
    EXPECT_EQ(layer5.sizes(), (std::vector<int64_t>{1, 3, 96}));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureParity,
                         ::testing::Values("tiny-recurrentgemma", "tiny-recurrentgemma-deepmind",
                                           "tiny-gemma"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace griffin
