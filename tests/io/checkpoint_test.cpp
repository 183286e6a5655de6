// Checkpoint loading: HF single file, sharded index, DeepMind naming, bf16 storage, and clear
// errors for configs and tensors that do not fit.
#include "core/io/checkpoint.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/paths.h"
#include "core/io/safetensors.h"
#include "core/model/language_model.h"
#include "core/runtime/generate.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::ExpectErrorContaining;
using testing::FixtureDir;
using testing::RelativeError;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = paths::MakeTempDir("griffin_ckpt_");
    CopyFile(FixtureDir("tiny-recurrentgemma") + "/config.json", In("config.json"));
    source_ = SafetensorsFile::Open(FixtureDir("tiny-recurrentgemma") + "/model.safetensors");
  }
  void TearDown() override { paths::RemoveTree(dir_); }
  std::string In(const std::string& name) const { return paths::Join(dir_, name); }
  static void CopyFile(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream(to, std::ios::binary | std::ios::trunc) << in.rdbuf();
  }

  std::map<std::string, at::Tensor> SourceTensors() const {
    std::map<std::string, at::Tensor> t;
    for (const auto& [name, _] : source_->entries()) t[name] = source_->Tensor(name);
    return t;
  }
  at::Tensor Logits(const std::string& dir, std::optional<DType> dtype = std::nullopt) {
    LoadOptions o;
    o.dtype = dtype;
    const auto model = LoadModel(dir, o);
    const at::InferenceMode guard;
    return SequenceLogits(*model, ids_, 3);
  }
  void PatchConfig(const std::function<void(nlohmann::json&)>& edit) {
    std::ifstream in(In("config.json"));
    nlohmann::json j = nlohmann::json::parse(in);
    edit(j);
    std::ofstream(In("config.json")) << j.dump(2);
  }

  std::string dir_;
  std::shared_ptr<const SafetensorsFile> source_;
  std::vector<int64_t> ids_{2, 17, 5, 99, 300, 12, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
};

TEST_F(CheckpointTest, ShardedIndexLoadsTheSameModel) {
  std::map<std::string, at::Tensor> a, b;
  nlohmann::json index;
  for (const auto& [name, t] : SourceTensors()) {
    const bool first = name.find("layers.") == std::string::npos || name < "model.layers.3";
    (first ? a : b)[name] = t;
    index["weight_map"][name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  WriteSafetensors(In("model-00001-of-00002.safetensors"), a);
  WriteSafetensors(In("model-00002-of-00002.safetensors"), b);
  std::ofstream(In("model.safetensors.index.json")) << index.dump();
  EXPECT_LE(RelativeError(Logits(dir_), Logits(FixtureDir("tiny-recurrentgemma"))), 1e-7);
}

// A checkpoint written by the official recurrentgemma package under its own names (made by
// scripts/make_deepmind_fixture.py) is recognised as such; FixtureParity checks its logits,
// decode path and greedy ids against what the package computes.
TEST(CheckpointDeepMind, TheOfficialPackagesCheckpointIsMapped) {
  const Checkpoint dm = Checkpoint::Open(FixtureDir("tiny-recurrentgemma-deepmind"));
  const Checkpoint hf = Checkpoint::Open(FixtureDir("tiny-recurrentgemma"));
  EXPECT_TRUE(dm.deepmind_naming());
  EXPECT_FALSE(hf.deepmind_naming());
  EXPECT_EQ(dm.Names(), hf.Names()) << "served under the HF names";
  for (const std::string& name : hf.Names()) {
    EXPECT_EQ(dm.Get(name).sizes(), hf.Get(name).sizes()) << name;
  }
}

TEST_F(CheckpointTest, GemmaPytorchFusedQkvNamingLoadsTheSameModel) {
  // gemma_pytorch stores q, k, v as one [(H + 2 KV) * hd, D] matrix and the embedding as
  // `embedder.weight`.
  const std::string gemma = FixtureDir("tiny-gemma");
  CopyFile(gemma + "/config.json", In("config.json"));
  const auto src = SafetensorsFile::Open(gemma + "/model.safetensors");
  std::map<std::string, at::Tensor> t;
  for (const auto& [name, _] : src->entries()) t[name] = src->Tensor(name);
  std::map<std::string, at::Tensor> fused;
  for (const auto& [name, value] : t) {
    const auto q = name.find("self_attn.q_proj.weight");
    if (name == "model.embed_tokens.weight") {
      fused["embedder.weight"] = value;
    } else if (q != std::string::npos) {
      const std::string p = name.substr(0, q) + "self_attn.";
      fused[p + "qkv_proj.weight"] =
          at::cat({value, t.at(p + "k_proj.weight"), t.at(p + "v_proj.weight")}, 0);
    } else if (name.find("k_proj") == std::string::npos &&
               name.find("v_proj") == std::string::npos) {
      fused[name] = value;
    }
  }
  WriteSafetensors(In("model.safetensors"), fused);
  ASSERT_TRUE(Checkpoint::Open(dir_).deepmind_naming());
  EXPECT_LE(RelativeError(Logits(dir_), Logits(gemma)), 1e-7);
}

TEST_F(CheckpointTest, BFloat16StorageLoads) {
  std::map<std::string, at::Tensor> t = SourceTensors();
  for (auto& [name, value] : t) value = value.to(at::kBFloat16);
  WriteSafetensors(In("model.safetensors"), t);
  PatchConfig([](nlohmann::json& j) { j["dtype"] = "bfloat16"; });
  const auto model = LoadModel(dir_, {});
  EXPECT_EQ(model->config().dtype, DType::kBFloat16);
  EXPECT_LE(RelativeError(Logits(dir_, DType::kFloat32), Logits(FixtureDir("tiny-recurrentgemma"))),
            3e-2);
}

TEST_F(CheckpointTest, MismatchesAreClearErrors) {
  auto t = SourceTensors();
  t["model.layers.0.temporal_block.linear_x.weight"] = at::zeros({128, 95});
  WriteSafetensors(In("model.safetensors"), t);
  ExpectErrorContaining(
      [&] { LoadModel(dir_, {}); },
      {"model.layers.0.temporal_block.linear_x.weight", "[128, 95]", "[128, 96]"});
  t = SourceTensors();
  t.erase("model.final_norm.weight");
  WriteSafetensors(In("model.safetensors"), t);
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"missing tensor 'model.final_norm.weight'"});
  t = SourceTensors();
  t["model.layers.9.extra"] = at::zeros({1});
  WriteSafetensors(In("model.safetensors"), t);
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"model.layers.9.extra"});
}

TEST_F(CheckpointTest, ConfigErrorsNameTheKey) {
  CopyFile(FixtureDir("tiny-recurrentgemma") + "/model.safetensors", In("model.safetensors"));
  PatchConfig([](nlohmann::json& j) { j["hidden_size"] = "96"; });
  ExpectErrorContaining([&] { LoadModel(dir_, {}); },
                        {"config.json", "'hidden_size' must be an integer"});
  PatchConfig([](nlohmann::json& j) {
    j["hidden_size"] = 96;
    j.erase("vocab_size");
  });
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"missing key 'vocab_size'"});
  PatchConfig([](nlohmann::json& j) {
    j["vocab_size"] = 384;
    j["model_type"] = "mamba";
  });
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"model_type 'mamba' is not supported"});
  PatchConfig([](nlohmann::json& j) {
    j["model_type"] = "recurrent_gemma";
    j["num_attention_heads"] = 5;
  });
  ExpectErrorContaining([&] { LoadModel(dir_, {}); },
                        {"num_heads (5) must divide lru_width (128)"});
  std::ofstream(In("config.json")) << "{ not json";
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"config.json", "not valid JSON"});
  std::remove(In("model.safetensors").c_str());
  CopyFile(FixtureDir("tiny-recurrentgemma") + "/config.json", In("config.json"));
  ExpectErrorContaining([&] { LoadModel(dir_, {}); }, {"neither model.safetensors"});
}

}  // namespace
}  // namespace griffin
