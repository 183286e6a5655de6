#include "core/model/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <stdexcept>
#include <variant>

namespace griffin {
namespace {

constexpr BlockType R = BlockType::kRecurrent;
constexpr BlockType A = BlockType::kAttention;

// The dimensions a Griffin preset names; everything else is RecurrentGemma's (GriffinShape).
struct GriffinDims {
  int64_t vocab = 0, width = 0, lru_width = 0, heads = 0, head_dim = 0, mlp_width = 0, layers = 0;
  int64_t window = 0;  // local attention window; 0 = global
};

ModelConfig GriffinShape(std::string name, const GriffinDims& d) {
  ModelConfig c;
  c.name = std::move(name);
  c.family = ModelFamily::kGriffin;
  c.vocab_size = d.vocab;
  c.width = d.width;
  c.lru_width = d.lru_width;
  c.num_heads = d.heads;
  c.num_kv_heads = 1;
  c.head_dim = d.head_dim;
  c.mlp_width = d.mlp_width;
  c.blocks = RepeatPattern({R, R, A}, d.layers);
  c.attention_window = d.window;
  c.conv_width = 4;
  c.rope_fraction = 0.5;
  c.logit_soft_cap = 30.0;
  c.embed_scale_in_bf16 = true;
  c.block_biases = true;
  return c;
}

// The dimensions a Gemma preset names; everything else is Gemma-1's (GemmaShape).
struct GemmaDims {
  int64_t vocab = 0, width = 0, heads = 0, kv_heads = 0, head_dim = 0, mlp_width = 0, layers = 0;
};

ModelConfig GemmaShape(std::string name, const GemmaDims& d) {
  ModelConfig c;
  c.name = std::move(name);
  c.family = ModelFamily::kTransformer;
  c.vocab_size = d.vocab;
  c.width = d.width;
  c.lru_width = 0;
  c.num_heads = d.heads;
  c.num_kv_heads = d.kv_heads;
  c.head_dim = d.head_dim;
  c.mlp_width = d.mlp_width;
  c.blocks = RepeatPattern({A}, d.layers);
  c.attention_window = 0;
  c.rope_fraction = 1.0;
  c.logit_soft_cap = 0.0;
  c.embed_scale_in_bf16 = false;
  c.block_biases = false;
  return c;
}

constexpr GriffinDims kRecurrentGemma2B = {.vocab = 256000,
                                           .width = 2560,
                                           .lru_width = 2560,
                                           .heads = 10,
                                           .head_dim = 256,
                                           .mlp_width = 7680,
                                           .layers = 26,
                                           .window = 2048};
constexpr GriffinDims kTinyGriffin = {.vocab = 384,
                                      .width = 96,
                                      .lru_width = 128,
                                      .heads = 4,
                                      .head_dim = 24,
                                      .mlp_width = 144,
                                      .layers = 6,
                                      .window = 12};
constexpr GemmaDims kGemma2B = {.vocab = 256000,
                                .width = 2048,
                                .heads = 8,
                                .kv_heads = 1,
                                .head_dim = 256,
                                .mlp_width = 16384,
                                .layers = 18};

// `dims` with the attention window replaced.
constexpr GriffinDims WithWindow(GriffinDims dims, int64_t window) {
  dims.window = window;
  return dims;
}

const std::map<std::string, std::function<ModelConfig()>, std::less<>>& Presets() {
  static const auto* presets = new std::map<std::string, std::function<ModelConfig()>, std::less<>>{
      // docs/MODEL.md section 5.
      {"recurrentgemma-2b", [] { return GriffinShape("recurrentgemma-2b", kRecurrentGemma2B); }},
      {"recurrentgemma-9b",
       [] {
         return GriffinShape("recurrentgemma-9b", {.vocab = 256000,
                                                   .width = 4096,
                                                   .lru_width = 4096,
                                                   .heads = 16,
                                                   .head_dim = 256,
                                                   .mlp_width = 12288,
                                                   .layers = 38,
                                                   .window = 2048});
       }},
      // The Griffin paper's 7B preset: window 1024, head_dim 128, no input scaling or soft-cap.
      {"griffin-paper-7b",
       [] {
         ModelConfig c = GriffinShape("griffin-paper-7b", {.vocab = 256000,
                                                           .width = 4096,
                                                           .lru_width = 5632,
                                                           .heads = 32,
                                                           .head_dim = 128,
                                                           .mlp_width = 12288,
                                                           .layers = 32,
                                                           .window = 1024});
         c.logit_soft_cap = 0.0;
         return c;
       }},
      // Hawk: the same 2B shapes with every block recurrent.
      {"hawk-2b",
       [] {
         ModelConfig c = GriffinShape("hawk-2b", WithWindow(kRecurrentGemma2B, 0));
         c.blocks = RepeatPattern({R}, kRecurrentGemma2B.layers);
         return c;
       }},
      // Tiny sizes for tests and the CPU quickstart; tiny-griffin matches the shared fixture.
      {"tiny-griffin", [] { return GriffinShape("tiny-griffin", kTinyGriffin); }},
      {"tiny-hawk",
       [] {
         ModelConfig c = GriffinShape("tiny-hawk", WithWindow(kTinyGriffin, 0));
         c.blocks = RepeatPattern({R}, kTinyGriffin.layers);
         return c;
       }},
      // docs/MODEL.md section 5.
      {"gemma-2b", [] { return GemmaShape("gemma-2b", kGemma2B); }},
      {"gemma-7b",
       [] {
         return GemmaShape("gemma-7b", {.vocab = 256000,
                                        .width = 3072,
                                        .heads = 16,
                                        .kv_heads = 16,
                                        .head_dim = 256,
                                        .mlp_width = 24576,
                                        .layers = 28});
       }},
      {"tiny-gemma",
       [] {
         return GemmaShape("tiny-gemma", {.vocab = 384,
                                          .width = 96,
                                          .heads = 4,
                                          .kv_heads = 1,
                                          .head_dim = 24,
                                          .mlp_width = 192,
                                          .layers = 3});
       }},
      // The ablation family between the two (more through overrides, see ApplyOverride).
      {"griffin-2b-global",
       [] { return GriffinShape("griffin-2b-global", WithWindow(kRecurrentGemma2B, 0)); }},
      {"local-transformer-2b",
       [] {
         ModelConfig c = GemmaShape("local-transformer-2b", kGemma2B);
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

namespace {

// "layers": keeps the block pattern, its shortest period repeated to the new depth.
void SetLayers(ModelConfig& c, std::string_view value) {
  const int64_t n = ParseInt("layers", value);
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
}

// "pattern": letters R (recurrent) and A (attention), repeated to the current depth.
void SetPattern(ModelConfig& c, std::string_view value) {
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
}

// One entry per override key: the field it sets (an integer, a number, or a setter for the keys
// that reshape the block list). OverrideKeys and ApplyOverride both read this list, so a key is
// written once.
struct OverrideField {
  std::string_view key;
  std::variant<int64_t ModelConfig::*, double ModelConfig::*,
               void (*)(ModelConfig&, std::string_view)>
      target;
};

constexpr std::array<OverrideField, 14> kOverrideFields = {{
    {"vocab_size", &ModelConfig::vocab_size},
    {"width", &ModelConfig::width},
    {"lru_width", &ModelConfig::lru_width},
    {"heads", &ModelConfig::num_heads},
    {"kv_heads", &ModelConfig::num_kv_heads},
    {"head_dim", &ModelConfig::head_dim},
    {"mlp_width", &ModelConfig::mlp_width},
    {"layers", &SetLayers},
    {"pattern", &SetPattern},
    {"window", &ModelConfig::attention_window},
    {"conv_width", &ModelConfig::conv_width},
    {"rope_fraction", &ModelConfig::rope_fraction},
    {"rope_base", &ModelConfig::rope_base},
    {"soft_cap", &ModelConfig::logit_soft_cap},
}};

// Lets std::visit take one lambda per alternative.
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;  // clang 14 deduces no aggregate's template arguments

}  // namespace

std::vector<std::string> OverrideKeys() {
  std::vector<std::string> keys;
  for (const OverrideField& f : kOverrideFields) keys.emplace_back(f.key);
  return keys;
}

void ApplyOverride(ModelConfig& c, std::string_view key, std::string_view value) {
  const auto* field = std::find_if(kOverrideFields.begin(), kOverrideFields.end(),
                                   [&](const OverrideField& f) { return f.key == key; });
  if (field == kOverrideFields.end()) {
    throw std::invalid_argument(fmt::format("unknown model override '{}' (known: {})", key,
                                            fmt::join(OverrideKeys(), ", ")));
  }
  std::visit(Overloaded{[&](int64_t ModelConfig::*m) { c.*m = ParseInt(key, value); },
                        [&](double ModelConfig::*m) { c.*m = ParseDouble(key, value); },
                        [&](void (*set)(ModelConfig&, std::string_view)) { set(c, value); }},
             field->target);
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
