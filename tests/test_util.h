// Helpers shared by the test suites: normalised error and device availability.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace griffin::testing {

// ||out - ref|| / ||ref|| in float64 (the tolerance policy of DESIGN.md: fp32 <= 1e-5,
// bf16 <= 1e-2). NaN anywhere gives NaN, which fails every `<=` comparison.
inline double RelativeError(const at::Tensor& out, const at::Tensor& ref) {
  const at::Tensor o = out.to(at::kCPU, at::kDouble);
  const at::Tensor r = ref.to(at::kCPU, at::kDouble);
  const double denom = r.norm().item<double>();
  const double num = (o - r).norm().item<double>();
  return denom == 0.0 ? num : num / denom;
}

// at::hasCUDA() is true only when the CUDA hooks are loaded and a device is present.
inline bool CudaAvailable() { return at::hasCUDA(); }

}  // namespace griffin::testing

// Skips a GPU test with a clear reason when this machine has no usable CUDA device.
#define GRIFFIN_REQUIRE_CUDA()                                              \
  do {                                                                      \
    if (!::griffin::testing::CudaAvailable()) {                             \
      GTEST_SKIP() << "no CUDA device on this machine; runs on the H200"; \
    }                                                                       \
  } while (0)
