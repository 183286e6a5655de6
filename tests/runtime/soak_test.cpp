// The soak stream on the CPU: depths add up (chunks and decode probes), the recurrent model's state
// stops growing once its window is full while the Transformer's grows with every token, running
// out of memory at a chosen chunk keeps the rows before it and says where, other errors propagate,
// and bad options are refused.
#include "core/runtime/soak.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "test_util.h"

namespace griffin {
namespace {

SoakOptions Small() {
  SoakOptions o;
  o.tokens = 300;
  o.chunk = 64;
  o.batch = 2;
  o.decode_probe = 2;
  return o;
}

TEST(Soak, DepthsCountChunksAndProbes) {
  const auto model = LoadModel("preset:tiny-griffin", {});
  std::vector<int64_t> seen;
  const SoakResult r =
      RunSoak(*model, Small(), [&](const SoakRow& row) { seen.push_back(row.depth); });
  EXPECT_TRUE(r.stopped.empty());
  // 64 + 2 per chunk; the last chunk takes the 36 tokens left and no probe.
  EXPECT_EQ(seen, (std::vector<int64_t>{66, 132, 198, 264, 300}));
  ASSERT_EQ(r.rows.size(), 5u);
  EXPECT_EQ(r.rows.back().chunk_tokens, 36);
  EXPECT_TRUE(std::isnan(r.rows.back().decode_seconds));
  for (size_t i = 0; i + 1 < r.rows.size(); ++i) {
    EXPECT_GT(r.rows[i].decode_seconds, 0.0) << i;
    EXPECT_GT(r.rows[i].chunk_seconds, 0.0) << i;
  }
}

TEST(Soak, RecurrentStateIsFlatPastItsWindowTransformerCacheGrows) {
  const auto griffin = LoadModel("preset:tiny-griffin", {});
  const int64_t window = griffin->config().attention_window;
  SoakOptions o = Small();
  o.tokens = 8 * window;
  o.chunk = window / 2;  // rows on both sides of the window
  const SoakResult g = RunSoak(*griffin, o);
  int64_t full = -1;
  for (const SoakRow& row : g.rows) {
    if (row.depth < window) continue;
    if (full < 0) full = row.state_bytes;
    EXPECT_EQ(row.state_bytes, full) << "depth " << row.depth;
  }
  ASSERT_GT(full, 0);
  ASSERT_GE(g.rows.size(), 10u);
  const SoakResult t = RunSoak(*LoadModel("preset:tiny-gemma", {}), o);
  for (size_t i = 1; i < t.rows.size(); ++i) {
    EXPECT_GT(t.rows[i].state_bytes, t.rows[i - 1].state_bytes) << "depth " << t.rows[i].depth;
  }
}

TEST(Soak, OutOfMemoryKeepsTheRowsBefore) {
  const auto model = LoadModel("preset:tiny-griffin", {});
  int calls = 0;
  const SoakForward fail_third = [&](const at::Tensor& ids, const at::Tensor& pos,
                                     DecodeState& state) {
    if (++calls == 3) {
      TORCH_CHECK_WITH(OutOfMemoryError, false,
                       "CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail");
    }
    return model->Forward(ids, pos, state, nullptr, true);
  };
  const SoakResult r = RunSoak(*model, Small(), nullptr, fail_third);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows.back().depth, 132);
  EXPECT_NE(r.stopped.find("out of memory at depth 132 with 2 rows a step (2.00 GiB asked); 2 "
                           "chunks measured"),
            std::string::npos)
      << r.stopped;
  EXPECT_NE(r.stopped.find("Tried to allocate 2.00 GiB"), std::string::npos) << r.stopped;
  EXPECT_EQ(r.stopped.find("more detail"), std::string::npos) << "one line: " << r.stopped;
}

TEST(Soak, OtherErrorsPropagate) {
  const auto model = LoadModel("preset:tiny-griffin", {});
  const SoakForward broken = [](const at::Tensor&, const at::Tensor&, DecodeState&) -> at::Tensor {
    TORCH_CHECK(false, "shape mismatch");
  };
  testing::ExpectErrorContaining([&] { RunSoak(*model, Small(), nullptr, broken); },
                                 {"shape mismatch"});
}

TEST(Soak, BadOptionsAreRefused) {
  const auto model = LoadModel("preset:tiny-griffin", {});
  SoakOptions o = Small();
  o.chunk = 0;
  testing::ExpectErrorContaining([&] { RunSoak(*model, o); }, {"chunk must be positive, got 0"});
  o = Small();
  o.decode_probe = -1;
  testing::ExpectErrorContaining([&] { RunSoak(*model, o); }, {"decode_probe", "-1"});
}

}  // namespace
}  // namespace griffin
