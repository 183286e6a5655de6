// Multi-query associative recall, as Zoology generates it (docs/EVALS.md section 2): N key-value
// pairs k1 v1 ... kN vN (keys from [1, V/2), values from [V/2, V), distinct within an example),
// then a query region where each key appears once more, at gap slot g (token 2g of the region)
// drawn without replacement with probability proportional to (g + 1)^(a - 1) (a = 0.01: short gaps
// favoured); the token after each query is scored against its value. Other query-region tokens
// are 0, or random ids in [0, V) with `random_non_queries`.
#pragma once

#include "eval/tasks/task.h"

namespace griffin::eval {

struct MqarOptions {
  int64_t vocab = 8192;
  int64_t seq_len = 64;
  int64_t pairs = 4;
  double power_a = 0.01;
  bool random_non_queries = true;
};

class Mqar : public SyntheticTask {
 public:
  explicit Mqar(MqarOptions o);  // checks Zoology's constraints: L even, V > L, 4N <= L
  std::string name() const override { return "mqar"; }
  int64_t vocab_size() const override { return o_.vocab; }
  int64_t seq_len() const override { return o_.seq_len; }
  int64_t answers_per_example() const override { return o_.pairs; }
  TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const override;

 private:
  MqarOptions o_;
  std::vector<double> gap_weights_;
};

}  // namespace griffin::eval
