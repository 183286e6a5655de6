// Shared by the microbenchmarks: the size grid, timing with CUDA events on the current stream
// with the L2 cache flushed before each repeat (so every repeat reads from HBM, as a real layer
// does; host clock on CPU), and the counters every row reports.
#pragma once

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include <functional>
#include <string>
#include <vector>

#include "core/kernels/op_impl.h"

namespace griffin::bench {

// Copy ceiling of the H200, measured (docs/DESIGN.md section 4): 4.25 TB/s counting read + write.
inline constexpr double kCopyCeilingGBps = 4250.0;

struct Shape {
  int64_t batch, seq_len, dim;
  at::ScalarType dtype;
  std::string Key() const;
  double Elements() const { return static_cast<double>(batch * seq_len * dim); }
};

// B in {1, 8, 64} x T in {1, 2048, 16384, 131072} x D in {2560, 4096}, fp32 and bf16 on a GPU
// (one small shape on CPU), leaving out shapes whose `live_tensors` [B, T, D] tensors would not
// fit comfortably (each at most 2 GiB, all of them at most 24 GiB).
std::vector<Shape> ShapeGrid(bool cuda, int live_tensors);

// Seconds taken by one call of `fn` on `device`, after flushing L2 (CUDA) first.
double TimeOnce(const at::Device& device, const std::function<void()>& fn);

// One registered row: the op's benchmark name, the shape, the implementation and the device.
struct BenchCase {
  std::string op;  // e.g. "RgLruBackward"
  Shape shape;
  OpImpl impl;
  at::Device device;
  // What a reference time is filed under: op and shape, so that a kernel is only ever compared
  // with the reference of the same op.
  std::string ReferenceKey() const { return op + "/" + shape.Key(); }
};

// Times `call` once per benchmark iteration and reports the median, GB/s for `bytes` moved, the
// fraction of the copy ceiling and, for non-reference implementations, the speedup over the
// reference's median for the same op and shape (the reference rows are registered first; where
// no reference ran, the speedup counter is absent rather than zero).
void TimeAndReport(benchmark::State& state, const BenchCase& c, double bytes,
                   const std::function<void()>& call);

// Registers `run` for every built implementation over `shapes`; the reference only up to
// `reference_max_seq_len` tokens (it loops over time in ATen: past that it only burns lease time).
using BenchBody = std::function<void(benchmark::State&, const BenchCase&)>;
void RegisterOverShapes(const std::string& name, const std::vector<Shape>& shapes,
                        int64_t reference_max_seq_len, const BenchBody& run);

}  // namespace griffin::bench
