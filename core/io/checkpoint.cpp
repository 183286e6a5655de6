#include "core/io/checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "core/io/paths.h"
#include "core/io/safetensors.h"
#include "core/model/hf_config.h"

namespace griffin {
namespace {

using Producer = std::function<at::Tensor()>;
using StoredTensor = std::pair<std::shared_ptr<const SafetensorsFile>, std::string>;

Producer Direct(const StoredTensor& s) {
  return [s] { return s.first->Tensor(s.second); };
}

// The DeepMind recurrentgemma torch naming (docs/MODEL.md section 6) mapped to HF names
// and layouts. Returns false when `name` is not a DeepMind name.
bool MapDeepMindName(const std::string& name, const StoredTensor& s,
                     std::map<std::string, Producer>* out) {
  static const std::regex block_re(R"(blocks\.(\d+)\.(.+))");
  static const std::map<std::string, std::string> renames = {
      {"temporal_pre_norm.scale", "temporal_pre_norm.weight"},
      {"channel_pre_norm.scale", "channel_pre_norm.weight"},
      {"recurrent_block.linear_y.weight", "temporal_block.linear_y.weight"},
      {"recurrent_block.linear_y.bias", "temporal_block.linear_y.bias"},
      {"recurrent_block.linear_x.weight", "temporal_block.linear_x.weight"},
      {"recurrent_block.linear_x.bias", "temporal_block.linear_x.bias"},
      {"recurrent_block.linear_out.weight", "temporal_block.linear_out.weight"},
      {"recurrent_block.linear_out.bias", "temporal_block.linear_out.bias"},
      {"recurrent_block.conv_1d.b", "temporal_block.conv_1d.bias"},
      {"recurrent_block.rg_lru.a_param", "temporal_block.rg_lru.recurrent_param"},
      {"recurrent_block.rg_lru.input_gate.w", "temporal_block.rg_lru.input_gate_weight"},
      {"recurrent_block.rg_lru.input_gate.b", "temporal_block.rg_lru.input_gate_bias"},
      {"recurrent_block.rg_lru.a_gate.w", "temporal_block.rg_lru.recurrent_gate_weight"},
      {"recurrent_block.rg_lru.a_gate.b", "temporal_block.rg_lru.recurrent_gate_bias"},
      {"attention_block.proj_q.weight", "temporal_block.q_proj.weight"},
      {"attention_block.proj_k.weight", "temporal_block.k_proj.weight"},
      {"attention_block.proj_v.weight", "temporal_block.v_proj.weight"},
      {"attention_block.proj_final.weight", "temporal_block.o_proj.weight"},
      {"attention_block.proj_final.bias", "temporal_block.o_proj.bias"},
      {"mlp_block.ffw_down.weight", "mlp_block.down_proj.weight"},
      {"mlp_block.ffw_down.bias", "mlp_block.down_proj.bias"},
  };
  if (name == "embedder.input_embedding") {
    (*out)["model.embed_tokens.weight"] = Direct(s);
    return true;
  }
  if (name == "final_norm.scale") {
    (*out)["model.final_norm.weight"] = Direct(s);
    return true;
  }
  std::smatch m;
  if (!std::regex_match(name, m, block_re)) return false;
  const std::string prefix = fmt::format("model.layers.{}.", m[1].str());
  const std::string rest = m[2].str();
  if (const auto it = renames.find(rest); it != renames.end()) {
    (*out)[prefix + it->second] = Direct(s);
    return true;
  }
  if (rest == "recurrent_block.conv_1d.w") {  // [W, L] -> HF Conv1d weight [L, 1, W]
    (*out)[prefix + "temporal_block.conv_1d.weight"] = [s] {
      return s.first->Tensor(s.second).t().unsqueeze(1).contiguous();
    };
    return true;
  }
  if (rest == "mlp_block.ffw_up.w") {  // [2, D, M]: [0] feeds the GeLU gate, [1] the linear branch
    (*out)[prefix + "mlp_block.gate_proj.weight"] = [s] {
      return s.first->Tensor(s.second).select(0, 0).t().contiguous();
    };
    (*out)[prefix + "mlp_block.up_proj.weight"] = [s] {
      return s.first->Tensor(s.second).select(0, 1).t().contiguous();
    };
    return true;
  }
  if (rest == "mlp_block.ffw_up.b") {  // [2, 1, 1, M]
    (*out)[prefix + "mlp_block.gate_proj.bias"] = [s] {
      return s.first->Tensor(s.second).reshape({2, -1}).select(0, 0).contiguous();
    };
    (*out)[prefix + "mlp_block.up_proj.bias"] = [s] {
      return s.first->Tensor(s.second).reshape({2, -1}).select(0, 1).contiguous();
    };
    return true;
  }
  return false;
}

// The official gemma_pytorch naming: a fused [(H + 2 KV) * hd, D] qkv projection (split q, k, v)
// and `embedder.weight`. Returns false when `name` is not one of those.
bool MapGemmaPytorchName(const std::string& name, const StoredTensor& s, const ModelConfig& c,
                         std::map<std::string, Producer>* out) {
  static const std::regex qkv_re(R"(model\.layers\.(\d+)\.self_attn\.qkv_proj\.weight)");
  if (name == "embedder.weight") {
    (*out)["model.embed_tokens.weight"] = Direct(s);
    return true;
  }
  std::smatch m;
  if (c.family != ModelFamily::kTransformer || !std::regex_match(name, m, qkv_re)) return false;
  const std::string prefix = fmt::format("model.layers.{}.self_attn.", m[1].str());
  const int64_t q_rows = c.num_heads * c.head_dim, kv_rows = c.num_kv_heads * c.head_dim;
  const std::array<std::pair<const char*, std::pair<int64_t, int64_t>>, 3> parts = {
      {{"q_proj.weight", {0, q_rows}},
       {"k_proj.weight", {q_rows, kv_rows}},
       {"v_proj.weight", {q_rows + kv_rows, kv_rows}}}};
  for (const auto& [suffix, range] : parts) {
    // Plain copies, not structured bindings: clang before 16 cannot capture those (the fuzz
    // build, tests/fuzz/, uses clang).
    const int64_t start = range.first, rows = range.second;
    (*out)[prefix + suffix] = [s, start, rows, name] {
      const at::Tensor fused = s.first->Tensor(s.second);
      TORCH_CHECK(fused.dim() == 2 && fused.size(0) >= start + rows, s.first->path(), ": tensor '",
                  name, "' has shape ", fused.sizes(), ", too small for the config's q/k/v");
      return fused.narrow(0, start, rows);
    };
  }
  return true;
}

std::vector<std::string> ShardPaths(const std::string& dir) {
  const std::string single = paths::Join(dir, "model.safetensors");
  const std::string index = paths::Join(dir, "model.safetensors.index.json");
  if (paths::Exists(single)) return {single};
  if (!paths::Exists(index)) {
    throw std::runtime_error(fmt::format(
        "{}: neither model.safetensors nor model.safetensors.index.json is there", dir));
  }
  std::ifstream in(index);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", index, e.what()));
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
    throw std::runtime_error(fmt::format("{}: missing object 'weight_map'", index));
  }
  std::set<std::string> files;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string()) {
      throw std::runtime_error(
          fmt::format("{}: weight_map['{}'] is not a file name", index, tensor));
    }
    const std::string f = file.get<std::string>();
    if (f.find('/') != std::string::npos || f == "..") {
      throw std::runtime_error(fmt::format("{}: shard name '{}' leaves the folder", index, f));
    }
    files.insert(f);
  }
  std::vector<std::string> shards;
  for (const std::string& f : files) shards.push_back(paths::Join(dir, f));
  return shards;
}

}  // namespace

Checkpoint Checkpoint::Open(const std::string& dir) {
  if (!paths::IsDirectory(dir)) {
    throw std::runtime_error(fmt::format("{}: not a checkpoint folder", dir));
  }
  Checkpoint ck;
  ck.dir_ = dir;
  ck.config_ = ConfigFromHfJson(paths::Join(dir, "config.json"));
  ck.config_.name = paths::BaseName(dir);
  std::map<std::string, std::string> where;  // stored name -> file, to catch cross-shard duplicates
  for (const std::string& p : ShardPaths(dir)) {
    auto file = SafetensorsFile::Open(p);
    ck.files_.push_back(file);
    for (const auto& [name, _] : file->entries()) {
      if (const auto it = where.find(name); it != where.end()) {
        throw std::runtime_error(
            fmt::format("{}: tensor '{}' is stored in both {} and {}", dir, name, it->second, p));
      }
      where[name] = p;
      const StoredTensor s{file, name};
      if (MapDeepMindName(name, s, &ck.tensors_)) {
        ck.deepmind_naming_ = true;
      } else if (MapGemmaPytorchName(name, s, ck.config_, &ck.tensors_)) {
        ck.deepmind_naming_ = true;
      } else {
        ck.tensors_[name] = Direct(s);
      }
    }
  }
  // Tied output embedding: lm_head may be absent, or stored as a copy of the embedding.
  if (!ck.tensors_.count("lm_head.weight") && ck.tensors_.count("model.embed_tokens.weight")) {
    ck.tensors_["lm_head.weight"] = ck.tensors_["model.embed_tokens.weight"];
  }
  return ck;
}

std::vector<std::string> Checkpoint::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : tensors_) names.push_back(name);
  return names;
}

at::Tensor Checkpoint::Get(const std::string& hf_name) const {
  const auto it = tensors_.find(hf_name);
  if (it == tensors_.end()) {
    throw std::runtime_error(fmt::format("{}: checkpoint has no tensor '{}'{}", dir_, hf_name,
                                         deepmind_naming_ ? " (DeepMind naming, mapped)" : ""));
  }
  return it->second();
}

}  // namespace griffin
