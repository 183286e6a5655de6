// Helpers shared by the test suites: normalised error and device availability.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

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

// data/fixtures/NAME in the source tree.
inline std::string FixtureDir(const std::string& name) {
  return std::string(GRIFFIN_SOURCE_DIR) + "/data/fixtures/" + name;
}

// Runs `fn` and checks it throws an exception (std::exception or c10::Error) whose message
// contains every one of `needles`.
template <typename Fn>
void ExpectErrorContaining(Fn&& fn, std::initializer_list<std::string> needles) {
  std::string message;
  try {
    fn();
  } catch (const c10::Error& e) {
    message = e.what_without_backtrace();
  } catch (const std::exception& e) {
    message = e.what();
  }
  if (message.empty()) {
    ADD_FAILURE() << "expected an error, none was thrown";
    return;
  }
  for (const std::string& n : needles) {
    EXPECT_NE(message.find(n), std::string::npos) << "'" << n << "' not in: " << message;
  }
}

}  // namespace griffin::testing

// Skips a GPU test with a clear reason when this machine has no usable CUDA device.
#define GRIFFIN_REQUIRE_CUDA()                                            \
  do {                                                                    \
    if (!::griffin::testing::CudaAvailable()) {                           \
      GTEST_SKIP() << "no CUDA device on this machine; runs on the H200"; \
    }                                                                     \
  } while (0)
