// Summaries of raw timing samples (torch-free): quantiles, and per-token latency by depth for
// long generations, where the question is whether a token costs the same at 20k as at 1k.
#pragma once

#include <cstdint>
#include <vector>

namespace griffin {

// q-quantile (0..1) of samples, by linear interpolation between order statistics; 0 when empty.
double Quantile(std::vector<double> samples, double q);

struct DepthLatency {
  int64_t token = 0;  // 1-based index of the output token the span ends at
  int64_t span = 0;   // tokens summarised
  double median_s = 0.0, p99_s = 0.0;
};

// step_s[i] is the time from output token i + 1 to token i + 2 (the first token's time, the
// prefill, is not in it). For each depth 1k, 2k, 5k, 10k, 20k, 50k, ... reached, and for the last
// token, the median and p99 of the `span` steps ending at that token.
std::vector<DepthLatency> LatencyAtDepths(const std::vector<double>& step_s, int64_t span = 100);

}  // namespace griffin
