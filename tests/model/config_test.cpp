// Presets have the published shapes (parameter counts: docs/MODEL.md section 5) and
// configs that make no sense are rejected with the field named.
#include "core/model/config.h"

#include <gtest/gtest.h>

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
