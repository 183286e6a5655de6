#include "core/model/weights.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <stdexcept>

#include "core/io/checkpoint.h"
#include "core/model/dtype.h"

namespace griffin {
namespace {

std::string Layer(int64_t i, const char* rest) {
  return fmt::format("model.layers.{}.{}", i, rest);
}

using Init = WeightSpec::Init;

}  // namespace

ModelWeights AssembleWeights(const ModelConfig& c, const std::map<std::string, at::Tensor>& t) {
  auto take = [&](const std::string& name) -> at::Tensor {
    const auto it = t.find(name);
    return it == t.end() ? at::Tensor() : it->second;
  };
  const bool griffin = c.family == ModelFamily::kGriffin;
  ModelWeights w;
  w.embed = take("model.embed_tokens.weight");
  w.final_norm = take(griffin ? "model.final_norm.weight" : "model.norm.weight");
  for (int64_t i = 0; i < c.num_layers(); ++i) {
    BlockWeights b;
    b.type = c.blocks[i];
    if (griffin) {
      b.temporal_norm = take(Layer(i, "temporal_pre_norm.weight"));
      b.channel_norm = take(Layer(i, "channel_pre_norm.weight"));
      b.mlp = {
          take(Layer(i, "mlp_block.gate_proj.weight")), take(Layer(i, "mlp_block.gate_proj.bias")),
          take(Layer(i, "mlp_block.up_proj.weight")),   take(Layer(i, "mlp_block.up_proj.bias")),
          take(Layer(i, "mlp_block.down_proj.weight")), take(Layer(i, "mlp_block.down_proj.bias"))};
      if (b.type == BlockType::kRecurrent) {
        RecurrentWeights& r = b.recurrent;
        r.linear_y_w = take(Layer(i, "temporal_block.linear_y.weight"));
        r.linear_y_b = take(Layer(i, "temporal_block.linear_y.bias"));
        r.linear_x_w = take(Layer(i, "temporal_block.linear_x.weight"));
        r.linear_x_b = take(Layer(i, "temporal_block.linear_x.bias"));
        r.linear_out_w = take(Layer(i, "temporal_block.linear_out.weight"));
        r.linear_out_b = take(Layer(i, "temporal_block.linear_out.bias"));
        // HF Conv1d weight [L, 1, W] -> [W, L], the reference's layout.
        r.conv_w = take(Layer(i, "temporal_block.conv_1d.weight")).squeeze(1).t().contiguous();
        r.conv_b = take(Layer(i, "temporal_block.conv_1d.bias"));
        r.a_param = take(Layer(i, "temporal_block.rg_lru.recurrent_param"));
        r.input_gate_w = take(Layer(i, "temporal_block.rg_lru.input_gate_weight"));
        r.input_gate_b = take(Layer(i, "temporal_block.rg_lru.input_gate_bias"));
        r.a_gate_w = take(Layer(i, "temporal_block.rg_lru.recurrent_gate_weight"));
        r.a_gate_b = take(Layer(i, "temporal_block.rg_lru.recurrent_gate_bias"));
      } else {
        b.attention = {take(Layer(i, "temporal_block.q_proj.weight")),
                       take(Layer(i, "temporal_block.k_proj.weight")),
                       take(Layer(i, "temporal_block.v_proj.weight")),
                       take(Layer(i, "temporal_block.o_proj.weight")),
                       take(Layer(i, "temporal_block.o_proj.bias"))};
      }
    } else {
      b.temporal_norm = take(Layer(i, "input_layernorm.weight"));
      b.channel_norm = take(Layer(i, "post_attention_layernorm.weight"));
      b.attention = {take(Layer(i, "self_attn.q_proj.weight")),
                     take(Layer(i, "self_attn.k_proj.weight")),
                     take(Layer(i, "self_attn.v_proj.weight")),
                     take(Layer(i, "self_attn.o_proj.weight")), at::Tensor()};
      b.mlp = {take(Layer(i, "mlp.gate_proj.weight")), at::Tensor(),
               take(Layer(i, "mlp.up_proj.weight")),   at::Tensor(),
               take(Layer(i, "mlp.down_proj.weight")), at::Tensor()};
    }
    w.blocks.push_back(std::move(b));
  }
  return w;
}

int64_t ModelWeights::Bytes() const {
  int64_t n = 0;
  auto add = [&](const at::Tensor& t) {
    if (t.defined()) n += t.nbytes();
  };
  add(embed);
  add(final_norm);
  for (const BlockWeights& b : blocks) {
    for (const at::Tensor* t : {&b.temporal_norm,
                                &b.channel_norm,
                                &b.recurrent.linear_y_w,
                                &b.recurrent.linear_y_b,
                                &b.recurrent.linear_x_w,
                                &b.recurrent.linear_x_b,
                                &b.recurrent.linear_out_w,
                                &b.recurrent.linear_out_b,
                                &b.recurrent.conv_w,
                                &b.recurrent.conv_b,
                                &b.recurrent.a_param,
                                &b.recurrent.input_gate_w,
                                &b.recurrent.input_gate_b,
                                &b.recurrent.a_gate_w,
                                &b.recurrent.a_gate_b,
                                &b.attention.q_w,
                                &b.attention.k_w,
                                &b.attention.v_w,
                                &b.attention.o_w,
                                &b.attention.o_b,
                                &b.mlp.gate_w,
                                &b.mlp.gate_b,
                                &b.mlp.up_w,
                                &b.mlp.up_b,
                                &b.mlp.down_w,
                                &b.mlp.down_b}) {
      add(*t);
    }
  }
  return n;
}

namespace {
// One tensor of `parts` concatenated along dim 0, each part rebound to its view of it; undefined
// when a part is (biases of a model without them).
at::Tensor Pack(std::initializer_list<at::Tensor*> parts) {
  std::vector<at::Tensor> tensors;
  for (const at::Tensor* p : parts) {
    if (!p->defined()) return at::Tensor();
    tensors.push_back(*p);
  }
  const at::Tensor packed = at::cat(tensors, 0);
  int64_t row = 0;
  for (at::Tensor* p : parts) {
    const int64_t rows = p->size(0);
    *p = packed.narrow(0, row, rows);
    row += rows;
  }
  return packed;
}
}  // namespace

void PackProjections(ModelWeights& weights) {
  for (BlockWeights& b : weights.blocks) {
    if (b.type == BlockType::kRecurrent) {
      RecurrentWeights& r = b.recurrent;
      r.linear_yx_w = Pack({&r.linear_y_w, &r.linear_x_w});
      r.linear_yx_b = Pack({&r.linear_y_b, &r.linear_x_b});
    } else {
      AttentionWeights& a = b.attention;
      a.qkv_w = Pack({&a.q_w, &a.k_w, &a.v_w});
    }
    b.mlp.gate_up_w = Pack({&b.mlp.gate_w, &b.mlp.up_w});
    b.mlp.gate_up_b = Pack({&b.mlp.gate_b, &b.mlp.up_b});
  }
}

std::vector<WeightSpec> WeightSpecs(const ModelConfig& c) {
  const int64_t D = c.width, L = c.lru_width, M = c.mlp_width, hd = c.head_dim;
  const int64_t H = c.num_heads, KV = c.num_kv_heads;
  std::vector<WeightSpec> s;
  s.push_back({"model.embed_tokens.weight", {c.vocab_size, D}});
  const bool griffin = c.family == ModelFamily::kGriffin;
  s.push_back({griffin ? "model.final_norm.weight" : "model.norm.weight", {D}, Init::kZero});
  for (int64_t i = 0; i < c.num_layers(); ++i) {
    auto add = [&](const char* rest, std::vector<int64_t> shape, Init init = Init::kNormal,
                   bool fp32 = false) {
      s.push_back({Layer(i, rest), std::move(shape), init, fp32});
    };
    if (!griffin) {
      add("input_layernorm.weight", {D}, Init::kZero);
      add("post_attention_layernorm.weight", {D}, Init::kZero);
      add("self_attn.q_proj.weight", {H * hd, D});
      add("self_attn.k_proj.weight", {KV * hd, D});
      add("self_attn.v_proj.weight", {KV * hd, D});
      add("self_attn.o_proj.weight", {D, H * hd});
      add("mlp.gate_proj.weight", {M, D});
      add("mlp.up_proj.weight", {M, D});
      add("mlp.down_proj.weight", {D, M});
      continue;
    }
    add("temporal_pre_norm.weight", {D}, Init::kZero);
    add("channel_pre_norm.weight", {D}, Init::kZero);
    add("mlp_block.gate_proj.weight", {M, D});
    add("mlp_block.gate_proj.bias", {M}, Init::kZero);
    add("mlp_block.up_proj.weight", {M, D});
    add("mlp_block.up_proj.bias", {M}, Init::kZero);
    add("mlp_block.down_proj.weight", {D, M});
    add("mlp_block.down_proj.bias", {D}, Init::kZero);
    if (c.blocks[i] == BlockType::kRecurrent) {
      const int64_t blk = L / H;
      add("temporal_block.linear_y.weight", {L, D});
      add("temporal_block.linear_y.bias", {L}, Init::kZero);
      add("temporal_block.linear_x.weight", {L, D});
      add("temporal_block.linear_x.bias", {L}, Init::kZero);
      add("temporal_block.linear_out.weight", {D, L});
      add("temporal_block.linear_out.bias", {D}, Init::kZero);
      add("temporal_block.conv_1d.weight", {L, 1, c.conv_width});
      add("temporal_block.conv_1d.bias", {L}, Init::kZero);
      add("temporal_block.rg_lru.recurrent_param", {L}, Init::kRglruA, true);
      add("temporal_block.rg_lru.input_gate_weight", {H, blk, blk}, Init::kNormal, true);
      add("temporal_block.rg_lru.input_gate_bias", {H, blk}, Init::kZero, true);
      add("temporal_block.rg_lru.recurrent_gate_weight", {H, blk, blk}, Init::kNormal, true);
      add("temporal_block.rg_lru.recurrent_gate_bias", {H, blk}, Init::kZero, true);
    } else {
      add("temporal_block.q_proj.weight", {H * hd, D});
      add("temporal_block.k_proj.weight", {KV * hd, D});
      add("temporal_block.v_proj.weight", {KV * hd, D});
      add("temporal_block.o_proj.weight", {D, H * hd});
      add("temporal_block.o_proj.bias", {D}, Init::kZero);
    }
  }
  return s;
}

ModelWeights LoadWeights(const Checkpoint& ck, const ModelConfig& c, c10::Device device,
                         DType dtype) {
  std::map<std::string, at::Tensor> tensors;
  for (const WeightSpec& spec : WeightSpecs(c)) {
    if (!ck.Has(spec.name)) {
      throw std::runtime_error(fmt::format("{}: missing tensor '{}' (expected shape [{}])",
                                           ck.dir(), spec.name, fmt::join(spec.shape, ", ")));
    }
    const at::Tensor stored = ck.Get(spec.name);
    if (stored.sizes().vec() != spec.shape) {
      throw std::runtime_error(fmt::format("{}: tensor '{}' has shape [{}], the config needs [{}]",
                                           ck.dir(), spec.name, fmt::join(stored.sizes(), ", "),
                                           fmt::join(spec.shape, ", ")));
    }
    if (!at::isFloatingType(stored.scalar_type())) {
      throw std::runtime_error(fmt::format("{}: tensor '{}' is {}, not a floating-point type",
                                           ck.dir(), spec.name,
                                           c10::toString(stored.scalar_type())));
    }
    const at::ScalarType target = spec.keep_fp32 ? at::kFloat : ToScalarType(dtype);
    // .to() copies out of the mapping exactly once, straight into the target dtype/device.
    tensors[spec.name] = stored.to(device, target, /*non_blocking=*/false, /*copy=*/true);
  }
  return AssembleWeights(c, tensors);
}

std::map<std::string, at::Tensor> RandomWeightTensors(const ModelConfig& c, uint64_t seed,
                                                      c10::Device device, DType dtype) {
  std::map<std::string, at::Tensor> tensors;
  at::manual_seed(seed);
  for (const WeightSpec& spec : WeightSpecs(c)) {
    const at::ScalarType target = spec.keep_fp32 ? at::kFloat : ToScalarType(dtype);
    const auto opts = at::TensorOptions(device).dtype(at::kFloat);
    at::Tensor t;
    switch (spec.init) {
      case Init::kZero:
        t = at::zeros(spec.shape, opts);
        break;
      case Init::kRglruA: {
        // a = sigma(Lambda) uniform in the ring [0.9, 0.999] by area, as the reference inits it;
        // a_param = log(exp(-log r) - 1) so that softplus(a_param) = -log r.
        const at::Tensor r2 = at::rand(spec.shape, opts) * (0.999 * 0.999 - 0.81) + 0.81;
        t = at::log(at::expm1(-0.5 * at::log(r2)));
        break;
      }
      case Init::kNormal: {
        // LeCun-normal over the input dimension, which is the last one in every HF layout
        // (Linear [out, in], gates [H, in, out] are square per block, conv [L, 1, W]).
        t = at::randn(spec.shape, opts) / std::sqrt(static_cast<double>(spec.shape.back()));
        break;
      }
    }
    tensors[spec.name] = t.to(target);
  }
  return tensors;
}

ModelWeights RandomWeights(const ModelConfig& c, uint64_t seed, c10::Device device, DType dtype) {
  return AssembleWeights(c, RandomWeightTensors(c, seed, device, dtype));
}

}  // namespace griffin
