// Presets have the published shapes (parameter counts: docs/MODEL.md section 5) and
// configs that make no sense are rejected with the field named.
#include "core/model/config.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace griffin {
namespace {

using testing::ExpectErrorContaining;

TEST(Presets, ParameterCountsMatchThePublishedModels) {
  EXPECT_EQ(CountParameters(PresetConfig("recurrentgemma-2b")), 2682862080);
  EXPECT_EQ(CountParameters(PresetConfig("recurrentgemma-9b")), 8579977216);
  EXPECT_EQ(CountParameters(PresetConfig("gemma-2b")), 2506172416);
  EXPECT_EQ(CountParameters(PresetConfig("gemma-7b")), 8537680896);
}

TEST(Presets, BlockPatternsAndWindows) {
  const ModelConfig rg = PresetConfig("recurrentgemma-2b");
  EXPECT_EQ(rg.num_layers(), 26);
  EXPECT_EQ(rg.CountBlocks(BlockType::kAttention), 8);
  EXPECT_EQ(rg.blocks[24], BlockType::kRecurrent);
  EXPECT_EQ(rg.blocks[25], BlockType::kRecurrent);
  EXPECT_EQ(rg.attention_window, 2048);
  EXPECT_EQ(PresetConfig("recurrentgemma-9b").CountBlocks(BlockType::kAttention), 12);
  EXPECT_EQ(PresetConfig("hawk-2b").CountBlocks(BlockType::kAttention), 0);
  ExpectErrorContaining([] { PresetConfig("recurrentgemma-3b"); },
                        {"unknown model preset 'recurrentgemma-3b'", "recurrentgemma-2b"});
}

// Every preset's named dimensions, as the positional presets of 2c12484 had them (the presets are
// now designated initializers; this pins that they still resolve to the same models).
TEST(Presets, DimensionsAsNamed) {
  struct Expected {
    const char* name;
    int64_t vocab, width, lru_width, heads, kv_heads, head_dim, mlp, layers, attention, window;
    double soft_cap;
  };
  const Expected presets[] = {
      {"recurrentgemma-2b", 256000, 2560, 2560, 10, 1, 256, 7680, 26, 8, 2048, 30.0},
      {"recurrentgemma-9b", 256000, 4096, 4096, 16, 1, 256, 12288, 38, 12, 2048, 30.0},
      {"griffin-paper-7b", 256000, 4096, 5632, 32, 1, 128, 12288, 32, 10, 1024, 0.0},
      {"hawk-2b", 256000, 2560, 2560, 10, 1, 256, 7680, 26, 0, 0, 30.0},
      {"griffin-2b-global", 256000, 2560, 2560, 10, 1, 256, 7680, 26, 8, 0, 30.0},
      {"tiny-griffin", 384, 96, 128, 4, 1, 24, 144, 6, 2, 12, 30.0},
      {"tiny-hawk", 384, 96, 128, 4, 1, 24, 144, 6, 0, 0, 30.0},
      {"gemma-2b", 256000, 2048, 0, 8, 1, 256, 16384, 18, 18, 0, 0.0},
      {"gemma-7b", 256000, 3072, 0, 16, 16, 256, 24576, 28, 28, 0, 0.0},
      {"tiny-gemma", 384, 96, 0, 4, 1, 24, 192, 3, 3, 0, 0.0},
      {"local-transformer-2b", 256000, 2048, 0, 8, 1, 256, 16384, 18, 18, 2048, 0.0},
  };
  EXPECT_EQ(std::size(presets), PresetNames().size());
  for (const Expected& e : presets) {
    SCOPED_TRACE(e.name);
    const ModelConfig c = PresetConfig(e.name);
    EXPECT_EQ(c.vocab_size, e.vocab);
    EXPECT_EQ(c.width, e.width);
    EXPECT_EQ(c.lru_width, e.lru_width);
    EXPECT_EQ(c.num_heads, e.heads);
    EXPECT_EQ(c.num_kv_heads, e.kv_heads);
    EXPECT_EQ(c.head_dim, e.head_dim);
    EXPECT_EQ(c.mlp_width, e.mlp);
    EXPECT_EQ(c.num_layers(), e.layers);
    EXPECT_EQ(c.CountBlocks(BlockType::kAttention), e.attention);
    EXPECT_EQ(c.attention_window, e.window);
    EXPECT_EQ(c.logit_soft_cap, e.soft_cap);
  }
}

// Each key OverrideKeys lists sets the field it names, and nothing else is a key.
TEST(Overrides, EveryKeySetsTheFieldItNames) {
  using Field = double (*)(const ModelConfig&);
  const std::map<std::string, std::pair<std::string, double>> set = {
      {"vocab_size", {"500", 500}},  {"width", {"64", 64}},
      {"lru_width", {"80", 80}},     {"heads", {"2", 2}},
      {"kv_heads", {"2", 2}},        {"head_dim", {"32", 32}},
      {"mlp_width", {"100", 100}},   {"layers", {"9", 9}},
      {"pattern", {"RA", 4}},        {"window", {"7", 7}},
      {"conv_width", {"3", 3}},      {"rope_fraction", {"0.25", 0.25}},
      {"rope_base", {"5000", 5000}}, {"soft_cap", {"12.5", 12.5}},
  };
  const std::map<std::string, Field> read = {
      {"vocab_size", [](const ModelConfig& c) { return double(c.vocab_size); }},
      {"width", [](const ModelConfig& c) { return double(c.width); }},
      {"lru_width", [](const ModelConfig& c) { return double(c.lru_width); }},
      {"heads", [](const ModelConfig& c) { return double(c.num_heads); }},
      {"kv_heads", [](const ModelConfig& c) { return double(c.num_kv_heads); }},
      {"head_dim", [](const ModelConfig& c) { return double(c.head_dim); }},
      {"mlp_width", [](const ModelConfig& c) { return double(c.mlp_width); }},
      {"layers", [](const ModelConfig& c) { return double(c.num_layers()); }},
      // "RA" over tiny-griffin's 6 blocks: R, A, R, A, R, A, so 3 recurrent + block 1 attention.
      {"pattern",
       [](const ModelConfig& c) {
         return double(c.CountBlocks(BlockType::kRecurrent) +
                       (c.blocks[1] == BlockType::kAttention));
       }},
      {"window", [](const ModelConfig& c) { return double(c.attention_window); }},
      {"conv_width", [](const ModelConfig& c) { return double(c.conv_width); }},
      {"rope_fraction", [](const ModelConfig& c) { return c.rope_fraction; }},
      {"rope_base", [](const ModelConfig& c) { return c.rope_base; }},
      {"soft_cap", [](const ModelConfig& c) { return c.logit_soft_cap; }},
  };
  const std::vector<std::string> keys = OverrideKeys();
  EXPECT_EQ(keys.size(), set.size());
  for (const std::string& key : keys) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(set.count(key) && read.count(key));
    ModelConfig c = PresetConfig("tiny-griffin");
    ApplyOverride(c, key, set.at(key).first);
    EXPECT_EQ(read.at(key)(c), set.at(key).second);
  }
  ModelConfig c = PresetConfig("tiny-griffin");
  ExpectErrorContaining([&] { ApplyOverride(c, "depth", "4"); },
                        {"unknown model override 'depth'", "vocab_size", "soft_cap"});
  ExpectErrorContaining([&] { ApplyOverride(c, "width", "wide"); },
                        {"override 'width'", "'wide' is not an integer"});
  ExpectErrorContaining([&] { ApplyOverride(c, "soft_cap", "1.5x"); },
                        {"override 'soft_cap'", "'1.5x' is not a number"});
}

// A depth is bounded before blocks are allocated (the experiment TOML fuzz target asked for
// 9,999,999,996 layers, and the reader allocated gigabytes for them).
TEST(Presets, DepthIsBounded) {
  EXPECT_EQ(PresetWithOverrides("tiny-griffin,layers=4096").num_layers(), kMaxLayers);
  ExpectErrorContaining([] { PresetWithOverrides("tiny-hawk,layers=9999999996"); },
                        {"override 'layers'", "9999999996", "[1, 4096]"});
  ExpectErrorContaining([] { RepeatPattern({BlockType::kAttention}, 5000); },
                        {"5000 layers", "1 to 4096"});
}

TEST(Validate, RejectsConfigsThatMakeNoSense) {
  ModelConfig c = PresetConfig("tiny-griffin");
  c.num_heads = 5;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"num_heads (5) must divide lru_width (128)"});
  c = PresetConfig("tiny-griffin");
  c.attention_window = -1;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"attention_window must be >= 0"});
  c = PresetConfig("tiny-griffin");
  c.head_dim = 23;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"head_dim must be positive and even"});
  c = PresetConfig("tiny-griffin");
  c.conv_width = 5;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"conv_width must be in [1, 4]"});
  c = PresetConfig("tiny-gemma");
  c.num_kv_heads = 3;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"num_kv_heads (3) must divide num_heads (4)"});
  c = PresetConfig("tiny-gemma");
  c.blocks[1] = BlockType::kRecurrent;
  ExpectErrorContaining([&] { ValidateConfig(c); }, {"cannot contain recurrent blocks"});
}

TEST(DTypes, ParseAndName) {
  EXPECT_EQ(ParseDType("bf16"), DType::kBFloat16);
  EXPECT_EQ(ParseDType(DTypeName(DType::kFloat16)), DType::kFloat16);
  ExpectErrorContaining([] { ParseDType("int8"); }, {"unknown dtype 'int8'"});
}

}  // namespace
}  // namespace griffin
