// Token embedding lookup whose backward can be captured into a CUDA graph. ATen's CUDA embedding
// backward sorts the ids when there are more than a few thousand of them and reads a segment count
// back to the host, which stream capture forbids (pytorch/pytorch#82886); a captured training
// step (eval::TrainOptions::graph) has tens of thousands of ids per batch. This lookup gives the
// same forward values, and its backward sums each id's gradient rows in float32 with index_add_
// (atomic adds on a GPU: the summation order, and so the last bits, may vary from run to run).
#pragma once

#include <ATen/core/Tensor.h>

namespace griffin {

// weight [vocab, width], ids int64 [...] on weight's device: weight rows [..., width].
at::Tensor EmbeddingLookupCapturable(const at::Tensor& weight, const at::Tensor& ids);

}  // namespace griffin
