#include "core/model/hf_config.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace griffin {
namespace {

class JsonReader {
 public:
  JsonReader(std::string path, const nlohmann::json& j) : path_(std::move(path)), j_(j) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {}", path_, what));
  }
  bool Has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  int64_t Int(const char* key) const {
    if (!Has(key)) Fail(fmt::format("missing key '{}'", key));
    if (!j_[key].is_number_integer())
      Fail(fmt::format("'{}' must be an integer, got {}", key, j_[key].dump()));
    return j_[key].get<int64_t>();
  }
  int64_t Int(const char* key, int64_t fallback) const { return Has(key) ? Int(key) : fallback; }
  double Number(const char* key) const {
    if (!Has(key)) Fail(fmt::format("missing key '{}'", key));
    if (!j_[key].is_number())
      Fail(fmt::format("'{}' must be a number, got {}", key, j_[key].dump()));
    return j_[key].get<double>();
  }
  double Number(const char* key, double fallback) const {
    return Has(key) ? Number(key) : fallback;
  }
  std::string String(const char* key) const {
    if (!Has(key)) Fail(fmt::format("missing key '{}'", key));
    if (!j_[key].is_string())
      Fail(fmt::format("'{}' must be a string, got {}", key, j_[key].dump()));
    return j_[key].get<std::string>();
  }
  // rope settings moved into `rope_parameters` in recent transformers; accept both places.
  double Rope(const char* key, double fallback) const {
    if (Has("rope_parameters") && j_["rope_parameters"].is_object() &&
        j_["rope_parameters"].contains(key)) {
      return JsonReader(path_, j_["rope_parameters"]).Number(key);
    }
    return Number(key, fallback);
  }
  const nlohmann::json& Raw(const char* key) const { return j_[key]; }

 private:
  std::string path_;
  const nlohmann::json& j_;
};

DType DTypeFromJson(const JsonReader& r) {
  const char* key = r.Has("dtype") ? "dtype" : (r.Has("torch_dtype") ? "torch_dtype" : nullptr);
  if (key == nullptr) return DType::kFloat32;
  const std::string name = r.String(key);
  try {
    return ParseDType(name);
  } catch (const std::invalid_argument&) {
    r.Fail(fmt::format("'{}' = '{}' is not float32, bfloat16 or float16", key, name));
  }
}

}  // namespace

ModelConfig ConfigFromHfJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  if (!j.is_object()) throw std::runtime_error(fmt::format("{}: not a JSON object", path));
  const JsonReader r(path, j);
  const std::string model_type = r.String("model_type");

  ModelConfig c;
  c.name = path;
  c.vocab_size = r.Int("vocab_size");
  c.width = r.Int("hidden_size");
  c.num_heads = r.Int("num_attention_heads");
  c.num_kv_heads = r.Int("num_key_value_heads", c.num_heads);
  c.head_dim = r.Int("head_dim", c.num_heads > 0 ? c.width / c.num_heads : 0);
  c.rms_eps = r.Number("rms_norm_eps", 1e-6);
  c.rope_base = r.Rope("rope_theta", 10000.0);
  c.dtype = DTypeFromJson(r);
  const int64_t layers = r.Int("num_hidden_layers");

  if (model_type == "recurrent_gemma") {
    c.family = ModelFamily::kGriffin;
    c.lru_width = r.Int("lru_width", c.width);
    // HF stores both GeGLU branches in intermediate_size (docs/MODEL.md section 2).
    const int64_t intermediate = r.Int("intermediate_size");
    if (intermediate % 2 != 0)
      r.Fail(fmt::format("'intermediate_size' = {} must be even (2 x MLP width)", intermediate));
    c.mlp_width = intermediate / 2;
    c.attention_window = r.Int("attention_window_size");
    c.conv_width = r.Int("conv1d_width", 4);
    c.rope_fraction = r.Rope("partial_rotary_factor", 0.5);
    c.logit_soft_cap = r.Number("logits_soft_cap", 30.0);
    c.embed_scale_in_bf16 = true;
    c.block_biases = true;
    if (!r.Has("block_types") || !r.Raw("block_types").is_array() || r.Raw("block_types").empty()) {
      r.Fail("'block_types' must be a non-empty list of \"recurrent\" / \"attention\"");
    }
    std::vector<BlockType> pattern;
    for (const auto& b : r.Raw("block_types")) {
      const std::string name = b.is_string() ? b.get<std::string>() : b.dump();
      if (name == "recurrent") {
        pattern.push_back(BlockType::kRecurrent);
      } else if (name == "attention") {
        pattern.push_back(BlockType::kAttention);
      } else {
        r.Fail(
            fmt::format("'block_types' entry {} is neither \"recurrent\" nor \"attention\"", name));
      }
    }
    c.blocks = RepeatPattern(pattern, layers);
  } else if (model_type == "gemma") {
    c.family = ModelFamily::kTransformer;
    c.lru_width = 0;
    c.mlp_width = r.Int("intermediate_size");
    c.attention_window = 0;
    c.rope_fraction = 1.0;
    c.logit_soft_cap = 0.0;
    c.embed_scale_in_bf16 = false;
    c.block_biases = false;
    c.blocks = RepeatPattern({BlockType::kAttention}, layers);
  } else {
    r.Fail(fmt::format("model_type '{}' is not supported (recurrent_gemma, gemma)", model_type));
  }
  try {
    ValidateConfig(c);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return c;
}

}  // namespace griffin
