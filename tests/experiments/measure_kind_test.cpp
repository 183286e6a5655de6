// Adding a kind of measurement is one class and its registration (experiments/measure_kind.h):
// here a kind that counts a model's prompt tokens, with its own [count] section and its own
// column, goes through loading, --dry-run, the run, its journal, its summary table and the run
// file without a line changed elsewhere; other kinds' experiments refuse its section.
#include "experiments/measure_kind.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/io/h5.h"
#include "core/io/paths.h"
#include "experiments/config_reader.h"
#include "experiments/runner.h"
#include "test_util.h"

namespace griffin::experiments {
namespace {

class PromptTokenCount final : public MeasureKind {
 public:
  std::vector<std::string_view> Names() const override { return {"prompt_token_count"}; }
  SectionKeys Sections() const override { return {{"count", {"tokens"}}}; }
  void Read(const config::Reader& r, ExperimentConfig& c) const override {
    c.contexts = {r.Integer("count", "tokens", 10, 1)};
  }
  std::vector<ExperimentPoint> Points(const ExperimentConfig& c) const override {
    std::vector<ExperimentPoint> points;
    for (const ModelEntry& m : c.models) {
      points.push_back(
          {static_cast<int64_t>(points.size()), m.label, m.checkpoint, c.contexts.front(), 1});
    }
    return points;
  }
  std::vector<std::string> Settings(const ExperimentConfig& c) const override {
    return {fmt::format("count.tokens = {}", c.contexts.front())};
  }
  bool NeedsModel() const override { return false; }
  PointResult Run(const PointContext&, const ExperimentPoint& p) const override {
    PointResult r;
    r.point = p;
    r.metrics["prompt_tokens"] = static_cast<double>(2 * p.context);
    return r;
  }
  std::string OneLine(const PointResult& r) const override {
    return fmt::format("{} tokens", r.Metric("prompt_tokens"));
  }
  std::string Table(const std::vector<PointResult>& results) const override {
    std::string s = "| model | tokens |\n";
    for (const PointResult& r : results) {
      s += fmt::format("| {} | {} |\n", r.point.model, r.Metric("prompt_tokens"));
    }
    return s;
  }
  void WriteColumns(h5::Group& root, const ExperimentConfig&,
                    const std::vector<PointResult>& results) const override {
    std::vector<int64_t> doubled;
    for (const PointResult& r : results) doubled.push_back(2 * r.point.context);
    root.WriteInt64("points/doubled", {static_cast<int64_t>(doubled.size())}, doubled.data());
  }
};

const PromptTokenCount& Kind() {
  static const PromptTokenCount kind;
  static const bool registered = (RegisterMeasureKind(&kind), true);
  (void)registered;
  return kind;
}

std::string WriteConfig(const std::string& dir, const std::string& text) {
  const std::string path = paths::Join(dir, "count.toml");
  std::ofstream(path) << text;
  return path;
}

constexpr const char* kCount = R"([experiment]
name = "count"
measure = ["prompt_token_count"]
[models]
a = "preset:tiny-griffin"
b = "preset:tiny-gemma"
[count]
tokens = 7
)";

TEST(MeasureKind, ANewKindRunsEndToEnd) {
  const PromptTokenCount& kind = Kind();
  const std::string dir = paths::MakeTempDir("griffin-kind-test");
  const ExperimentConfig c = LoadExperiment(WriteConfig(dir, kCount), {});
  ASSERT_EQ(c.kind, &kind);
  const std::string plan = DescribePlan(c);
  EXPECT_NE(plan.find("model=b context=7 batch=1"), std::string::npos);
  EXPECT_NE(plan.find("count.tokens = 7"), std::string::npos);
  EXPECT_NE(plan.find("run.dtype = \"float32\""), std::string::npos) << plan;
  RunOptions o;
  o.out_dir = paths::Join(dir, "out");
  const RunOutcome out = RunExperiment(c, o);
  ASSERT_EQ(out.results.size(), 2u);
  EXPECT_EQ(SummaryTable(c, out.results), "| model | tokens |\n| a | 14 |\n| b | 14 |\n");
  std::vector<int64_t> shape;
  EXPECT_EQ(h5::File::OpenReadOnly(out.h5_path).root().ReadInt64("points/doubled", &shape),
            (std::vector<int64_t>{14, 14}));
  paths::RemoveTree(dir);
}

TEST(MeasureKind, ItsSectionIsRefusedElsewhereAndItsNameKnown) {
  Kind();
  const std::string dir = paths::MakeTempDir("griffin-kind-test");
  const std::string path = WriteConfig(dir, kCount);
  testing::ExpectErrorContaining(
      [&] {
        LoadExperiment(path, {"experiment.measure=[\"memory_per_token\"]", "sweep.context=8"});
      },
      {"[count] belongs to prompt_token_count experiments"});
  testing::ExpectErrorContaining(
      [&] { LoadExperiment(path, {"experiment.measure=[\"tokens\"]"}); },
      {"is not memory_per_token, latency_at_length, recall, niah_text or prompt_token_count"});
  testing::ExpectErrorContaining([&] { RegisterMeasureKind(&Kind()); }, {"already registered"});
  // A section has one owner.
  struct Clashing final : MeasureKind {
    std::vector<std::string_view> Names() const override { return {"clashing"}; }
    SectionKeys Sections() const override { return {{"train", {}}}; }
    void Read(const config::Reader&, ExperimentConfig&) const override {}
    std::vector<std::string> Settings(const ExperimentConfig&) const override { return {}; }
    std::vector<ExperimentPoint> Points(const ExperimentConfig&) const override { return {}; }
    PointResult Run(const PointContext&, const ExperimentPoint&) const override { return {}; }
    std::string OneLine(const PointResult&) const override { return ""; }
    std::string Table(const std::vector<PointResult>&) const override { return ""; }
  };
  static const Clashing clashing;
  testing::ExpectErrorContaining([&] { RegisterMeasureKind(&clashing); },
                                 {"section [train] already belongs to another"});
  paths::RemoveTree(dir);
}

}  // namespace
}  // namespace griffin::experiments
