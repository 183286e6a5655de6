#include "core/model/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <functional>
#include <map>
#include <stdexcept>

namespace griffin {
namespace {

constexpr BlockType R = BlockType::kRecurrent;
constexpr BlockType A = BlockType::kAttention;

ModelConfig GriffinShape(std::string name, int64_t vocab, int64_t width, int64_t lru_width,
                         int64_t heads, int64_t head_dim, int64_t mlp, int64_t layers,
                         int64_t window) {
  ModelConfig c;
  c.name = std::move(name);
  c.family = ModelFamily::kGriffin;
  c.vocab_size = vocab;
  c.width = width;
  c.lru_width = lru_width;
  c.num_heads = heads;
  c.num_kv_heads = 1;
  c.head_dim = head_dim;
  c.mlp_width = mlp;
  c.blocks = RepeatPattern({R, R, A}, layers);
  c.attention_window = window;
  c.conv_width = 4;
  c.rope_fraction = 0.5;
  c.logit_soft_cap = 30.0;
  c.embed_scale_in_bf16 = true;
  c.block_biases = true;
  return c;
}

ModelConfig GemmaShape(std::string name, int64_t vocab, int64_t width, int64_t heads,
                       int64_t kv_heads, int64_t head_dim, int64_t mlp, int64_t layers) {
  ModelConfig c;
  c.name = std::move(name);
  c.family = ModelFamily::kTransformer;
  c.vocab_size = vocab;
  c.width = width;
  c.lru_width = 0;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.mlp_width = mlp;
  c.blocks = RepeatPattern({A}, layers);
  c.attention_window = 0;
  c.rope_fraction = 1.0;
  c.logit_soft_cap = 0.0;
  c.embed_scale_in_bf16 = false;
  c.block_biases = false;
  return c;
}

const std::map<std::string, std::function<ModelConfig()>, std::less<>>& Presets() {
  static const auto* presets = new std::map<std::string, std::function<ModelConfig()>, std::less<>>{
      // docs/MODEL.md section 5.
      {"recurrentgemma-2b",
       [] {
         return GriffinShape("recurrentgemma-2b", 256000, 2560, 2560, 10, 256, 7680, 26, 2048);
       }},
      {"recurrentgemma-9b",
       [] {
         return GriffinShape("recurrentgemma-9b", 256000, 4096, 4096, 16, 256, 12288, 38, 2048);
       }},
      // The Griffin paper's 7B preset: window 1024, head_dim 128, no input scaling or soft-cap.
      {"griffin-paper-7b",
       [] {
         ModelConfig c =
             GriffinShape("griffin-paper-7b", 256000, 4096, 5632, 32, 128, 12288, 32, 1024);
         c.logit_soft_cap = 0.0;
         return c;
       }},
      // Hawk: the same 2B shapes with every block recurrent.
      {"hawk-2b",
       [] {
         ModelConfig c = GriffinShape("hawk-2b", 256000, 2560, 2560, 10, 256, 7680, 26, 2048);
         c.blocks = RepeatPattern({R}, 26);
         c.attention_window = 0;
         return c;
       }},
      // Tiny sizes for tests and the CPU quickstart; tiny-griffin matches the shared fixture.
      {"tiny-griffin",
       [] { return GriffinShape("tiny-griffin", 384, 96, 128, 4, 24, 144, 6, 12); }},
      {"tiny-hawk",
       [] {
         ModelConfig c = GriffinShape("tiny-hawk", 384, 96, 128, 4, 24, 144, 6, 0);
         c.blocks = RepeatPattern({R}, 6);
         return c;
       }},
      // docs/MODEL.md section 5.
      {"gemma-2b", [] { return GemmaShape("gemma-2b", 256000, 2048, 8, 1, 256, 16384, 18); }},
      {"gemma-7b", [] { return GemmaShape("gemma-7b", 256000, 3072, 16, 16, 256, 24576, 28); }},
      {"tiny-gemma", [] { return GemmaShape("tiny-gemma", 384, 96, 4, 1, 24, 192, 3); }},
      // The ablation family between the two (more through overrides, see ApplyOverride).
      {"griffin-2b-global",
       [] {
         ModelConfig c =
             GriffinShape("griffin-2b-global", 256000, 2560, 2560, 10, 256, 7680, 26, 0);
         return c;
       }},
      {"local-transformer-2b",
       [] {
         ModelConfig c = GemmaShape("local-transformer-2b", 256000, 2048, 8, 1, 256, 16384, 18);
         c.attention_window = 2048;
         return c;
       }},
  };
  return *presets;
}

void Require(bool ok, const ModelConfig& c, const std::string& what) {
  if (!ok) throw std::invalid_argument(fmt::format("model config '{}': {}", c.name, what));
}

}  // namespace

int64_t ModelConfig::CountBlocks(BlockType type) const {
  int64_t n = 0;
  for (BlockType b : blocks) n += b == type;
  return n;
}

std::vector<BlockType> RepeatPattern(const std::vector<BlockType>& pattern, int64_t num_layers) {
  if (pattern.empty()) throw std::invalid_argument("block pattern is empty");
  if (num_layers < 1 || num_layers > kMaxLayers) {
    throw std::invalid_argument(
        fmt::format("{} layers: a model has 1 to {} layers", num_layers, kMaxLayers));
  }
  std::vector<BlockType> blocks;
  for (int64_t i = 0; i < num_layers; ++i) blocks.push_back(pattern[i % pattern.size()]);
  return blocks;
}

ModelConfig PresetConfig(std::string_view name) {
  const auto& presets = Presets();
  const auto it = presets.find(name);
  if (it == presets.end()) {
    throw std::invalid_argument(
        fmt::format("unknown model preset '{}' (known: {})", name, fmt::join(PresetNames(), ", ")));
  }
  ModelConfig c = it->second();
  ValidateConfig(c);
  return c;
}

namespace {
int64_t ParseInt(std::string_view key, std::string_view value) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size()) {
    throw std::invalid_argument(fmt::format("override '{}': '{}' is not an integer", key, value));
  }
  return v;
}
double ParseDouble(std::string_view key, std::string_view value) {
  try {
    size_t used = 0;
    const double v = std::stod(std::string(value), &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(fmt::format("override '{}': '{}' is not a number", key, value));
}
}  // namespace

std::vector<std::string> OverrideKeys() {
  return {"vocab_size", "width",         "lru_width", "heads",   "kv_heads",
          "head_dim",   "mlp_width",     "layers",    "pattern", "window",
          "conv_width", "rope_fraction", "rope_base", "soft_cap"};
}

void ApplyOverride(ModelConfig& c, std::string_view key, std::string_view value) {
  if (key == "vocab_size")
    c.vocab_size = ParseInt(key, value);
  else if (key == "width")
    c.width = ParseInt(key, value);
  else if (key == "lru_width")
    c.lru_width = ParseInt(key, value);
  else if (key == "heads")
    c.num_heads = ParseInt(key, value);
  else if (key == "kv_heads")
    c.num_kv_heads = ParseInt(key, value);
  else if (key == "head_dim")
    c.head_dim = ParseInt(key, value);
  else if (key == "mlp_width")
    c.mlp_width = ParseInt(key, value);
  else if (key == "window")
    c.attention_window = ParseInt(key, value);
  else if (key == "conv_width")
    c.conv_width = ParseInt(key, value);
  else if (key == "rope_fraction")
    c.rope_fraction = ParseDouble(key, value);
  else if (key == "rope_base")
    c.rope_base = ParseDouble(key, value);
  else if (key == "soft_cap")
    c.logit_soft_cap = ParseDouble(key, value);
  else if (key == "layers") {
    // Keep the block pattern: its shortest period, repeated to the new depth.
    const int64_t n = ParseInt(key, value);
    if (n <= 0 || n > kMaxLayers) {
      throw std::invalid_argument(
          fmt::format("override 'layers': {} must be in [1, {}]", n, kMaxLayers));
    }
    size_t period = 1;
    while (period < c.blocks.size()) {
      bool repeats = true;
      for (size_t i = period; i < c.blocks.size() && repeats; ++i)
        repeats = c.blocks[i] == c.blocks[i % period];
      if (repeats) break;
      ++period;
    }
    c.blocks = RepeatPattern({c.blocks.begin(), c.blocks.begin() + period}, n);
  } else if (key == "pattern") {
    std::vector<BlockType> pattern;
    for (char ch : value) {
      if (ch == 'R' || ch == 'r')
        pattern.push_back(BlockType::kRecurrent);
      else if (ch == 'A' || ch == 'a')
        pattern.push_back(BlockType::kAttention);
      else
        throw std::invalid_argument(fmt::format(
            "override 'pattern': '{}' must be letters R (recurrent) and A (attention)", value));
    }
    if (pattern.empty()) throw std::invalid_argument("override 'pattern' is empty");
    c.blocks = RepeatPattern(pattern, c.num_layers());
  } else {
    throw std::invalid_argument(fmt::format("unknown model override '{}' (known: {})", key,
                                            fmt::join(OverrideKeys(), ", ")));
  }
}

ModelConfig PresetWithOverrides(std::string_view spec) {
  const size_t comma = spec.find(',');
  ModelConfig c = PresetConfig(spec.substr(0, comma));
  std::string_view rest = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(',');
    const std::string_view item = rest.substr(0, next);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("override '{}' must be key=value", item));
    }
    ApplyOverride(c, item.substr(0, eq), item.substr(eq + 1));
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
  }
  c.name = std::string(spec);
  ValidateConfig(c);
  return c;
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const auto& [name, _] : Presets()) names.push_back(name);
  return names;
}

void ValidateConfig(const ModelConfig& c) {
  Require(c.vocab_size > 0, c, fmt::format("vocab_size must be positive, got {}", c.vocab_size));
  Require(c.width > 0, c, fmt::format("width must be positive, got {}", c.width));
  Require(!c.blocks.empty(), c, "the model has no blocks");
  Require(c.mlp_width > 0, c, fmt::format("mlp_width must be positive, got {}", c.mlp_width));
  Require(c.rms_eps > 0, c, fmt::format("rms_eps must be positive, got {}", c.rms_eps));
  Require(c.logit_soft_cap >= 0, c,
          fmt::format("logit_soft_cap must be >= 0 (0 = off), got {}", c.logit_soft_cap));
  const bool has_attention = c.CountBlocks(BlockType::kAttention) > 0;
  const bool has_recurrent = c.CountBlocks(BlockType::kRecurrent) > 0;
  Require(c.family == ModelFamily::kGriffin || !has_recurrent, c,
          "a transformer-family model cannot contain recurrent blocks");
  if (has_attention || c.family == ModelFamily::kGriffin) {
    Require(c.num_heads > 0, c, fmt::format("num_heads must be positive, got {}", c.num_heads));
    Require(c.head_dim > 0 && c.head_dim % 2 == 0, c,
            fmt::format("head_dim must be positive and even, got {}", c.head_dim));
  }
  if (has_attention) {
    Require(
        c.num_kv_heads > 0 && c.num_heads % c.num_kv_heads == 0, c,
        fmt::format("num_kv_heads ({}) must divide num_heads ({})", c.num_kv_heads, c.num_heads));
    Require(c.attention_window >= 0, c,
            fmt::format("attention_window must be >= 0 (0 = global), got {}", c.attention_window));
    Require(c.rope_fraction > 0 && c.rope_fraction <= 1, c,
            fmt::format("rope_fraction must be in (0, 1], got {}", c.rope_fraction));
    const double rope_dim = c.head_dim * c.rope_fraction;
    Require(rope_dim == static_cast<double>(static_cast<int64_t>(rope_dim)) &&
                static_cast<int64_t>(rope_dim) % 2 == 0,
            c, fmt::format("head_dim * rope_fraction = {} must be an even integer", rope_dim));
    Require(c.rope_base > 0, c, fmt::format("rope_base must be positive, got {}", c.rope_base));
  }
  if (has_recurrent) {
    Require(c.lru_width > 0, c, fmt::format("lru_width must be positive, got {}", c.lru_width));
    Require(c.lru_width % c.num_heads == 0, c,
            fmt::format("num_heads ({}) must divide lru_width ({}) for the block-diagonal gates",
                        c.num_heads, c.lru_width));
    Require(c.conv_width >= 1 && c.conv_width <= 4, c,
            fmt::format("conv_width must be in [1, 4], got {}", c.conv_width));
  }
  if (c.family == ModelFamily::kGriffin && has_attention) {
    Require(c.num_heads * c.head_dim == c.width, c,
            fmt::format("Griffin attention needs num_heads * head_dim == width ({} * {} != {})",
                        c.num_heads, c.head_dim, c.width));
  }
}

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kBFloat16:
      return "bfloat16";
    case DType::kFloat16:
      return "float16";
  }
  return "?";
}

DType ParseDType(std::string_view name) {
  if (name == "float32" || name == "fp32") return DType::kFloat32;
  if (name == "bfloat16" || name == "bf16") return DType::kBFloat16;
  if (name == "float16" || name == "fp16") return DType::kFloat16;
  throw std::invalid_argument(
      fmt::format("unknown dtype '{}' (choices: float32, bfloat16, float16)", name));
}

std::string_view BlockTypeName(BlockType type) {
  return type == BlockType::kRecurrent ? "recurrent" : "attention";
}

std::string_view FamilyName(ModelFamily family) {
  return family == ModelFamily::kGriffin ? "griffin" : "transformer";
}

int64_t CountParameters(const ModelConfig& c) {
  const int64_t D = c.width, L = c.lru_width, M = c.mlp_width, hd = c.head_dim;
  const int64_t bias = c.block_biases ? 1 : 0;
  int64_t n = c.vocab_size * D + D;  // tied embedding, final norm
  for (BlockType b : c.blocks) {
    n += 2 * D;                                        // two RMSNorm scales
    n += 2 * D * M + 2 * M * bias + M * D + D * bias;  // GeGLU MLP
    if (b == BlockType::kRecurrent) {
      const int64_t block = L / c.num_heads;
      n += 2 * (D * L + L) + (L * D + D);              // linear_y, linear_x, linear_out
      n += c.conv_width * L + L;                       // conv
      n += L + 2 * (c.num_heads * block * block + L);  // a_param, two gates
    } else {
      n += D * c.num_heads * hd + 2 * D * c.num_kv_heads * hd;  // q, k, v
      n += c.num_heads * hd * D + D * bias;                     // output projection
    }
  }
  return n;
}

}  // namespace griffin
