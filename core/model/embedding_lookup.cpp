#include "core/model/embedding_lookup.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace griffin {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CapturableEmbedding : public torch::autograd::Function<CapturableEmbedding> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& weight, const at::Tensor& ids) {
    ctx->save_for_backward({ids});
    ctx->saved_data["vocab"] = weight.size(0);
    ctx->saved_data["dtype"] = static_cast<int64_t>(weight.scalar_type());
    std::vector<int64_t> shape = ids.sizes().vec();
    shape.push_back(weight.size(1));
    return weight.index_select(0, ids.flatten()).view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor ids = ctx->get_saved_variables()[0].flatten();
    const at::Tensor g = grads[0].reshape({ids.numel(), -1}).to(at::kFloat);
    at::Tensor sum = at::zeros({ctx->saved_data["vocab"].toInt(), g.size(1)}, g.options());
    sum.index_add_(0, ids, g);
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {sum.to(dtype), at::Tensor()};
  }
};

}  // namespace

at::Tensor EmbeddingLookupCapturable(const at::Tensor& weight, const at::Tensor& ids) {
  TORCH_CHECK(weight.dim() == 2, "embedding weight must be [vocab, width], got ", weight.sizes());
  TORCH_CHECK(ids.scalar_type() == at::kLong, "token ids must be int64, got ", ids.scalar_type());
  return CapturableEmbedding::apply(weight, ids);
}

}  // namespace griffin
