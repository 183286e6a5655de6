// Sampling and stopping: seeded reproducibility, top-k = 1 equals greedy, the repetition penalty,
// stop strings that are never printed, and generation on the fixtures.
#include "core/runtime/generate.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/runtime/latency_stats.h"
#include "test_util.h"

namespace griffin {
namespace {

std::vector<int64_t> Sample(const SamplingOptions& o, int n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto logits_gen = at::make_generator<at::CPUGeneratorImpl>(99);
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(SampleToken(at::randn({384}, logits_gen), o, gen));
  return out;
}

TEST(Sampling, SeededAndReproducible) {
  SamplingOptions o;
  o.greedy = false;
  o.temperature = 1.5;
  o.seed = 7;
  EXPECT_EQ(Sample(o, 50), Sample(o, 50));
  SamplingOptions other = o;
  other.seed = 8;
  EXPECT_NE(Sample(o, 50), Sample(other, 50));
}

TEST(Sampling, TopKOneEqualsGreedy) {
  SamplingOptions greedy;
  SamplingOptions top1;
  top1.greedy = false;
  top1.temperature = 2.0;
  top1.top_k = 1;
  top1.seed = 3;
  EXPECT_EQ(Sample(top1, 40), Sample(greedy, 40));
  // A tiny nucleus keeps only the most likely token too.
  SamplingOptions nucleus = top1;
  nucleus.top_k = 0;
  nucleus.top_p = 1e-6;
  EXPECT_EQ(Sample(nucleus, 40), Sample(greedy, 40));
}

TEST(Sampling, RepetitionPenaltyDemotesSeenTokens) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const at::Tensor logits = at::tensor({1.0f, 3.0f, 2.9f, -1.0f});
  SamplingOptions o;
  EXPECT_EQ(SampleToken(logits, o, gen, {1}), 1);
  o.repetition_penalty = 1.5;  // 3.0 / 1.5 = 2.0 < 2.9
  EXPECT_EQ(SampleToken(logits, o, gen, {1}), 2);
  EXPECT_EQ(SampleToken(logits, o, gen, {}), 1);
}

TEST(Sampling, VocabLimitKeepsIdsTheTokenizerCanDecode) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  at::Tensor logits = at::zeros({1000});
  logits[900] = 50.0f;  // by far the most likely, but beyond the limit
  SamplingOptions o;
  o.vocab_limit = 384;
  EXPECT_LT(SampleToken(logits, o, gen), 384);
  o.greedy = false;
  o.repetition_penalty = 1.3;  // the context may hold any id; the penalty still applies
  for (int i = 0; i < 200; ++i) EXPECT_LT(SampleToken(logits, o, gen, {900, 5}), 384);
  o.vocab_limit = 0;
  o.greedy = true;
  EXPECT_EQ(SampleToken(logits, o, gen), 900);
}

TEST(StopStrings, StopsAndNeverPrintsTheStopString) {
  StopStrings s({"</end>", "STOP"});
  std::string shown = s.Push("Hello </e");
  EXPECT_EQ(shown, "Hello ");  // "</e" might start "</end>": held back
  shown += s.Push("nd> tail");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(shown, "Hello ");
  StopStrings t({"STOP"});
  std::string all = t.Push("no ST");
  EXPECT_EQ(all, "no ");  // "ST" might start "STOP": held back
  all += t.Push("ill here");
  all += t.Flush();
  EXPECT_FALSE(t.stopped());
  EXPECT_EQ(all, "no STill here");
  testing::ExpectErrorContaining([] { StopStrings({""}); }, {"stop string is empty"});
}

TEST(Generate, StopIdsEndGenerationAndEmptyPromptsAreErrors) {
  const auto model = LoadModel(testing::FixtureDir("tiny-recurrentgemma"), {});
  const at::InferenceMode guard;
  GenerateOptions o;
  o.max_new_tokens = 28;
  const std::vector<int64_t> prompt = {2, 220, 121, 171};
  const std::vector<int64_t> all = Generate(*model, prompt, o);
  ASSERT_EQ(all.size(), 28u);
  o.stop_ids = {all[5]};
  const std::vector<int64_t> stopped = Generate(*model, prompt, o);
  const size_t first = std::find(all.begin(), all.end(), all[5]) - all.begin();
  EXPECT_EQ(stopped, std::vector<int64_t>(all.begin(), all.begin() + first + 1));
  testing::ExpectErrorContaining([&] { Generate(*model, {}, o); }, {"prompt is empty"});
}

TEST(GenerateBatch, GreedyRowsEqualEachPromptAlone) {
  for (const char* fixture : {"tiny-recurrentgemma", "tiny-gemma"}) {
    const auto model = LoadModel(testing::FixtureDir(fixture), {});
    const at::InferenceMode guard;
    GenerateOptions o;
    o.max_new_tokens = 20;
    const std::vector<std::vector<int64_t>> prompts = {
        {2, 220, 121, 171, 85, 232, 148, 190, 128, 155, 371, 261, 160, 167}, {2, 17, 5}, {2, 99}};
    const auto batched = GenerateBatch(*model, prompts, o);
    ASSERT_EQ(batched.size(), 3u);
    for (size_t b = 0; b < prompts.size(); ++b) {
      EXPECT_EQ(batched[b], Generate(*model, prompts[b], o)) << fixture << " row " << b;
    }
    // A row that hits a stop id closes while the others go on.
    o.stop_ids = {batched[1][2]};
    const auto stopped = GenerateBatch(*model, prompts, o);
    for (size_t b = 0; b < prompts.size(); ++b) {
      const auto end = std::find(batched[b].begin(), batched[b].end(), o.stop_ids[0]);
      EXPECT_EQ(stopped[b],
                std::vector<int64_t>(batched[b].begin(), end == batched[b].end() ? end : end + 1))
          << fixture << " row " << b;
    }
  }
}

TEST(Conversation, LaterTurnsEqualGeneratingFromTheWholeHistory) {
  // Both families: a second turn through the kept state == a fresh prefill of everything.
  for (const char* fixture : {"tiny-recurrentgemma", "tiny-gemma"}) {
    const auto model = LoadModel(testing::FixtureDir(fixture), {});
    const at::InferenceMode guard;
    GenerateOptions o;
    o.max_new_tokens = 9;
    Conversation chat(*model, 0);
    const std::vector<int64_t> turn1 = {2, 4, 17, 18, 19, 5, 4, 20};
    const std::vector<int64_t> reply1 = chat.Continue(turn1, o);
    const std::vector<int64_t> turn2 = {5, 4, 30, 31, 5, 4};
    const std::vector<int64_t> reply2 = chat.Continue(turn2, o);
    std::vector<int64_t> history = turn1;
    history.insert(history.end(), reply1.begin(), reply1.end());
    history.insert(history.end(), turn2.begin(), turn2.end());
    EXPECT_EQ(reply2, Generate(*model, history, o)) << fixture;
    EXPECT_EQ(chat.tokens_held(), static_cast<int64_t>(history.size() + reply2.size()));
  }
}


TEST(LatencyAtDepths, SummarisesTheSpanEndingAtEachDepth) {
  // 20000 tokens: steps before token 10000 take 1 ms, later ones 3 ms, one 50 ms outlier.
  std::vector<double> steps(19999);
  for (size_t i = 0; i < steps.size(); ++i) steps[i] = (i + 2 <= 10000) ? 1e-3 : 3e-3;
  steps[19998 - 10] = 50e-3;
  const auto d = LatencyAtDepths(steps, 100);
  std::vector<int64_t> tokens;
  for (const auto& x : d) tokens.push_back(x.token);
  EXPECT_EQ(tokens, (std::vector<int64_t>{1000, 2000, 5000, 10000, 20000}));
  EXPECT_DOUBLE_EQ(d[0].median_s, 1e-3);
  EXPECT_EQ(d[0].span, 100);
  EXPECT_DOUBLE_EQ(d[3].median_s, 1e-3);  // the span ending at token 10000 is all before it
  EXPECT_DOUBLE_EQ(d[4].median_s, 3e-3);
  EXPECT_GT(d[4].p99_s, 3e-3);  // the outlier shows in the tail, not the median
  // Short runs: only the last token, over what there is.
  const auto short_run = LatencyAtDepths({2e-3, 4e-3, 6e-3}, 100);
  ASSERT_EQ(short_run.size(), 1u);
  EXPECT_EQ(short_run[0].token, 4);
  EXPECT_EQ(short_run[0].span, 3);
  EXPECT_DOUBLE_EQ(short_run[0].median_s, 4e-3);
  EXPECT_TRUE(LatencyAtDepths({}, 100).empty());
  EXPECT_THROW(LatencyAtDepths(steps, 0), std::invalid_argument);
}

}  // namespace
}  // namespace griffin
