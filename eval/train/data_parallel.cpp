#include "eval/train/data_parallel.h"

#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <ATen/ATen.h>

#include <algorithm>

#include "core/runtime/distributed_c10d.h"

namespace griffin::eval {

struct GradientSync::Impl {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::unique_ptr<c10d::Reducer> reducer;
  c10::Device device = c10::kCPU;
};

GradientSync::GradientSync(const distributed::Group& group, std::vector<at::Tensor> params)
    : impl_(std::make_unique<Impl>()) {
  impl_->group = group.impl().group;
  // Buckets as DistributedDataParallel first makes them: sizes capped at 1 MiB for the first,
  // 25 MiB after, filled from the last parameter back (rebuilt after the first step).
  std::vector<at::Tensor> reversed(params.rbegin(), params.rend());
  const std::vector<size_t> limits = {static_cast<size_t>(c10d::kDefaultFirstBucketBytes),
                                      static_cast<size_t>(c10d::kDefaultBucketBytesCap)};
  std::vector<std::vector<size_t>> buckets = std::get<0>(c10d::compute_bucket_assignment_by_size(
      reversed, limits, std::vector<bool>(params.size(), false)));
  const size_t n = params.size();
  for (std::vector<size_t>& bucket : buckets) {
    for (size_t& i : bucket) i = n - 1 - i;  // indices into `params`
  }
  impl_->device = params.front().device();
  impl_->reducer = std::make_unique<c10d::Reducer>(
      std::move(params), std::move(buckets), impl_->group, std::vector<bool>(n, false),
      c10d::kDefaultBucketBytesCap, /*find_unused_parameters=*/false,
      /*gradient_as_bucket_view=*/false, /*param_names=*/std::unordered_map<size_t, std::string>{},
      c10d::kDefaultFirstBucketBytes, /*skip_all_reduce_unused_params=*/false,
      /*use_python_reducer=*/false, /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
}

GradientSync::~GradientSync() = default;

void GradientSync::BeforeForward() {
  impl_->reducer->rebuild_buckets();
  impl_->reducer->prepare_for_forward();
}
void GradientSync::BeforeBackward() { impl_->reducer->prepare_for_backward({}); }

void GradientSync::Broadcast(std::vector<at::Tensor> tensors) const {
  // One tensor a call: a c10d broadcast's list is one tensor per device of a process.
  c10d::BroadcastOptions options;
  options.rootRank = 0;
  for (at::Tensor& t : tensors) {
    std::vector<at::Tensor> one = {t};
    impl_->group->broadcast(one, options)->wait();
  }
}

void GradientSync::Average(at::Tensor& t) const {
  std::vector<at::Tensor> one = {t};
  impl_->group->allreduce(one)->wait();
  t.div_(impl_->group->getSize());
}

bool GradientSync::Agree(bool flag) const {
  at::Tensor t = at::full({1}, int64_t{flag}, at::TensorOptions(at::kLong).device(impl_->device));
  Broadcast({t});
  return t.item<int64_t>() != 0;
}

int GradientSync::rank() const { return impl_->group->getRank(); }
int GradientSync::size() const { return impl_->group->getSize(); }

}  // namespace griffin::eval
