#include "core/model/model.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "core/model/attention.h"
#include "core/model/conv1d.h"
#include "core/model/dtype.h"
#include "core/model/layers.h"
#include "core/model/recurrent_step.h"
#include "core/model/rglru.h"

namespace griffin {

void CheckForwardInputs(const at::Tensor& tokens, const at::Tensor& positions,
                        const DecodeState& state) {
  TORCH_CHECK(tokens.dim() == 2, "tokens must be [batch, T], got ", tokens.sizes());
  TORCH_CHECK(positions.sizes() == tokens.sizes(), "positions ", positions.sizes(),
              " must have the shape of tokens ", tokens.sizes());
  TORCH_CHECK(tokens.scalar_type() == at::kLong && positions.scalar_type() == at::kLong,
              "tokens and positions must be int64");
  TORCH_CHECK(tokens.size(0) == state.batch(), "tokens have batch ", tokens.size(0),
              " but the decode state was made for batch ", state.batch());
}

Model::Model(ModelConfig config, ModelWeights weights, c10::Device device, OpChoice ops)
    : config_(std::move(config)), weights_(std::move(weights)), device_(device), ops_(ops) {
  ValidateConfig(config_);
  // Kept on a GPU, where a decode step's kernels take them; on the CPU each attention block makes
  // them as it goes, as it always did (an extra allocation here moves every later tensor of a
  // training step, and the golden run files, bit for bit, with it).
  if (device_.is_cuda()) {
    rope_inv_freq_ =
        RopeInverseFrequencies(config_.head_dim, config_.rope_fraction, config_.rope_base, device_);
  }
}

std::unique_ptr<DecodeState> Model::NewState(int64_t batch) const {
  TORCH_CHECK(batch > 0, "batch must be positive, got ", batch);
  return std::make_unique<ModelState>(config_, batch, device_, ToScalarType(config_.dtype));
}

at::Tensor Model::RecurrentBlock(const at::Tensor& x, const at::Tensor& positions,
                                 const RecurrentWeights& w, RecurrentState& state) const {
  at::Tensor y, u;
  if (w.linear_yx_w.defined()) {  // packed: one product makes both branches
    const at::Tensor yx = Linear(x, w.linear_yx_w, w.linear_yx_b);
    const int64_t L = w.linear_y_w.size(0);
    y = at::gelu(yx.narrow(-1, 0, L), "tanh");
    u = yx.narrow(-1, L, L);
  } else {
    y = at::gelu(Linear(x, w.linear_y_w, w.linear_y_b), "tanh");
    u = Linear(x, w.linear_x_w, w.linear_x_b);
  }
  // A decode step with both ops on CUDA: conv, gates and state update in one fused launch.
  if (x.size(1) == 1 && ops_.scan == OpImpl::kCuda && ops_.conv == OpImpl::kCuda &&
      !c10::GradMode::is_enabled()) {
    return Linear(RecurrentStep(u, y, positions, w, state, OpImpl::kCuda), w.linear_out_w,
                  w.linear_out_b);
  }
  const at::Tensor c =
      CausalConv1d(u, positions, w.conv_w, w.conv_b, state.conv, state.conv_pos, ops_.conv);
  const at::Tensor h = RgLru(c, positions, w, state.rnn, ops_.scan);
  return Linear(h * y, w.linear_out_w, w.linear_out_b);
}

at::Tensor Model::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                          DecodeState& state_base, const ActivationHook* hook,
                          bool last_logits_only) const {
  const int64_t T = tokens.size(1);
  at::Tensor x = Trunk(tokens, positions, state_base, hook);
  if (T == 0)
    return at::empty({tokens.size(0), 0, config_.vocab_size}, x.options().dtype(at::kFloat));
  if (last_logits_only) x = x.narrow(1, T - 1, 1);
  return Head(x, hook);
}

at::Tensor Model::NormedRows(const at::Tensor& tokens, const at::Tensor& positions,
                             DecodeState& state, const at::Tensor& rows) const {
  TORCH_CHECK(rows.dim() == 1 && rows.scalar_type() == at::kLong, "rows must be int64 [n], got ",
              rows.scalar_type(), " ", rows.sizes());
  const at::Tensor x = Trunk(tokens, positions, state, nullptr);
  const at::Tensor flat = x.flatten(0, 1);
  if (rows.numel() > 0 && rows.is_cpu()) {
    const int64_t lo = rows.min().item<int64_t>(), hi = rows.max().item<int64_t>();
    TORCH_CHECK(lo >= 0 && hi < flat.size(0), "rows must lie in [0, ", flat.size(0), "), got [", lo,
                ", ", hi, "]");
  }
  return RmsNorm(flat.index_select(0, rows.to(device_)), weights_.final_norm, config_.rms_eps);
}

at::Tensor Model::ForwardRows(const at::Tensor& tokens, const at::Tensor& positions,
                              DecodeState& state, const at::Tensor& rows) const {
  return OutputLogits(NormedRows(tokens, positions, state, rows), weights_, config_);
}

at::Tensor Model::LossRows(const at::Tensor& tokens, const at::Tensor& positions,
                           DecodeState& state, const at::Tensor& rows,
                           const at::Tensor& targets) const {
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == rows.size(0), "targets must be [",
              rows.size(0), "] (one per row), got ", targets.sizes());
  return OutputLoss(NormedRows(tokens, positions, state, rows), weights_, config_,
                    targets.to(device_));
}

at::Tensor Model::Head(const at::Tensor& x, const ActivationHook* hook) const {
  const at::Tensor normed = RmsNorm(x, weights_.final_norm, config_.rms_eps);
  if (hook != nullptr && *hook) (*hook)("final_norm", normed);
  const at::Tensor logits = OutputLogits(normed, weights_, config_);
  if (hook != nullptr && *hook) (*hook)("logits", logits);
  return logits;
}

at::Tensor Model::Trunk(const at::Tensor& tokens_in, const at::Tensor& positions_in,
                        DecodeState& state_base, const ActivationHook* hook) const {
  CheckForwardInputs(tokens_in, positions_in, state_base);
  auto* state = dynamic_cast<ModelState*>(&state_base);
  TORCH_CHECK(state != nullptr, "Model::Forward needs a state made by Model::NewState");
  const int64_t T = tokens_in.size(1);
  auto emit = [&](const std::string& name, const at::Tensor& t) {
    if (hook != nullptr && *hook) (*hook)(name, t);
  };
  // Ids are checked while still on the host; the lookup runs on the model's device.
  at::Tensor x = EmbedTokens(tokens_in, weights_.embed, config_);
  if (T == 0) return x;
  // A stream that is one unpadded document from position 0 needs only causal masks; checked on
  // the host copy so the GPU path never synchronises for it.
  if (state->simple_stream) {
    state->simple_stream = positions_in.is_cpu() &&
                           at::equal(positions_in, at::arange(state->tokens_seen(),
                                                              state->tokens_seen() + T, at::kLong)
                                                       .expand_as(positions_in));
  }
  const StreamShape stream{state->simple_stream, state->simple_stream && state->tokens_seen() == 0};
  const at::Tensor positions = positions_in.to(device_, /*non_blocking=*/positions_in.is_pinned());
  // Document index of each token: resets (position 0) start a new document.
  const at::Tensor docs = state->docs_started.unsqueeze(1) + positions.eq(0).cumsum(1);
  emit("embed", x);

  // Each residual add and the norm after it are one op (AddThenRmsNorm): one kernel where no
  // gradient is taken on a GPU. With autograd the next block's norm is made where the block
  // starts, as it always was: made earlier, its backward node would sum the residual stream's
  // two gradients in the other order, and a training run's last bits would change.
  const int64_t L = config_.num_layers();
  const bool fused = InferenceKernelsRun(x);
  at::Tensor normed;  // the block's temporal norm, when the previous add made it
  size_t next_recurrent = 0, next_attention = 0;
  for (int64_t i = 0; i < L; ++i) {
    const BlockWeights& b = weights_.blocks[i];
    if (!normed.defined()) normed = RmsNorm(x, b.temporal_norm, config_.rms_eps);
    at::Tensor temporal;
    if (b.type == BlockType::kRecurrent) {
      temporal = RecurrentBlock(normed, positions, b.recurrent, state->recurrent[next_recurrent++]);
    } else {
      temporal = AttentionBlock(normed, positions, docs, b.attention, config_,
                                state->attention[next_attention++], state->tokens_written, stream,
                                rope_inv_freq_);
    }
    const std::string prefix = "layers." + std::to_string(i) + ".";
    emit(prefix + "temporal_out", temporal);
    const AddRmsNorm mixed = AddThenRmsNorm(x, temporal, b.channel_norm, config_.rms_eps);
    const at::Tensor mlp = GeGluMlp(mixed.normed, b.mlp);
    emit(prefix + "mlp_out", mlp);
    if (fused && i + 1 < L) {
      AddRmsNorm next =
          AddThenRmsNorm(mixed.sum, mlp, weights_.blocks[i + 1].temporal_norm, config_.rms_eps);
      x = std::move(next.sum);
      normed = std::move(next.normed);
    } else {
      x = mixed.sum + mlp;
      normed = at::Tensor();
    }
    emit(prefix + "out", x);
  }
  // State updates are in place: a captured decode step replays into the same buffers.
  UpdateState(state->docs_started, docs.select(1, T - 1));
  state->tokens_written.add_(T);
  state->Advance(T);
  return x;
}

}  // namespace griffin
