// Microbenchmark of the recurrent block's decode step (one token per row): the fused kernel
// against the ATen composition (conv, two block-diagonal gate projections, RG-LRU step, product)
// for B in {1, 8, 64} and the 2B / 9B widths (heads of 256). Bytes counted: the float32 gate
// weights (read once, whatever the batch), the conv weights, and per row u, y and the output, the
// conv tail and the state read and written.
#include <ATen/ATen.h>

#include "bench_util.h"
#include "core/model/recurrent_step.h"

namespace griffin::bench {
namespace {

struct StepInputs {
  at::Tensor u, y, positions;
  RecurrentWeights w;
  RecurrentState state;
};

StepInputs Inputs(const Shape& s, const at::Device& device) {
  const auto f32 = at::TensorOptions(device).dtype(at::kFloat);
  const int64_t L = s.dim, H = L / 256, blk = 256;
  StepInputs in;
  in.u = at::randn({s.batch, 1, L}, f32).to(s.dtype);
  in.y = at::randn({s.batch, 1, L}, f32).to(s.dtype);
  in.positions = at::full({s.batch, 1}, 7, f32.dtype(at::kLong));
  in.w.conv_w = at::randn({4, L}, f32).to(s.dtype);
  in.w.conv_b = at::randn({L}, f32).to(s.dtype);
  in.w.input_gate_w = at::randn({H, blk, blk}, f32) / 16.0;
  in.w.a_gate_w = at::randn({H, blk, blk}, f32) / 16.0;
  in.w.input_gate_b = at::randn({H, blk}, f32);
  in.w.a_gate_b = at::randn({H, blk}, f32);
  in.w.a_param = at::randn({L}, f32);
  in.state = {at::randn({s.batch, L}, f32), at::randn({s.batch, 3, L}, f32).to(s.dtype),
              at::arange(4, 7, f32.dtype(at::kLong)).expand({s.batch, 3}).contiguous()};
  return in;
}

double Bytes(const Shape& s) {
  const double e = static_cast<double>(at::elementSize(s.dtype));
  const double weights = 2.0 * s.dim * 256 * 4 + 5.0 * s.dim * e + 3.0 * s.dim * 4;
  const double per_row = s.dim * (3 * e + 2 * 3 * e + 2 * 4.0);
  return weights + s.batch * per_row;
}

}  // namespace

void RegisterRecurrentStep() {
  if (!at::hasCUDA()) return;  // the fused step is CUDA-only; nothing to compare on the CPU
  std::vector<Shape> shapes;
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    for (int64_t b : {1, 8, 64}) {
      for (int64_t d : {2560, 4096}) shapes.push_back({b, 1, d, dt});
    }
  }
  RegisterOverShapes("RecurrentStep", shapes, 1, [](benchmark::State& st, const BenchCase& c) {
    const Shape& s = c.shape;
    const at::InferenceMode inference;
    StepInputs in = Inputs(s, c.device);
    TimeAndReport(st, c, Bytes(s), [&] {
      benchmark::DoNotOptimize(RecurrentStep(in.u, in.y, in.positions, in.w, in.state, c.impl));
    });
  });
}

}  // namespace griffin::bench
