#include "eval/train/adamw.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>

namespace griffin::eval {

AdamW::AdamW(std::vector<Group> groups, double beta1, double beta2, double eps)
    : groups_(std::move(groups)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const Group& g : groups_) {
    group_begin_.push_back(params_.size());
    for (const at::Tensor& p : g.params) {
      if (p.scalar_type() != at::kFloat || !p.requires_grad()) {
        throw std::invalid_argument("AdamW: parameters must be float32 leaves with gradients");
      }
      params_.push_back(p);
      exp_avg_.push_back(at::zeros_like(p));
      exp_avg_sq_.push_back(at::zeros_like(p));
      // The fused kernel counts steps per parameter in float32 tensors on the parameter's device.
      step_counts_.push_back(at::zeros({}, p.options()));
    }
  }
  group_begin_.push_back(params_.size());
  if (params_.empty()) throw std::invalid_argument("AdamW: no parameters");
  lr_ = at::zeros({}, params_.front().options());
}

std::vector<at::Tensor> AdamW::Grads() const {
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params_) {
    // A parameter the loss did not reach gets a zero gradient (decay still applies to it).
    grads.push_back(p.grad().defined() ? p.grad() : at::zeros_like(p));
  }
  return grads;
}

void AdamW::ZeroGrad() {
  for (at::Tensor& p : params_) p.mutable_grad().reset();
}

at::Tensor AdamW::ClipGradNorm(double max_norm) {
  std::vector<at::Tensor> grads = Grads();
  const at::Tensor norm = at::linalg_vector_norm(at::stack(at::_foreach_norm(grads, 2)), 2);
  if (std::isfinite(max_norm)) {
    // torch.nn.utils.clip_grad_norm_'s rule: scale by max_norm / (norm + 1e-6) when below 1.
    const at::Tensor scale = (max_norm / (norm + 1e-6)).clamp_max(1.0);
    at::_foreach_mul_(grads, scale);
  }
  return norm;
}

void AdamW::SetRate(double lr) { lr_.fill_(lr); }

void AdamW::Step() {
  const std::vector<at::Tensor> grads = Grads();
  // The kernel's bias correction reads the count of the step it takes (as torch.optim does).
  at::_foreach_add_(step_counts_, 1.0);
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto slice = [&](const std::vector<at::Tensor>& v) {
      return std::vector<at::Tensor>(v.begin() + static_cast<std::ptrdiff_t>(group_begin_[g]),
                                     v.begin() + static_cast<std::ptrdiff_t>(group_begin_[g + 1]));
    };
    if (group_begin_[g] == group_begin_[g + 1]) continue;
    at::_fused_adamw_(slice(params_), slice(grads), slice(exp_avg_), slice(exp_avg_sq_), {},
                      slice(step_counts_), lr_, beta1_, beta2_, groups_[g].weight_decay, eps_,
                      /*amsgrad=*/false, /*maximize=*/false);
  }
}

void AdamW::Restore(int64_t steps, const std::vector<at::Tensor>& exp_avg,
                    const std::vector<at::Tensor>& exp_avg_sq) {
  if (exp_avg.size() != params_.size() || exp_avg_sq.size() != params_.size()) {
    throw std::invalid_argument("AdamW::Restore: one moment per parameter");
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    exp_avg_[i].copy_(exp_avg[i]);
    exp_avg_sq_[i].copy_(exp_avg_sq[i]);
    step_counts_[i].fill_(static_cast<double>(steps));
  }
}

}  // namespace griffin::eval
