#include "core/model/layers.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "core/kernels/geglu.h"
#include "core/kernels/rms_norm.h"
#include "core/kernels/skinny_linear.h"
#include "core/kernels/softcap_cross_entropy.h"

namespace griffin {

namespace {
// The implementation of the ops no config chooses (norm, loss): the kernels wherever they run
// (a GPU, a dtype they are built for: not float16).
OpImpl KernelWhereItRuns(const at::Tensor& x) {
  const bool kernels = x.is_cuda() && OpImplBuilt(OpImpl::kCuda) && x.scalar_type() != at::kHalf;
  return kernels ? OpImpl::kCuda : OpImpl::kReference;
}

// at::linear whose backward forms the bias gradient as a matrix product, ones[1, N] x dy[N, out],
// where ATen's is a column sum: on the H200 that sum took 64-71 us for one [65536, 128] bf16
// gradient (6% of the copy ceiling), ten of them in every step of a width-128 recall model
// (bench/README.md, "Training step against PyTorch").
class BiasLinearFunction : public torch::autograd::Function<BiasLinearFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& w, const at::Tensor& b) {
    ctx->save_for_backward({x, w});
    return at::linear(x, w, b);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &w = s[1];
    const at::Tensor g = grads[0].reshape({-1, w.size(0)});
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = at::matmul(grads[0], w);
    if (ctx->needs_input_grad(1)) dw = g.t().mm(x.reshape({-1, w.size(1)}));
    if (ctx->needs_input_grad(2)) db = at::ones({1, g.size(0)}, g.options()).mm(g).view(w.size(0));
    return {dx, dw, db};
  }
};
}  // namespace

at::Tensor Linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (InferenceKernelsRun(x) && SkinnyLinearFits({x, w, b})) {
    return SkinnyLinearOp({x, w, b}, OpImpl::kCuda);
  }
  if (!b.defined() || !x.is_cuda() || !at::GradMode::is_enabled()) return at::linear(x, w, b);
  if (!x.requires_grad() && !w.requires_grad() && !b.requires_grad()) return at::linear(x, w, b);
  return BiasLinearFunction::apply(x, w, b);
}

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& scale, double eps) {
  return RmsNormOp({x, scale, eps}, KernelWhereItRuns(x));
}

bool InferenceKernelsRun(const at::Tensor& x) {
  const at::ScalarType t = x.scalar_type();
  return x.is_cuda() && OpImplBuilt(OpImpl::kCuda) && (t == at::kFloat || t == at::kBFloat16) &&
         !at::GradMode::is_enabled();
}

AddRmsNorm AddThenRmsNorm(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& scale,
                          double eps) {
  if (InferenceKernelsRun(x)) return AddRmsNormOp({x, scale, eps}, delta, OpImpl::kCuda);
  const at::Tensor sum = x + delta;
  return {sum, RmsNorm(sum, scale, eps)};
}

at::Tensor GeGluMlp(const at::Tensor& x, const MlpWeights& w) {
  if (w.gate_up_w.defined()) {
    const OpImpl impl = InferenceKernelsRun(x) ? OpImpl::kCuda : OpImpl::kReference;
    return Linear(GegluOp({Linear(x, w.gate_up_w, w.gate_up_b)}, impl), w.down_w, w.down_b);
  }
  const at::Tensor gate = at::gelu(Linear(x, w.gate_w, w.gate_b), "tanh");
  return Linear(gate * Linear(x, w.up_w, w.up_b), w.down_w, w.down_b);
}

at::Tensor RopeInverseFrequencies(int64_t head_dim, double fraction, double base,
                                  c10::Device device) {
  const int64_t rope_dim = static_cast<int64_t>(std::llround(head_dim * fraction));
  return at::pow(base, at::arange(0, rope_dim / 2, at::TensorOptions(device).dtype(at::kFloat)) *
                           (-2.0 / static_cast<double>(rope_dim)));
}

at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& positions, double fraction,
                     double base) {
  return ApplyRope(x, positions, RopeInverseFrequencies(x.size(-1), fraction, base, x.device()));
}

at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& positions, const at::Tensor& inv_freq) {
  const int64_t head_dim = x.size(-1);
  const int64_t half = inv_freq.size(0), rope_dim = 2 * half;
  // Angles in float32 from integer positions.
  const at::Tensor angles = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, half]
  const at::Tensor cos = angles.cos().unsqueeze(2).to(x.scalar_type());         // [B, T, 1, half]
  const at::Tensor sin = angles.sin().unsqueeze(2).to(x.scalar_type());
  const at::Tensor x1 = x.narrow(-1, 0, half);
  const at::Tensor x2 = x.narrow(-1, half, half);
  std::vector<at::Tensor> parts = {x1 * cos - x2 * sin, x2 * cos + x1 * sin};
  if (rope_dim < head_dim) parts.push_back(x.narrow(-1, rope_dim, head_dim - rope_dim));
  return at::cat(parts, -1);
}

at::Tensor EmbedTokens(const at::Tensor& tokens, const at::Tensor& embed, const ModelConfig& c) {
  TORCH_CHECK(tokens.scalar_type() == at::kLong, "token ids must be int64, got ",
              tokens.scalar_type());
  // Checked where it costs no device synchronisation; GPU callers validate ids before upload.
  if (tokens.is_cpu() && tokens.numel() > 0) {
    const int64_t lo = tokens.min().item<int64_t>();
    const int64_t hi = tokens.max().item<int64_t>();
    TORCH_CHECK(lo >= 0 && hi < c.vocab_size, "token id ", lo < 0 ? lo : hi,
                " is out of range for a vocabulary of ", c.vocab_size, " (ids must be in [0, ",
                c.vocab_size, "))");
  }
  // Page-locked ids upload without waiting for the device (the trainer's batches are).
  const at::Tensor ids = tokens.to(embed.device(), /*non_blocking=*/tokens.is_pinned());
  // ATen's embedding backward is deterministic (sorted ids, partial sums in a fixed order) and,
  // in the torch this project builds against (2.11), never reads back to the host, so a training
  // step captured into a CUDA graph (eval::TrainOptions::graph) takes it too, and the eager steps
  // Nsight Compute profiles run the same kernels as the captured ones. (Until 2026-12-01 captured
  // steps summed with index_add_'s atomic adds, whose order varies from run to run.)
  const at::Tensor x = at::embedding(embed, ids);
  const at::ScalarType scale_dtype = c.embed_scale_in_bf16 ? at::kBFloat16 : x.scalar_type();
  const double scale = at::scalar_tensor(std::sqrt(static_cast<double>(c.width)),
                                         at::TensorOptions().dtype(scale_dtype))
                           .item<double>();
  return x * scale;
}

at::Tensor OutputLogits(const at::Tensor& x, const ModelWeights& w, const ModelConfig& c) {
  at::Tensor logits = Linear(x, w.embed, at::Tensor()).to(at::kFloat);
  if (c.logit_soft_cap > 0) logits = at::tanh(logits / c.logit_soft_cap) * c.logit_soft_cap;
  return logits;
}

at::Tensor OutputLoss(const at::Tensor& x, const ModelWeights& w, const ModelConfig& c,
                      const at::Tensor& targets) {
  return SoftCapCrossEntropy({at::linear(x, w.embed), targets, c.logit_soft_cap},
                             KernelWhereItRuns(x));
}

}  // namespace griffin
