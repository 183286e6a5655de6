// The trainer's fused AdamW against LibTorch's torch::optim::AdamW with clip_grad_norm_ (the
// implementation it replaced), on one device: same parameters, gradients and schedule.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "eval/train/adamw.h"

namespace griffin::eval::checks {

// Two groups (with and without weight decay), awkward shapes, gradients large enough that
// clipping scales them on some steps and not others, a learning rate that changes every step.
inline void ExpectAdamWMatchesLibTorch(c10::Device device) {
  const c10::InferenceMode not_inference(false);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const std::vector<std::vector<int64_t>> shapes = {{7, 5}, {13}, {3, 1, 9}, {1}};
  std::vector<at::Tensor> mine, theirs;
  for (const auto& shape : shapes) {
    const at::Tensor init = at::randn(shape, gen, at::kFloat).to(device);
    mine.push_back(init.clone().set_requires_grad(true));
    theirs.push_back(init.clone().set_requires_grad(true));
  }
  const double wd = 0.1, max_norm = 1.5;
  AdamW fused({{{mine[0], mine[2]}, wd}, {{mine[1], mine[3]}, 0.0}}, 0.9, 0.98, 1e-8);
  const auto options = torch::optim::AdamWOptions(1e-3).betas({0.9, 0.98}).eps(1e-8);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{theirs[0], theirs[2]},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(options).weight_decay(wd)));
  groups.emplace_back(std::vector<at::Tensor>{theirs[1], theirs[3]},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(options).weight_decay(0.0)));
  torch::optim::AdamW reference(std::move(groups));
  for (int step = 0; step < 6; ++step) {
    const double lr = 1e-2 / (step + 1);
    const double scale = step % 2 == 0 ? 0.05 : 3.0;  // below and above max_norm
    fused.ZeroGrad();
    reference.zero_grad();
    for (size_t i = 0; i < mine.size(); ++i) {
      const at::Tensor g = (scale * at::randn(shapes[i], gen, at::kFloat)).to(device);
      mine[i].mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
    const double norm = fused.ClipGradNorm(max_norm).item<double>();
    const double reference_norm = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    EXPECT_NEAR(norm, reference_norm, 1e-5 * reference_norm) << "step " << step;
    fused.SetRate(lr);
    fused.Step();
    for (auto& group : reference.param_groups()) group.options().set_lr(lr);
    reference.step();
    for (size_t i = 0; i < mine.size(); ++i) {
      EXPECT_TRUE(at::allclose(mine[i], theirs[i], 1e-5, 1e-6))
          << "step " << step << " parameter " << i << ": max difference "
          << (mine[i] - theirs[i]).abs().max().item<double>();
    }
  }
}

}  // namespace griffin::eval::checks
