// The weights of a Griffin/RecurrentGemma or Gemma model, resolved into per-block structs once at
// load time, in Hugging Face layouts (torch Linear weights are [out, in]). The declarative table
// WeightSpecs() is the one list of names and shapes that loading and random init both follow.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/config.h"

namespace griffin {

class Checkpoint;

struct RecurrentWeights {
  at::Tensor linear_y_w, linear_y_b;      // [L, D], [L]
  at::Tensor linear_x_w, linear_x_b;      // [L, D], [L]
  at::Tensor linear_out_w, linear_out_b;  // [D, L], [D]
  at::Tensor conv_w, conv_b;              // [W, L] (w[W-1] multiplies the current token), [L]
  at::Tensor a_param;                     // [L], float32
  at::Tensor input_gate_w, input_gate_b;  // [H, L/H, L/H] (x @ w), [H, L/H], float32
  at::Tensor a_gate_w, a_gate_b;          // same shapes, float32
  // Packed (PackProjections): [2L, D], [2L], y then x; linear_y_* and linear_x_* are views of it.
  at::Tensor linear_yx_w, linear_yx_b;
};

struct AttentionWeights {
  at::Tensor q_w, k_w, v_w;  // [H*hd, D], [KV*hd, D], [KV*hd, D]
  at::Tensor o_w, o_b;       // [D, H*hd], [D] (o_b undefined without biases)
  at::Tensor qkv_w;  // packed (PackProjections): [(H + 2 KV) * hd, D]; q_w, k_w, v_w view it
};

struct MlpWeights {
  at::Tensor gate_w, gate_b, up_w, up_b;  // [M, D], [M] (biases undefined without biases)
  at::Tensor down_w, down_b;              // [D, M], [D]
  at::Tensor gate_up_w, gate_up_b;        // packed (PackProjections): [2M, D], [2M]; gate then up
};

struct BlockWeights {
  BlockType type = BlockType::kRecurrent;
  at::Tensor temporal_norm, channel_norm;  // [D]: RMSNorm scales, applied as (1 + scale)
  RecurrentWeights recurrent;
  AttentionWeights attention;
  MlpWeights mlp;
};

struct ModelWeights {
  at::Tensor embed;       // [V, D], also the output projection (tied)
  at::Tensor final_norm;  // [D]
  std::vector<BlockWeights> blocks;
  int64_t Bytes() const;  // bytes held by every tensor above
};

struct WeightSpec {
  std::string name;  // HF name
  std::vector<int64_t> shape;
  enum class Init { kNormal, kZero, kRglruA } init = Init::kNormal;
  bool keep_fp32 = false;  // RG-LRU parameters stay float32 whatever the model dtype
};

std::vector<WeightSpec> WeightSpecs(const ModelConfig& config);

// Loads every tensor of WeightSpecs from the checkpoint with exact shape checks, converting to
// `dtype` on `device` tensor by tensor (the mapped file streams; nothing is staged whole).
ModelWeights LoadWeights(const Checkpoint& checkpoint, const ModelConfig& config,
                         c10::Device device, DType dtype);

// Random weights of the right scale for speed and memory work (values do not matter there), and
// the initialisation training starts from: by HF name, RG-LRU parameters float32.
ModelWeights RandomWeights(const ModelConfig& config, uint64_t seed, c10::Device device,
                           DType dtype);
std::map<std::string, at::Tensor> RandomWeightTensors(const ModelConfig& config, uint64_t seed,
                                                      c10::Device device, DType dtype);

// Packs the projections that read the same input into one matrix each (attention's q, k and v,
// the MLP's gate and up, the recurrent block's y and x branches), so that a decode step runs one
// matrix product where it ran two or three; the separate weights become views of the packed
// ones, so no memory is added. For loaded models (inference): a trainer's weights stay separate
// leaves.
void PackProjections(ModelWeights& weights);

// The model's weights from tensors named as WeightSpecs names them (missing ones stay undefined).
// The conv weight is re-laid out ([L, 1, W] -> [W, L]) by differentiable ops, so a trainer can
// assemble from its parameters every step and gradients reach them.
ModelWeights AssembleWeights(const ModelConfig& config,
                             const std::map<std::string, at::Tensor>& tensors);

}  // namespace griffin
