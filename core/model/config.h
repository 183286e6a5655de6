// ModelConfig: the shape of a Griffin/RecurrentGemma or Gemma-1 model, named presets, and
// the checks that reject configs that make no sense. Torch-free on purpose: many files include it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace griffin {

enum class ModelFamily { kGriffin, kTransformer };
enum class BlockType { kRecurrent, kAttention };
enum class DType { kFloat32, kBFloat16, kFloat16 };

struct ModelConfig {
  std::string name;  // preset name or checkpoint folder
  ModelFamily family = ModelFamily::kGriffin;
  int64_t vocab_size = 0;
  int64_t width = 0;         // D, the residual stream
  int64_t lru_width = 0;     // L, the recurrence width (Griffin only)
  int64_t num_heads = 0;     // attention heads; also the RG-LRU gates' diagonal blocks
  int64_t num_kv_heads = 1;  // 1 = multi-query attention
  int64_t head_dim = 0;
  int64_t mlp_width = 0;          // M, each GeGLU branch (HF's intermediate_size / 2 for Griffin)
  std::vector<BlockType> blocks;  // one entry per residual block, in order
  // Local attention sees the current token plus `attention_window` previous ones; 0 = global.
  int64_t attention_window = 0;
  int64_t conv_width = 4;      // temporal Conv1D width (Griffin)
  double rope_fraction = 0.5;  // share of each head that is rotated (Griffin 0.5, Gemma 1.0)
  double rope_base = 10000.0;
  double logit_soft_cap = 0.0;  // 0 = none; RecurrentGemma caps at 30
  // RecurrentGemma rounds sqrt(width) to bf16 whatever the dtype; Gemma rounds it to the
  // activation dtype.
  bool embed_scale_in_bf16 = true;
  bool block_biases = true;  // Griffin: MLP and attention-output biases; Gemma: none
  double rms_eps = 1e-6;
  DType dtype = DType::kFloat32;  // weights and activations (RG-LRU gates and state stay fp32)

  int64_t num_layers() const { return static_cast<int64_t>(blocks.size()); }
  int64_t CountBlocks(BlockType type) const;
};

// The most blocks a model may have: far above any real model (Gemma-7B has 28, RecurrentGemma-9B
// 38), low enough that a mistyped depth is an error, not an allocation of gigabytes.
inline constexpr int64_t kMaxLayers = 4096;

// The (R, R, A)-style pattern repeated to `num_layers` blocks (1 to kMaxLayers; otherwise
// std::invalid_argument naming the depth).
std::vector<BlockType> RepeatPattern(const std::vector<BlockType>& pattern, int64_t num_layers);

// Named presets: recurrentgemma-2b, recurrentgemma-9b, griffin-paper-*, hawk-*, gemma-2b, gemma-7b
// and tiny test sizes. Throws std::invalid_argument listing the known names.
ModelConfig PresetConfig(std::string_view name);
std::vector<std::string> PresetNames();

// Ablations are presets plus overrides: sets one field from text, e.g. ("window", "0"),
// ("pattern", "RRRA"), ("kv_heads", "4"), ("lru_width", "64"); OverrideKeys() lists the keys.
// Unknown keys and malformed values throw std::invalid_argument naming them. Call ValidateConfig
// afterwards.
void ApplyOverride(ModelConfig& config, std::string_view key, std::string_view value);
std::vector<std::string> OverrideKeys();

// "NAME" or "NAME,key=value,key=value": a preset with overrides, validated.
ModelConfig PresetWithOverrides(std::string_view spec);

// Throws std::invalid_argument naming the field and value that make no sense.
void ValidateConfig(const ModelConfig& config);

std::string_view DTypeName(DType dtype);
DType ParseDType(std::string_view name);  // float32|fp32, bfloat16|bf16, float16|fp16
std::string_view BlockTypeName(BlockType type);
std::string_view FamilyName(ModelFamily family);

// Total parameter count (tied embedding counted once).
int64_t CountParameters(const ModelConfig& config);

}  // namespace griffin
