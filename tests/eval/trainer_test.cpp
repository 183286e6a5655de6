// The small-model trainer on CPU: the schedule, loss going down on a tiny MQAR, every family
// (Griffin, Hawk, Transformer, local attention only) training every parameter, a run killed
// mid-way resuming from its checkpoint to bit-identical weights and metrics, and a checkpoint
// from other options refused.
#include "eval/train/trainer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <numeric>

#include "core/io/paths.h"
#include "eval/tasks/mqar.h"
#include "eval/train_graph_check.h"
#include "test_util.h"

namespace griffin::eval {
namespace {

constexpr const char* kTinyGriffin =
    "tiny-griffin,width=32,lru_width=32,heads=2,head_dim=16,mlp_width=64,layers=2,pattern=RA,"
    "window=8";

std::shared_ptr<const SyntheticTask> TinyMqar() {
  return std::make_shared<Mqar>(MqarOptions{.vocab = 64, .seq_len = 32, .pairs = 4});
}

TrainOptions Tiny(const std::string& model = kTinyGriffin) {
  TrainOptions o;
  o.model = model;
  o.batch = 16;
  o.steps = 14;
  o.warmup = 3;
  o.lr = 3e-3;
  o.eval_every = 3;
  o.eval_batches = 2;
  o.checkpoint_every = 4;
  o.seed = 5;
  return o;
}

TEST(Schedule, WarmsUpLinearlyThenFollowsTheCosine) {
  TrainOptions o;
  o.steps = 110;
  o.warmup = 10;
  o.lr = 1.0;
  o.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(ScheduledLr(o, 0), 0.1);
  EXPECT_DOUBLE_EQ(ScheduledLr(o, 9), 1.0);
  EXPECT_DOUBLE_EQ(ScheduledLr(o, 10), 1.0);
  EXPECT_NEAR(ScheduledLr(o, 60), 0.55, 1e-12);  // half way down the cosine
  EXPECT_NEAR(ScheduledLr(o, 110), 0.1, 1e-12);
  for (int64_t s = 11; s < 110; ++s) EXPECT_LT(ScheduledLr(o, s), ScheduledLr(o, s - 1));
}

TEST(Trainer, LossGoesDownOnTinyMqar) {
  TrainOptions o = Tiny();
  o.steps = 80;
  o.batch = 32;
  o.warmup = 10;
  o.eval_every = 80;
  Trainer t(TinyMqar(), o);
  const TrainSummary s = t.Run();
  EXPECT_EQ(s.steps_done, 80);
  ASSERT_EQ(t.steps().size(), 80u);
  const auto mean = [&](size_t from) {
    double sum = 0;
    for (size_t i = from; i < from + 10; ++i) sum += t.steps()[i].loss;
    return sum / 10;
  };
  EXPECT_LT(mean(70), mean(0) - 0.5) << "first 10 steps " << mean(0) << ", last 10 " << mean(70);
  EXPECT_GT(s.tokens_per_s, 0);
  // Each step's own time lies inside its interval's wall time (on the CPU both are clocks).
  EXPECT_GT(s.median_device_step_ms, 0);
  EXPECT_LE(s.median_device_step_ms, s.median_step_ms);
  EXPECT_EQ(t.evals().size(), 1u);
  EXPECT_LT(t.evals().back().loss, mean(0));
}

TEST(Trainer, EveryFamilyTrainsEveryParameter) {
  for (const std::string model :
       {std::string(kTinyGriffin),
        std::string("tiny-hawk,width=32,lru_width=32,heads=2,mlp_width=64,layers=2"),
        std::string("tiny-gemma,width=32,heads=2,head_dim=16,mlp_width=64,layers=2"),
        std::string("tiny-griffin,width=32,heads=2,head_dim=16,mlp_width=64,layers=2,"
                    "pattern=A,window=8")}) {
    SCOPED_TRACE(model);
    TrainOptions o = Tiny(model);
    o.steps = 2;
    Trainer t(TinyMqar(), o);
    std::map<std::string, at::Tensor> before;
    for (const auto& [name, p] : t.parameters()) before[name] = p.detach().clone();
    t.Run();
    for (const auto& [name, p] : t.parameters()) {
      EXPECT_FALSE(at::equal(p, before[name])) << name << " did not change";
    }
  }
}

TEST(Trainer, GraphOptionOnTheCpuGivesTheEagerWeights) {
  for (const std::string model :
       {std::string(kTinyGriffin),
        std::string("tiny-gemma,width=32,heads=2,head_dim=16,mlp_width=64,layers=2")}) {
    SCOPED_TRACE(model);
    TrainOptions o = Tiny(model);
    o.steps = 7;
    checks::ExpectGraphStepsMatchEager(o, 0.0, /*expect_capture=*/false);
  }
}

TEST(Trainer, KilledRunResumesToTheSameWeights) {
  const std::string dir = paths::MakeTempDir("griffin-trainer-test");
  const std::string straight_dir = paths::Join(dir, "straight");
  const std::string killed_dir = paths::Join(dir, "killed");
  TrainOptions o = Tiny();
  o.out_dir = straight_dir;
  Trainer straight(TinyMqar(), o);
  straight.Run();

  o.out_dir = killed_dir;
  {
    Trainer killed(TinyMqar(), o);
    // Dies at the eval after step 9; the last checkpoint is step 8's.
    EXPECT_THROW(killed.Run([](const std::string& line) {
      if (line.rfind("step 9/", 0) == 0) throw std::runtime_error("killed");
    }),
                 std::runtime_error);
  }
  Trainer resumed(TinyMqar(), o);
  const TrainSummary s = resumed.Run();
  EXPECT_EQ(s.resumed_from, 8);
  EXPECT_EQ(s.steps_done, 14);
  for (const auto& [name, p] : straight.parameters()) {
    EXPECT_TRUE(at::equal(p, resumed.parameters().at(name))) << name;
  }
  ASSERT_EQ(resumed.steps().size(), straight.steps().size());
  for (size_t i = 0; i < straight.steps().size(); ++i) {
    EXPECT_EQ(resumed.steps()[i].loss, straight.steps()[i].loss) << "step " << i;
  }
  ASSERT_EQ(resumed.evals().size(), straight.evals().size());
  for (size_t i = 0; i < straight.evals().size(); ++i) {
    EXPECT_EQ(resumed.evals()[i].token_accuracy, straight.evals()[i].token_accuracy);
  }
  // Finished: running again trains nothing more.
  Trainer again(TinyMqar(), o);
  EXPECT_EQ(again.Run().steps_done, 14);
  EXPECT_TRUE(at::equal(again.parameters().begin()->second, straight.parameters().begin()->second));

  // Another learning rate may not continue this checkpoint.
  o.lr = 1e-3;
  Trainer other(TinyMqar(), o);
  testing::ExpectErrorContaining([&] { other.Run(); },
                                 {"checkpoint.safetensors", "other options", "lr=0.003"});
  paths::RemoveTree(dir);
}

// Recall scoring on crafted predictions, counted by hand: 3 examples of 4 positions; example 0
// scores positions 1 and 3 (both predicted right), example 1 position 1 (wrong), example 2
// positions 1 and 2 (right, wrong): 3 of 5 tokens and 1 of 3 examples are right.
TEST(RecallScore, CountsTokensAndWholeExamples) {
  const int64_t B = 3, L = 4, V = 5;
  const at::Tensor rows = at::tensor({1, 3, 5, 9, 10}, at::kLong);
  const at::Tensor targets = at::tensor({2, 4, 1, 0, 3}, at::kLong);
  const std::vector<int64_t> predicted = {2, 4, 3, 0, 1};
  at::Tensor logits = at::zeros({5, V});
  for (int64_t i = 0; i < 5; ++i) logits[i][predicted[i]] = 1.0;
  const RecallCounts c = CountRecall(logits, targets, rows, B, L);
  EXPECT_EQ(c.right, 3);
  EXPECT_EQ(c.scored, 5);
  EXPECT_EQ(c.examples_right, 1);
  EXPECT_EQ(c.examples, 3);
  // Every prediction right: every example right; none: no example right.
  const at::Tensor all = at::one_hot(targets, V).to(at::kFloat);
  EXPECT_EQ(CountRecall(all, targets, rows, B, L).examples_right, 3);
  const at::Tensor none = at::one_hot((targets + 1) % V, V).to(at::kFloat);
  const RecallCounts n = CountRecall(none, targets, rows, B, L);
  EXPECT_EQ(n.right, 0);
  EXPECT_EQ(n.examples_right, 0);
}

TEST(Trainer, BadOptionsAreClear) {
  TrainOptions o = Tiny();
  o.lr = 0;
  testing::ExpectErrorContaining([&] { Trainer(TinyMqar(), o); }, {"train", "lr 0 must be > 0"});
  o = Tiny("tiny-griffin,widht=3");
  testing::ExpectErrorContaining([&] { Trainer(TinyMqar(), o); }, {"widht"});
  o = Tiny();
  o.device = "gpu";
  testing::ExpectErrorContaining([&] { Trainer(TinyMqar(), o); },
                                 {"train: device 'gpu' is not cpu, cuda or cuda:N"});
  // Every bounded option is checked from the same list the config reader walks.
  o = Tiny();
  o.checkpoint_every = 0;
  testing::ExpectErrorContaining([&] { Trainer(TinyMqar(), o); },
                                 {"train: checkpoint_every 0 must be >= 1"});
  o = Tiny();
  o.clip = -1;
  testing::ExpectErrorContaining([&] { Trainer(TinyMqar(), o); }, {"train: clip -1 must be >= 0"});
}

}  // namespace
}  // namespace griffin::eval
