// The CUDA soft-capped cross-entropy against the ATen reference on random logits of awkward sizes
// (a vocabulary of one, vocabularies that are no multiple of the vector, Gemma's 256000, with and
// without a cap, logits far beyond the cap, fp32 / bf16 / fp64), the loss and the logits'
// gradient, the gradient against finite differences in fp64, and what a bad target gives.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "core/kernels/softcap_cross_entropy.h"
#include "test_util.h"

namespace griffin {
namespace {

using testing::RelativeError;

using Case = std::tuple<int64_t, int64_t, double, at::ScalarType>;  // rows, vocab, cap, dtype

class SoftCapCrossEntropyCuda : public ::testing::TestWithParam<Case> {};

TEST_P(SoftCapCrossEntropyCuda, LossAndGradientMatchReference) {
  GRIFFIN_REQUIRE_CUDA();
  const auto [rows, vocab, cap, dtype] = GetParam();
  const double tol = dtype == at::kBFloat16 ? 1e-2 : dtype == at::kFloat ? 1e-5 : 1e-12;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(rows * 7 + vocab);
  // Logits up to ~3x the cap, so the cap bends them, and targets anywhere in the vocabulary.
  const at::Tensor logits0 = (at::randn({rows, vocab}, gen) * 30).to(dtype).to(at::kCUDA);
  const at::Tensor targets = at::randint(vocab, {rows}, gen).to(at::kCUDA);
  std::vector<at::Tensor> losses, grads;
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    at::Tensor logits = logits0.clone().requires_grad_(true);
    const at::Tensor loss = SoftCapCrossEntropy({logits, targets, cap}, impl);
    (loss * 3.0).backward();
    losses.push_back(loss.detach());
    grads.push_back(logits.grad());
  }
  EXPECT_EQ(losses[1].dim(), 0);
  EXPECT_EQ(losses[1].scalar_type(), dtype == at::kDouble ? at::kDouble : at::kFloat);
  EXPECT_EQ(grads[1].scalar_type(), dtype);
  EXPECT_LE(RelativeError(losses[1], losses[0]), dtype == at::kDouble ? 1e-12 : 1e-5);
  EXPECT_LE(RelativeError(grads[1], grads[0]), tol);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (auto [rows, vocab] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 5}, {17, 384}, {4096, 8192}, {5, 8193}, {3, 256000}}) {
    if (!testing::InTestGrid(rows * vocab)) continue;
    for (double cap : {0.0, 30.0}) {
      for (at::ScalarType dt : {at::kFloat, at::kBFloat16})
        cases.emplace_back(rows, vocab, cap, dt);
    }
  }
  cases.emplace_back(6, 37, 30.0, at::kDouble);
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const auto& [rows, vocab, cap, dt] = info.param;
  return "R" + std::to_string(rows) + "_V" + std::to_string(vocab) + (cap > 0 ? "_cap" : "") + "_" +
         (dt == at::kFloat      ? "f32"
          : dt == at::kBFloat16 ? "bf16"
                                : "f64");
}

INSTANTIATE_TEST_SUITE_P(AwkwardSizes, SoftCapCrossEntropyCuda, ::testing::ValuesIn(Cases()),
                         CaseName);

TEST(SoftCapCrossEntropyCudaGradients, MatchFiniteDifferencesInFloat64) {
  GRIFFIN_REQUIRE_CUDA();
  for (double cap : {0.0, 2.0}) {
    SCOPED_TRACE(cap);
    at::Tensor logits = (at::randn({4, 13}, at::kDouble) * 3).to(at::kCUDA);
    const at::Tensor targets = at::randint(13, {4}, at::kLong).to(at::kCUDA);
    testing::ExpectFiniteDifferenceGradients(
        [&] {
          return SoftCapCrossEntropy({logits, targets, cap}, OpImpl::kCuda);
        },
        {&logits});
  }
}

TEST(SoftCapCrossEntropyCudaTargets, OutOfRangeGivesNaN) {
  GRIFFIN_REQUIRE_CUDA();
  const at::Tensor logits = at::randn({2, 7}, at::kCUDA);
  for (int64_t bad : {-1, 7}) {
    const at::Tensor targets = at::tensor({int64_t{3}, bad}, at::kLong).to(at::kCUDA);
    EXPECT_TRUE(
        std::isnan(SoftCapCrossEntropy({logits, targets, 0.0}, OpImpl::kCuda).item<double>()));
  }
}

TEST(SoftCapCrossEntropyCudaArgs, BadShapesAreRejected) {
  GRIFFIN_REQUIRE_CUDA();
  const at::Tensor logits = at::randn({2, 7}, at::kCUDA);
  testing::ExpectErrorContaining(
      [&] {
        SoftCapCrossEntropy({logits, at::zeros({3}, at::kLong).cuda(), 0.0}, OpImpl::kCuda);
      },
      {"targets must be int64 [2]"});
  testing::ExpectErrorContaining(
      [&] {
        SoftCapCrossEntropy({logits, at::zeros({2}, at::kLong).cuda(), -1.0}, OpImpl::kCuda);
      },
      {"cap must be >= 0"});
}

}  // namespace
}  // namespace griffin
