#include "core/runtime/latency_stats.h"

#include <algorithm>
#include <stdexcept>

namespace griffin {

double Quantile(std::vector<double> s, double q) {
  if (s.empty()) return 0.0;
  std::sort(s.begin(), s.end());
  const double pos = q * static_cast<double>(s.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}

std::vector<DepthLatency> LatencyAtDepths(const std::vector<double>& step_s, int64_t span) {
  if (span < 1) throw std::invalid_argument("latency span must be >= 1");
  const int64_t last_token = static_cast<int64_t>(step_s.size()) + 1;
  std::vector<int64_t> depths;
  for (int64_t decade = 1000; decade <= last_token; decade *= 10) {
    for (int64_t m : {1, 2, 5}) {
      if (decade * m <= last_token) depths.push_back(decade * m);
    }
  }
  if (!step_s.empty() && (depths.empty() || depths.back() != last_token)) {
    depths.push_back(last_token);
  }
  std::vector<DepthLatency> out;
  for (int64_t token : depths) {
    const int64_t end = token - 1;  // steps [end - span, end) end at `token`
    const int64_t begin = std::max<int64_t>(0, end - span);
    const std::vector<double> window(step_s.begin() + begin, step_s.begin() + end);
    out.push_back({token, end - begin, Quantile(window, 0.5), Quantile(window, 0.99)});
  }
  return out;
}

}  // namespace griffin
