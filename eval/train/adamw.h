// AdamW for the trainer on ATen's fused multi-tensor kernel (at::_fused_adamw_: one launch per
// parameter group on CUDA, a vectorised loop on the CPU) and global-norm gradient clipping with
// foreach ops. Neither reads anything back from the device. A small model's training step is
// bound by the host: torch::optim::AdamW dispatches about ten ops per parameter and
// clip_grad_norm_ two more plus a read-back of the norm, more than the model's own forward and
// backward; with these the host queues the next step while the GPU runs this one.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace griffin::eval {

class AdamW {
 public:
  struct Group {
    std::vector<at::Tensor> params;  // float32 leaves with requires_grad
    double weight_decay = 0.0;
  };
  AdamW(std::vector<Group> groups, double beta1, double beta2, double eps);

  // Drops every gradient (the next backward allocates fresh ones).
  void ZeroGrad();
  // Scales the gradients so that their global L2 norm is at most max_norm (infinity: leaves them
  // as they are) and returns the norm before scaling, as a device scalar that is not read back.
  at::Tensor ClipGradNorm(double max_norm);
  // Sets the learning rate of the steps that follow. It lives in a float32 scalar on the
  // parameters' device and is read when a step runs, so a captured step (CUDA graph) replays with
  // the rate set last.
  void SetRate(double lr);
  // One AdamW step at the rate set last (decoupled weight decay rate x weight_decay per group).
  void Step();

  // Moment estimates, parameter by parameter in group order (for checkpoints).
  const std::vector<at::Tensor>& params() const { return params_; }
  const std::vector<at::Tensor>& exp_avg() const { return exp_avg_; }
  const std::vector<at::Tensor>& exp_avg_sq() const { return exp_avg_sq_; }
  // Continues from a checkpoint taken after `steps` steps (moments copied in place).
  void Restore(int64_t steps, const std::vector<at::Tensor>& exp_avg,
               const std::vector<at::Tensor>& exp_avg_sq);

 private:
  std::vector<at::Tensor> Grads() const;

  std::vector<Group> groups_;
  std::vector<size_t> group_begin_;  // index of each group's first parameter in params_
  std::vector<at::Tensor> params_, exp_avg_, exp_avg_sq_, step_counts_;
  at::Tensor lr_;  // the rate, on the parameters' device
  double beta1_, beta2_, eps_;
};

}  // namespace griffin::eval
