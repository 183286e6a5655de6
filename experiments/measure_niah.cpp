#include <fmt/format.h>

#include "core/io/paths.h"
#include "core/io/tokenizer.h"
#include "eval/text/text_niah.h"
#include "experiments/measure.h"

namespace griffin::experiments {

PointResult MeasureNiahText(const LanguageModel& model, const ExperimentConfig& c,
                            const ExperimentPoint& point) {
  PointResult r;
  r.point = point;
  r.window = model.config().attention_window;
  MeasureInto(r, [&] {
    const std::string tokenizer_path = c.niah.tokenizer.empty()
                                           ? paths::Join(point.checkpoint, "tokenizer.model")
                                           : c.niah.tokenizer;
    const Tokenizer tokenizer = Tokenizer::Load(tokenizer_path);
    eval::TextNiahOptions o;
    o.kind = c.niah.kind;
    o.haystack_dir = c.niah.haystack;
    o.trials = c.niah.trials;
    o.max_new_tokens = c.niah.max_new_tokens;
    o.chat = c.niah.chat;
    o.seed = c.seed;
    const eval::TextNiah niah(tokenizer, o);
    const eval::TextNiahResult res =
        niah.Measure(model, point.context, point.task_options.at("depth"));
    r.metrics["accuracy"] = static_cast<double>(res.correct) / static_cast<double>(res.trials);
    r.metrics["prompt_tokens"] = res.prompt_tokens;
  });
  return r;
}

}  // namespace griffin::experiments
