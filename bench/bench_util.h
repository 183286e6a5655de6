// Timing for the microbenchmarks: CUDA events on the current stream with the L2 cache flushed
// before each repeat (so every repeat reads from HBM, as a real layer does), host clock on CPU.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

namespace griffin::bench {

// Copy ceiling of the H200, measured (docs: ANCHORS.md): 4.25 TB/s counting read + write.
inline constexpr double kCopyCeilingGBps = 4250.0;

// Seconds taken by one call of `fn` on `device`, after flushing L2 (CUDA) first.
double TimeOnce(const at::Device& device, const std::function<void()>& fn);

// Ratio of each (implementation, shape) time to the reference's time for that shape, filled as
// the reference benchmarks run (they are registered first, so they run first).
void RecordReferenceSeconds(const std::string& shape_key, double seconds);
double ReferenceSeconds(const std::string& shape_key);  // 0 when the reference did not run

}  // namespace griffin::bench
