// griffin soak: a long stream through one model's state (core/runtime/soak.h), a progress line per
// chunk, a table by depth at the end, and an HDF5 file rewritten after every chunk, so that a run
// that runs out of memory or is killed keeps every row measured before.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/io/h5.h"
#include "core/io/results.h"
#include "core/runtime/soak.h"

namespace griffin::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

struct SoakArgs {
  ModelArgs model;
  SoakOptions soak;
  std::string out;
};

void WriteSoak(const std::string& path, const std::string& command_line, const SoakArgs& args,
               const LanguageModel& model, const SoakResult& result) {
  h5::File file = h5::File::Create(path);
  h5::Group& root = file.root();
  WriteProvenance(root, "griffin-soak", 1, command_line);
  root.SetAttr("", "checkpoint", args.model.checkpoint);
  root.SetAttr("", "dtype", std::string(DTypeName(model.config().dtype)));
  root.SetAttr("", "device", model.device().str());
  root.SetAttr("", "batch", args.soak.batch);
  root.SetAttr("", "chunk", args.soak.chunk);
  root.SetAttr("", "decode_probe", args.soak.decode_probe);
  root.SetAttr("", "tokens_asked", args.soak.tokens);
  root.SetAttr("", "stopped", result.stopped);
  const int64_t n = static_cast<int64_t>(result.rows.size());
  std::vector<int64_t> depth;
  std::vector<double> chunk_ms, decode_ms, allocated, reserved, peak, state, state_reserved;
  for (const SoakRow& r : result.rows) {
    depth.push_back(r.depth);
    chunk_ms.push_back(r.chunk_seconds * 1e3 / static_cast<double>(r.chunk_tokens));
    decode_ms.push_back(r.decode_seconds * 1e3);
    allocated.push_back(static_cast<double>(r.allocated_bytes));
    reserved.push_back(static_cast<double>(r.reserved_bytes));
    peak.push_back(static_cast<double>(r.peak_bytes));
    state.push_back(static_cast<double>(r.state_bytes));
    state_reserved.push_back(static_cast<double>(r.state_reserved_bytes));
  }
  root.WriteInt64("points/depth", {n}, depth.data());
  WriteMetric(root, "chunk_ms_per_token", chunk_ms, "ms", false,
              "a chunk's forward time over its tokens (per row of the batch)");
  WriteMetric(root, "decode_ms_per_token", decode_ms, "ms", false,
              "median decode step of the probe after the chunk (NaN without a probe)");
  WriteMetric(root, "allocated_bytes", allocated, "bytes", false,
              "device allocator's allocated bytes after the chunk and probe (0 on the CPU)");
  WriteMetric(root, "reserved_bytes", reserved, "bytes", false,
              "device allocator's reserved bytes after the chunk and probe (0 on the CPU)");
  WriteMetric(root, "peak_bytes", peak, "bytes", false,
              "device allocator's peak during the chunk and probe (0 on the CPU)");
  WriteMetric(root, "state_bytes", state, "bytes", false, "decode state held");
  WriteMetric(root, "state_reserved_bytes", state_reserved, "bytes", false,
              "decode state allocated, a growing cache's room included");
  file.Commit();
}

std::string Mib(int64_t bytes) { return fmt::format("{:.1f}", bytes / kMiB); }

std::string DecodeMs(const SoakRow& r) {
  return std::isnan(r.decode_seconds) ? "-" : fmt::format("{:.3f}", r.decode_seconds * 1e3);
}

// The CPU has no allocator statistics: "-" rather than a meaningless 0.
void PrintRow(const SoakRow& r, bool allocator) {
  const auto bytes = [&](int64_t b) { return allocator ? Mib(b) : std::string("-"); };
  fmt::print("| {} | {:.4f} | {} | {} | {} | {} | {:.2f} |\n", r.depth,
             r.chunk_seconds * 1e3 / static_cast<double>(r.chunk_tokens), DecodeMs(r),
             bytes(r.allocated_bytes), bytes(r.reserved_bytes), bytes(r.peak_bytes),
             r.state_bytes / kMiB);
}

// The rows at about every doubling of depth, the last one always, and the change in allocated and
// reserved memory from the first row to the last.
void PrintSummary(const LanguageModel& model, const SoakResult& result) {
  fmt::print("{} {} on {}\n", model.config().name, DTypeName(model.config().dtype),
             model.device().str());
  fmt::print(
      "| depth | chunk ms/token | decode ms/token | allocated MiB | reserved MiB | peak MiB | "
      "state MiB |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  int64_t next_depth = 0;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const SoakRow& r = result.rows[i];
    if (r.depth < next_depth && i + 1 != result.rows.size()) continue;
    PrintRow(r, model.device().is_cuda());
    next_depth = 2 * r.depth;
  }
  if (result.rows.size() >= 2) {
    const SoakRow &first = result.rows.front(), &last = result.rows.back();
    fmt::print(
        "from depth {} to {}: allocated {:+.1f} MiB, reserved {:+.1f} MiB, state {:+.1f} MiB\n",
        first.depth, last.depth, (last.allocated_bytes - first.allocated_bytes) / kMiB,
        (last.reserved_bytes - first.reserved_bytes) / kMiB,
        (last.state_bytes - first.state_bytes) / kMiB);
  }
}

}  // namespace

void AddSoakCommand(CLI::App& app, const std::string& command_line) {
  auto args = std::make_shared<SoakArgs>();
  CLI::App* cmd = app.add_subcommand(
      "soak",
      "stream many tokens through one state: time and memory by depth, until done or out "
      "of memory");
  AddModelOptions(cmd, args->model);
  cmd->add_option("--tokens", args->soak.tokens, "tokens streamed into each row")
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--chunk", args->soak.chunk, "tokens per forward call through the state")
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--batch", args->soak.batch, "rows streamed side by side")
      ->check(PositiveInteger())
      ->capture_default_str();
  cmd->add_option("--decode-probe", args->soak.decode_probe,
                  "greedy decode steps timed after each chunk (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--token-seed", args->soak.seed, "seed of the random token ids")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "HDF5 file, rewritten after every chunk");
  cmd->callback([args, command_line] {
    const auto model = LoadModelFromArgs(args->model);
    const auto row_done = [&](const SoakRow& r) {
      fmt::print(stderr,
                 "[soak] depth {}: {:.4f} ms/token in the chunk, decode {} ms/token, "
                 "allocated {} MiB, reserved {} MiB\n",
                 r.depth, r.chunk_seconds * 1e3 / static_cast<double>(r.chunk_tokens), DecodeMs(r),
                 Mib(r.allocated_bytes), Mib(r.reserved_bytes));
    };
    SoakResult partial;
    const SoakResult result = RunSoak(*model, args->soak, [&](const SoakRow& r) {
      row_done(r);
      if (args->out.empty()) return;
      partial.rows.push_back(r);
      // Says so if the run never gets to rewrite it (killed, or an error that is not memory).
      partial.stopped =
          fmt::format("interrupted: written at depth {} of {}", r.depth, args->soak.tokens);
      WriteSoak(args->out, command_line, *args, *model, partial);
    });
    PrintSummary(*model, result);
    if (!args->out.empty()) {
      WriteSoak(args->out, command_line, *args, *model, result);
      fmt::print(stderr, "[soak] wrote {}\n", args->out);
    }
    // Stopped short: the measured rows are written; the run itself failed.
    if (!result.stopped.empty()) throw std::runtime_error(result.stopped);
  });
}

}  // namespace griffin::cli
