// Helpers shared by the test suites: normalised error and device availability.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace griffin::testing {

// ||out - ref|| / ||ref|| in float64 (the tolerance policy of docs/DESIGN.md section 3: fp32 <=
// 1e-5, bf16 <= 1e-2). NaN anywhere gives NaN, which fails every `<=` comparison.
inline double RelativeError(const at::Tensor& out, const at::Tensor& ref) {
  const at::Tensor o = out.to(at::kCPU, at::kDouble);
  const at::Tensor r = ref.to(at::kCPU, at::kDouble);
  const double denom = r.norm().item<double>();
  const double num = (o - r).norm().item<double>();
  return denom == 0.0 ? num : num / denom;
}

// Under compute-sanitizer (scripts/device-run.sh, GRIFFIN_SANITIZE) kernels run 10-100x slower,
// so GRIFFIN_TEST_SMALL_GRID=1 shrinks the GPU tests: parametrised shapes up to
// kSmallGridElements elements (still several chunks, the vector and the element paths, every
// dtype) and none of the multi-gigabyte determinism runs.
constexpr int64_t kSmallGridElements = int64_t{2} << 20;
inline bool SmallGrid() {
  const char* v = std::getenv("GRIFFIN_TEST_SMALL_GRID");
  return v != nullptr && std::string(v) == "1";
}
inline bool InTestGrid(int64_t elements) { return !SmallGrid() || elements <= kSmallGridElements; }

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

// Gradients of loss() with respect to each of `inputs` (float64 leaves) by autograd against
// central differences of loss() itself: ||autograd - numeric|| / ||numeric|| <= tol for each.
template <typename Loss>
void ExpectFiniteDifferenceGradients(Loss&& loss, const std::vector<at::Tensor*>& inputs,
                                     double tol = 1e-7, double eps = 1e-6) {
  for (at::Tensor* t : inputs) t->set_requires_grad(true);
  loss().backward();
  for (at::Tensor* t : inputs) {
    const at::Tensor grad = t->grad().cpu();
    at::Tensor numeric = at::empty_like(grad);
    const at::NoGradGuard no_grad;
    at::Tensor flat = t->view({-1});
    for (int64_t k = 0; k < flat.numel(); ++k) {
      const double v = flat[k].item<double>();
      flat[k] = v + eps;
      const double up = loss().template item<double>();
      flat[k] = v - eps;
      const double down = loss().template item<double>();
      flat[k] = v;
      numeric.view({-1})[k] = (up - down) / (2 * eps);
    }
    EXPECT_LE(RelativeError(grad, numeric), tol) << "input of shape " << t->sizes();
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

// Skips a large test when the small grid is asked for (SmallGrid above).
#define GRIFFIN_SKIP_ON_SMALL_GRID()                                            \
  do {                                                                          \
    if (::griffin::testing::SmallGrid()) {                                      \
      GTEST_SKIP() << "left out of the small grid (GRIFFIN_TEST_SMALL_GRID=1)"; \
    }                                                                           \
  } while (0)
