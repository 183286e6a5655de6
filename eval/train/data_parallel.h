// Data-parallel training of one model over a launch's ranks (`[train] parallel = "data"`;
// README.md, "Several GPUs and hosts"), on c10d's Reducer, the engine under PyTorch's
// DistributedDataParallel: the gradients are grouped into buckets (1 MiB first, then 25 MiB; after
// the first step in the order the backward produced them) and each bucket is all-reduced,
// averaged over the ranks, as soon as the backward has filled it, while the rest of the backward
// runs. Each rank steps AdamW on the same averaged gradients, so the weights stay equal.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

namespace griffin::distributed {
class Group;
}  // namespace griffin::distributed

namespace griffin::eval {

class GradientSync {
 public:
  // `params`: the float32 master weights (leaves that require grad), in one fixed order.
  GradientSync(const distributed::Group& group, std::vector<at::Tensor> params);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Each step: before the forward (after the first step, the buckets are rebuilt once in the
  // order the backward produced the gradients, as DistributedDataParallel does), and after it
  // (before loss.backward()).
  void BeforeForward();
  void BeforeBackward();
  // Rank 0's values of `tensors` on every rank, in place (weights and optimizer state at the
  // start and after a resume: only rank 0 reads checkpoints).
  void Broadcast(std::vector<at::Tensor> tensors) const;
  // `t` replaced by its mean over the ranks (the losses each rank computed on its slice).
  void Average(at::Tensor& t) const;
  // Rank 0's `flag` on every rank (decisions every rank must take alike, e.g. early stopping).
  bool Agree(bool flag) const;

  int rank() const;
  int size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace griffin::eval
