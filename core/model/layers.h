// Small shared layers of both families: RMSNorm (1 + scale), GeGLU MLP, rotary embedding,
// embedding scale and the logit soft-cap (docs/MODEL.md sections 1, 2 and 4).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/rms_norm.h"
#include "core/model/config.h"
#include "core/model/weights.h"

namespace griffin {

// y = x * rsqrt(mean(x^2) + eps) * (1 + scale), computed in float32 (float64 for float64),
// returned in x's dtype: the RMSNorm op (core/kernels/rms_norm.h), its CUDA kernels on a GPU
// whatever the scan and conv choice (no config compares norms; the kernel tests hold them to the
// ATen reference).
at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& scale, double eps);

// x w^T + b (b [out] or undefined): at::linear, with the bias gradient of a training step on the
// GPU formed as a matrix product (layers.cpp says why); a decode step's few rows, where the
// inference kernels run, take the skinny matrix product (core/kernels/skinny_linear.h).
at::Tensor Linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

// down(gelu_tanh(gate(x)) * up(x)); biases optional. With packed gate and up weights (a loaded
// model's, PackProjections) one product makes both and the GeGLU op multiplies them.
at::Tensor GeGluMlp(const at::Tensor& x, const MlpWeights& w);

// Rotates the first `fraction` of each head by position (rotate-half pairs (i, i + d/2) within
// the rotated part). x: [B, T, heads, head_dim]; positions: int64 [B, T].
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& positions, double fraction,
                     double base);
// The same rotation from RoPE's inverse frequencies (the rotated part is 2 * inv_freq.size(0)
// channels), which a model computes once.
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& inv_freq);
// base^(-2i / rope_dim) for i < rope_dim / 2, rope_dim = head_dim * fraction rounded: float32 on
// `device`.
at::Tensor RopeInverseFrequencies(int64_t head_dim, double fraction, double base,
                                  c10::Device device);

// Whether the inference-only kernels run on x (a GPU, float32 or bfloat16, no gradient taken):
// the fused decode attention, the GeGLU product and the residual add fused with the next norm.
bool InferenceKernelsRun(const at::Tensor& x);

// x + delta and the RMSNorm of that sum (core/kernels/rms_norm.h, AddRmsNormOp): one kernel where
// InferenceKernelsRun, the add and RmsNorm otherwise.
AddRmsNorm AddThenRmsNorm(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& scale,
                          double eps);

// Embedding lookup times sqrt(width), rounded to bf16 (RecurrentGemma) or to the activation dtype
// (Gemma), checking every id against the vocabulary.
at::Tensor EmbedTokens(const at::Tensor& tokens, const at::Tensor& embed, const ModelConfig& c);

// Final norm, tied projection to float32 logits, soft-cap when the config has one.
at::Tensor OutputLogits(const at::Tensor& x, const ModelWeights& w, const ModelConfig& c);

// The mean cross-entropy of OutputLogits(x) against int64 `targets`, as a training loss: the
// soft-capped cross-entropy op (core/kernels/softcap_cross_entropy.h) on the projection in x's
// dtype, its CUDA kernels on a GPU, so the float32 logits never reach memory there.
at::Tensor OutputLoss(const at::Tensor& x, const ModelWeights& w, const ModelConfig& c,
                      const at::Tensor& targets);

}  // namespace griffin
