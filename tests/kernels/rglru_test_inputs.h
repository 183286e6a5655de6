// Random RG-LRU operands as the model produces them, shared by the CPU and GPU tests.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/kernels/rglru_scan.h"
#include "test_util.h"

namespace griffin::testing {

// Gates and inputs ~ N(0, 1); a_param from the official initialisation (a = sigmoid(-a_param)
// in [0.9, 0.999]); positions counting up per row from a random offset, restarting at 0 (a
// document start) with probability `reset_prob` at each step; h0 ~ N(0, 1) when asked for.
inline RgLruScanArgs RandomRgLruArgs(int64_t B, int64_t T, int64_t D, at::ScalarType dtype,
                                     uint64_t seed, bool with_h0, double reset_prob,
                                     const at::Device& device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto on = [&](const at::Tensor& t, at::ScalarType type) { return t.to(device, type); };
  RgLruScanArgs a;
  a.x = on(at::randn({B, T, D}, gen), dtype);
  a.gate_x = on(at::randn({B, T, D}, gen), dtype);
  a.gate_a = on(at::randn({B, T, D}, gen), dtype);
  const at::Tensor radius = 0.9 + 0.099 * at::rand({D}, gen);
  a.a_param = on(at::log(at::exp(-at::log(radius)) - 1.0), at::kFloat);
  at::Tensor pos = at::empty({B, T}, at::kLong);
  const at::Tensor restart = at::rand({B, T}, gen) < reset_prob;
  const at::Tensor offset = at::randint(0, 3, {B}, gen);
  for (int64_t b = 0; b < B; ++b) {
    int64_t p = offset[b].item<int64_t>();
    for (int64_t t = 0; t < T; ++t) {
      if (restart[b][t].item<bool>()) p = 0;
      pos[b][t] = p++;
    }
  }
  a.positions = pos.to(device);
  if (with_h0) {
    a.h0 = on(at::randn({B, D}, gen), dtype == at::kDouble ? at::kDouble : at::kFloat);
  }
  return a;
}

// Gradients of sum(y * weights) with respect to x, both gates, a_param and h0 by autograd against
// central differences, everything in float64 (`a` holds float64 tensors with an h0).
inline void ExpectGradientsMatchFiniteDifferences(RgLruScanArgs a, OpImpl impl) {
  a.a_param = a.a_param.to(at::kDouble);
  const at::Tensor weights = at::randn(a.x.sizes(), at::kDouble).to(a.x.device());
  ExpectFiniteDifferenceGradients([&] { return (RgLruScan(a, impl).y * weights).sum(); },
                                  {&a.x, &a.gate_x, &a.gate_a, &a.a_param, &*a.h0});
}

}  // namespace griffin::testing
