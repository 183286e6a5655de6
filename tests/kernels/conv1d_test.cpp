// CPU tests of the Conv1D op: the reference against a per-element loop, and argument checks.
#include "core/kernels/conv1d.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace griffin {
namespace {

TEST(Conv1dReference, MatchesAnElementwiseLoopWithDocumentStarts) {
  const int64_t B = 2, T = 9, D = 3, W = 4;
  Conv1dArgs a{at::randn({B, T, D}, at::kDouble),     at::empty({B, T}, at::kLong),
               at::randn({W, D}, at::kDouble),        at::randn({D}, at::kDouble),
               at::randn({B, W - 1, D}, at::kDouble), at::empty({B, W - 1}, at::kLong)};
  // Row 0 continues a document from the tail; row 1 has a start inside the tail and at t = 4.
  const std::vector<std::vector<int64_t>> pos = {{7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
                                                 {3, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4}};
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < W - 1 + T; ++t) {
      (t < W - 1 ? a.tail_positions[b][t] : a.positions[b][t - (W - 1)]) = pos[b][t];
    }
  }
  const at::Tensor got = Conv1dOp(a, OpImpl::kReference);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t d = 0; d < D; ++d) {
        double want = a.b[d].item<double>();
        for (int64_t s = 0; s < W; ++s) {
          bool cut = false;  // a document start among tokens t-s+1 .. t
          for (int64_t r = t - s + 1; r <= t; ++r) cut = cut || pos[b][r + W - 1] == 0;
          if (cut) break;
          const int64_t src = t - s;
          const double u =
              src >= 0 ? a.u[b][src][d].item<double>() : a.tail[b][W - 1 + src][d].item<double>();
          want += u * a.w[W - 1 - s][d].item<double>();
        }
        EXPECT_NEAR(got[b][t][d].item<double>(), want, 1e-12) << b << " " << t << " " << d;
      }
    }
  }
}

TEST(Conv1dChecks, RejectsBadArgumentsWithClearErrors) {
  using testing::ExpectErrorContaining;
  const Conv1dArgs good{at::randn({2, 5, 3}), at::zeros({2, 5}, at::kLong),
                        at::randn({4, 3}),    at::randn({3}),
                        at::zeros({2, 3, 3}), at::zeros({2, 3}, at::kLong)};
  auto with = [&](auto edit) {
    Conv1dArgs a = good;
    edit(a);
    return [a] { Conv1dOp(a, OpImpl::kReference); };
  };
  ExpectErrorContaining(with([](Conv1dArgs& a) {
                          a.w = at::randn({5, 3});
                        }),
                        {"w must be [width <= 4"});
  ExpectErrorContaining(with([](Conv1dArgs& a) {
                          a.tail = at::zeros({2, 2, 3});
                        }),
                        {"tail must be"});
  ExpectErrorContaining(with([](Conv1dArgs& a) { a.b = a.b.to(at::kDouble); }), {"u's dtype"});
  ExpectErrorContaining(with([](Conv1dArgs& a) { a.positions = a.positions.to(at::kInt); }),
                        {"positions must be int64"});
  if (OpImplBuilt(OpImpl::kCuda)) {
    ExpectErrorContaining([&] { Conv1dOp(good, OpImpl::kCuda); }, {"CUDA device"});
  }
}

}  // namespace
}  // namespace griffin
