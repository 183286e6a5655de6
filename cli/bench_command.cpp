// griffin bench: end-to-end speed rows (prefill, decode per token, memory) for one model, and an
// HDF5 file with the raw samples when --out is given.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <limits>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/io/h5.h"
#include "core/io/results.h"
#include "core/runtime/speed_bench.h"
#include "experiments/experiment_config.h"

namespace griffin::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

void PrintTable(const LanguageModel& model, const std::vector<SpeedPoint>& points) {
  fmt::print(
      "| model | dtype | device | batch | prompt | prefill ms | prefill tok/s | decode ms/token "
      "(median) | p90 | decode tok/s | state MiB | peak above weights MiB (prefill / decode) |\n");
  fmt::print(
      "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const SpeedPoint& p : points) {
    const double prefill = Quantile(p.prefill_seconds, 0.5);
    const double step = Quantile(p.decode_step_seconds, 0.5);
    // The CPU has no allocator statistics: say so rather than print a meaningless number.
    const std::string peaks =
        model.device().is_cuda()
            ? fmt::format("{:.1f} / {:.1f}", (p.peak_prefill_bytes - p.weight_bytes) / kMiB,
                          (p.peak_decode_bytes - p.weight_bytes) / kMiB)
            : "n/a (CPU)";
    fmt::print(
        "| {} | {} | {} | {} | {} | {:.2f} | {:.0f} | {:.3f} | {:.3f} | {:.1f} | {:.2f} | {} |\n",
        model.config().name, DTypeName(model.config().dtype), model.device().str(), p.batch,
        p.prompt_tokens, prefill * 1e3, p.batch * p.prompt_tokens / prefill, step * 1e3,
        Quantile(p.decode_step_seconds, 0.9) * 1e3, step > 0 ? p.batch / step : 0.0,
        p.state_bytes_after_decode / kMiB, peaks);
  }
}

void WriteResults(const std::string& path, const std::string& command_line, const ModelArgs& args,
                  const LanguageModel& model, const SpeedOptions& o,
                  const std::vector<SpeedPoint>& points) {
  h5::File file = h5::File::Create(path);
  h5::Group& root = file.root();
  WriteProvenance(root, "griffin-bench", 1, command_line);
  root.SetAttr("", "checkpoint", args.checkpoint);
  root.SetAttr("", "dtype", std::string(DTypeName(model.config().dtype)));
  root.SetAttr("", "device", model.device().str());
  const bool graphed = !points.empty() && points.front().decode_graphed;
  root.SetAttr("", "decode_mode",
               std::string(experiments::DecodeModeName(graphed ? experiments::DecodeMode::kGraph
                                                               : experiments::DecodeMode::kEager)));
  const int64_t n = static_cast<int64_t>(points.size());
  std::vector<int64_t> batch, prompt;
  std::vector<double> prefill_ms, prefill_tps, decode_med, decode_p90, decode_tps, state, reserved,
      peak_prefill, peak_decode;
  std::vector<double> prefill_raw, decode_raw;
  for (const SpeedPoint& p : points) {
    batch.push_back(p.batch);
    prompt.push_back(p.prompt_tokens);
    const double pre = Quantile(p.prefill_seconds, 0.5),
                 step = Quantile(p.decode_step_seconds, 0.5);
    prefill_ms.push_back(pre * 1e3);
    prefill_tps.push_back(p.batch * p.prompt_tokens / pre);
    decode_med.push_back(step * 1e3);
    decode_p90.push_back(Quantile(p.decode_step_seconds, 0.9) * 1e3);
    decode_tps.push_back(step > 0 ? p.batch / step : 0.0);
    state.push_back(static_cast<double>(p.state_bytes_after_decode));
    reserved.push_back(static_cast<double>(p.state_reserved_after_decode));
    const bool gpu = model.device().is_cuda();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    peak_prefill.push_back(gpu ? static_cast<double>(p.peak_prefill_bytes - p.weight_bytes) : nan);
    peak_decode.push_back(gpu ? static_cast<double>(p.peak_decode_bytes - p.weight_bytes) : nan);
    prefill_raw.insert(prefill_raw.end(), p.prefill_seconds.begin(), p.prefill_seconds.end());
    decode_raw.insert(decode_raw.end(), p.decode_step_seconds.begin(), p.decode_step_seconds.end());
  }
  root.WriteInt64("points/batch", {n}, batch.data());
  root.WriteInt64("points/prompt_tokens", {n}, prompt.data());
  WriteMetric(root, "prefill_ms", prefill_ms, "ms", false, "median prefill time of the prompt");
  WriteMetric(root, "prefill_tokens_per_s", prefill_tps, "tokens/s", true,
              "batch x prompt / median prefill time");
  WriteMetric(root, "decode_ms_per_token", decode_med, "ms", false,
              "median time of one decode step");
  WriteMetric(root, "decode_ms_per_token_p90", decode_p90, "ms", false,
              "90th percentile decode step");
  WriteMetric(root, "decode_tokens_per_s", decode_tps, "tokens/s", true,
              "batch / median decode step");
  WriteMetric(root, "state_bytes", state, "bytes", false,
              "decode state held after prefill + decode");
  WriteMetric(root, "state_reserved_bytes", reserved, "bytes", false, "decode state allocated");
  WriteMetric(root, "peak_prefill_bytes_above_weights", peak_prefill, "bytes", false,
              "allocator peak during prefill minus weight bytes (GPU only)");
  WriteMetric(root, "peak_decode_bytes_above_weights", peak_decode, "bytes", false,
              "allocator peak during decode minus weight bytes (GPU only)");
  root.WriteFloat64("timings/prefill_s", {n, o.repeats}, prefill_raw.data());
  root.WriteFloat64("timings/decode_step_s", {n, o.decode_tokens}, decode_raw.data());
  root.SetAttr("timings/decode_step_s", "units", std::string("s"));
  root.SetAttr("timings/prefill_s", "units", std::string("s"));
  file.Commit();
}

}  // namespace

void AddBenchCommand(CLI::App& app, const std::string& command_line) {
  struct Args {
    ModelArgs model;
    SpeedOptions speed;
    std::string decode_mode = "eager";
    std::string out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("bench", "end-to-end speed: prefill and decode per token");
  AddModelOptions(cmd, args->model);
  cmd->add_option("--prompt", args->speed.prompt_tokens, "prompt lengths, comma separated")
      ->delimiter(',')
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--batch", args->speed.batches, "batch sizes, comma separated")
      ->delimiter(',')
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--decode", args->speed.decode_tokens, "tokens decoded after each prompt")
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--repeats", args->speed.repeats, "timed prefills per point")
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--warmup", args->speed.warmup, "untimed runs per point")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--decode-mode", args->decode_mode,
                  "eager: one host launch per kernel; graph: each decode step one CUDA graph "
                  "replay, the next token chosen on the device (CUDA only)")
      ->check([](const std::string& mode) {
        try {
          experiments::ParseDecodeMode(mode);  // the one list of modes, shared with run.decode
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      })
      ->capture_default_str();
  cmd->add_option("--out", args->out, "HDF5 file for the raw samples and metrics");
  cmd->callback([args, command_line] {
    args->speed.decode_graph =
        experiments::ParseDecodeMode(args->decode_mode) == experiments::DecodeMode::kGraph;
    const auto model = LoadModelFromArgs(args->model);
    if (args->speed.decode_graph && !model->device().is_cuda()) {
      fmt::print(stderr,
                 "[bench] --decode-mode graph needs CUDA: on {} the same fixed-shape step "
                 "runs eagerly\n",
                 model->device().str());
    }
    auto progress = [](const std::string& what) { fmt::print(stderr, "[bench] {}\n", what); };
    const std::vector<SpeedPoint> points = MeasureSpeed(*model, args->speed, progress);
    PrintTable(*model, points);
    if (!args->out.empty()) {
      WriteResults(args->out, command_line, args->model, *model, args->speed, points);
      fmt::print(stderr, "[bench] wrote {}\n", args->out);
    }
  });
}

}  // namespace griffin::cli
