// TrainOptions::graph against eager steps: the same options trained both ways end with the same
// weights and losses (the CPU runs the graph path's fixed buffers eagerly; the GPU replays).
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "eval/tasks/mqar.h"
#include "eval/train/trainer.h"

namespace griffin::eval::checks {

inline void ExpectGraphStepsMatchEager(TrainOptions o, double tolerance, bool expect_capture) {
  const auto task = std::make_shared<Mqar>(MqarOptions{.vocab = 64, .seq_len = 48, .pairs = 4});
  o.graph = false;
  Trainer eager(task, o);
  eager.Run();
  o.graph = true;
  Trainer graph(task, o);
  graph.Run();
  EXPECT_EQ(graph.graph_captured(), expect_capture);
  for (const auto& [name, p] : eager.parameters()) {
    const at::Tensor q = graph.parameters().at(name);
    if (tolerance == 0.0) {
      EXPECT_TRUE(at::equal(p, q)) << name;
    } else {
      EXPECT_TRUE(at::allclose(p, q, tolerance, tolerance))
          << name << ": max difference " << (p - q).abs().max().item<double>();
    }
  }
  ASSERT_EQ(graph.steps().size(), eager.steps().size());
  for (size_t i = 0; i < eager.steps().size(); ++i) {
    EXPECT_NEAR(graph.steps()[i].loss, eager.steps()[i].loss,
                tolerance * (1.0 + std::abs(eager.steps()[i].loss)))
        << "step " << i;
    EXPECT_NEAR(graph.steps()[i].grad_norm, eager.steps()[i].grad_norm,
                tolerance * (1.0 + eager.steps()[i].grad_norm))
        << "step " << i;
  }
}

}  // namespace griffin::eval::checks
