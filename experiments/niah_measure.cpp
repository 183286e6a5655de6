// niah_text: needle (or passkey) retrieval with a model's tokenizer at each context and depth
// (measure_niah.cpp, MeasureNiahText); [niah] is this kind's section.
#include <fmt/format.h>

#include "core/io/paths.h"
#include "experiments/config_reader.h"
#include "experiments/measure.h"
#include "experiments/measure_kind.h"

namespace griffin::experiments {
namespace {

// [niah]: each key once (the least values apply to the integers).
template <typename Visit>
void VisitNiahFields(NiahSettings& n, Visit&& visit) {
  visit("niah", "kind", n.kind, 0);
  visit("niah", "depths", n.depths, 0);
  visit("niah", "trials", n.trials, int64_t{1});
  visit("niah", "max_new_tokens", n.max_new_tokens, int64_t{1});
  visit("niah", "chat", n.chat, 0);
  // Paths are taken as given (relative to the working directory, as checkpoint folders are).
  visit("niah", "haystack", n.haystack, 0);
  visit("niah", "tokenizer", n.tokenizer, 0);
}

class NiahTextKind final : public MeasureKind {
 public:
  std::vector<std::string_view> Names() const override { return {kNiahText}; }

  SectionKeys Sections() const override {
    return config::FieldSections<NiahSettings>(
        [](NiahSettings& n, auto&& visit) { VisitNiahFields(n, visit); });
  }

  std::vector<std::string> Settings(const ExperimentConfig& c) const override {
    return config::FieldLines(c.niah,
                              [](NiahSettings& n, auto&& visit) { VisitNiahFields(n, visit); });
  }

  void Read(const config::Reader& r, ExperimentConfig& c) const override {
    ReadContextSweep(r, c);
    const std::string& file = r.file();
    NiahSettings& n = c.niah;
    VisitNiahFields(n, [&](const char* section, const char* key, auto& field, auto least) {
      config::ReadField(r, section, key, field, least);
    });
    if (n.kind != "niah" && n.kind != "passkey") {
      config::Fail(file, r.Node("niah", "kind"),
                   fmt::format("niah.kind '{}' is not niah or passkey", n.kind));
    }
    for (double d : n.depths) {
      if (d < 0.0 || d > 1.0) {
        config::Fail(file, r.Node("niah", "depths"),
                     fmt::format("niah.depths: {} is not in [0, 1]", d));
      }
    }
    if (n.kind == "niah" && !paths::IsDirectory(n.haystack)) {
      config::Fail(
          file,
          r.Find("niah", "haystack") ? r.Node("niah", "haystack") : r.Node("experiment", "measure"),
          fmt::format("niah.haystack: folder '{}' does not exist", n.haystack));
    }
    for (const ModelEntry& m : c.models) {
      const std::string tok =
          n.tokenizer.empty() ? paths::Join(m.checkpoint, "tokenizer.model") : n.tokenizer;
      if (!paths::Exists(tok)) {
        throw std::invalid_argument(fmt::format(
            "{}: models.{}: no tokenizer at '{}': set niah.tokenizer (presets have none)", file,
            m.label, tok));
      }
    }
  }

  // Each length at every depth.
  std::vector<ExperimentPoint> Points(const ExperimentConfig& c) const override {
    std::vector<std::map<std::string, double>> depths;
    for (double d : c.niah.depths) depths.push_back({{"depth", d}});
    return ContextSweepPoints(c, depths);
  }

  PointResult Run(const PointContext& context, const ExperimentPoint& p) const override {
    return MeasureNiahText(*context.model, context.config, p);
  }

  std::string OneLine(const PointResult& r) const override {
    if (!r.ok()) return NotMeasured(r);
    return fmt::format("accuracy {:.3f} over {:.0f}-token prompts", r.Metric("accuracy"),
                       r.Metric("prompt_tokens"));
  }

  std::string Table(const std::vector<PointResult>& results) const override {
    std::string s =
        "| model | context | depth | accuracy | prompt tokens | status |\n"
        "| --- | ---: | ---: | ---: | ---: | --- |\n";
    for (const PointResult& r : results) {
      s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r.point.model, r.point.context,
                       r.point.task_options.at("depth"), NumberCell(r.Metric("accuracy"), "{:.3f}"),
                       NumberCell(r.Metric("prompt_tokens"), "{:.0f}"), StatusCell(r));
    }
    return s;
  }
};

}  // namespace

const MeasureKind& NiahTextMeasure() {
  static const NiahTextKind kind;
  return kind;
}

}  // namespace griffin::experiments
