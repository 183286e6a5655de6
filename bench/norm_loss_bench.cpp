// Microbenchmarks of the RMSNorm and the soft-capped cross-entropy, forward and backward, at the
// shapes the models run them: a recall-training batch (256 x 256 tokens, width 128; its 4,096
// scored rows over a vocabulary of 8192) and a 2B prefill (8192 tokens of width 2560 / 2048; the
// loss over 2048 rows of Gemma's 256000-token vocabulary). Bytes counted: the norm reads x and
// writes y forward, reads x and dL/dy and writes dL/dx backward; the loss reads the logits once
// forward, and reads them and writes their gradient backward (per-row statistics ignored).
#include <ATen/ATen.h>

#include "bench_util.h"
#include "core/kernels/rms_norm.h"
#include "core/kernels/softcap_cross_entropy.h"

namespace griffin::bench {
namespace {

// [batch, seq_len, dim] inputs of the norm; for the loss, seq_len rows of a vocabulary of dim.
std::vector<Shape> Shapes(bool cuda, std::initializer_list<std::array<int64_t, 3>> sizes) {
  std::vector<Shape> shapes;
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (const auto& [b, t, d] : sizes) {
      if (cuda) shapes.push_back({b, t, d, dtype});
    }
    if (!cuda) break;
  }
  if (!cuda) shapes.push_back({2, 64, 128, at::kFloat});
  return shapes;
}

double Bytes(const Shape& s, int tensors) {
  return tensors * s.Elements() * static_cast<double>(at::elementSize(s.dtype));
}

RmsNormArgs NormInputs(const Shape& s, const at::Device& device) {
  const auto opts = at::TensorOptions(device).dtype(at::kFloat);
  return {at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype),
          (at::randn({s.dim}, opts) * 0.1).to(s.dtype), 1e-6};
}

SoftCapCrossEntropyArgs LossInputs(const Shape& s, const at::Device& device) {
  const auto opts = at::TensorOptions(device).dtype(at::kFloat);
  return {(at::randn({s.batch * s.seq_len, s.dim}, opts) * 20).to(s.dtype),
          at::randint(s.dim, {s.batch * s.seq_len}, opts.dtype(at::kLong)), 30.0};
}

}  // namespace

void RegisterNormAndLoss() {
  const bool cuda = at::hasCUDA();
  const std::vector<Shape> norms =
      Shapes(cuda, {{256, 256, 128}, {1, 8192, 2560}, {1, 8192, 2048}});
  const std::vector<Shape> losses = Shapes(cuda, {{1, 4096, 8192}, {1, 2048, 256000}});
  constexpr int64_t kEveryLength = int64_t{1} << 40;  // the references do not loop over time
  RegisterOverShapes("RmsNormForward", norms, kEveryLength,
                     [](benchmark::State& st, const BenchCase& c) {
                       const RmsNormArgs a = NormInputs(c.shape, c.device);
                       TimeAndReport(st, c, Bytes(c.shape, 2),
                                     [&] { benchmark::DoNotOptimize(RmsNormOp(a, c.impl)); });
                     });
  RegisterOverShapes("RmsNormBackward", norms, kEveryLength,
                     [](benchmark::State& st, const BenchCase& c) {
                       RmsNormArgs a = NormInputs(c.shape, c.device);
                       a.x.set_requires_grad(true);
                       a.scale.set_requires_grad(true);
                       const at::Tensor y = RmsNormOp(a, c.impl);
                       const at::Tensor grad = at::randn_like(y);
                       TimeAndReport(st, c, Bytes(c.shape, 3), [&] {
                         a.x.mutable_grad() = at::Tensor();
                         a.scale.mutable_grad() = at::Tensor();
                         y.backward(grad, /*retain_graph=*/true);
                       });
                     });
  RegisterOverShapes("SoftCapCrossEntropyForward", losses, kEveryLength,
                     [](benchmark::State& st, const BenchCase& c) {
                       const SoftCapCrossEntropyArgs a = LossInputs(c.shape, c.device);
                       TimeAndReport(st, c, Bytes(c.shape, 1), [&] {
                         benchmark::DoNotOptimize(SoftCapCrossEntropy(a, c.impl));
                       });
                     });
  RegisterOverShapes("SoftCapCrossEntropyBackward", losses, kEveryLength,
                     [](benchmark::State& st, const BenchCase& c) {
                       SoftCapCrossEntropyArgs a = LossInputs(c.shape, c.device);
                       a.logits.set_requires_grad(true);
                       const at::Tensor loss = SoftCapCrossEntropy(a, c.impl);
                       TimeAndReport(st, c, Bytes(c.shape, 2), [&] {
                         a.logits.mutable_grad() = at::Tensor();
                         loss.backward({}, /*retain_graph=*/true);
                       });
                     });
}

}  // namespace griffin::bench
