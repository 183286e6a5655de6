#include "cli/model_args.h"

#include <fmt/format.h>

#include <stdexcept>

#include "core/runtime/device_name.h"

namespace griffin::cli {

void AddModelOptions(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--checkpoint", a.checkpoint,
                  "checkpoint folder (HF layout) or preset:NAME for random weights")
      ->required();
  cmd->add_option("--device", a.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", a.dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  cmd->add_option("--seed", a.seed, "seed of preset:NAME random weights")->capture_default_str();
  cmd->add_option("--scan", a.scan, "RG-LRU implementation: reference | cuda")
      ->capture_default_str();
  cmd->add_option("--conv", a.conv, "Conv1D implementation: reference | cuda")
      ->capture_default_str();
}

std::unique_ptr<LanguageModel> LoadModelFromArgs(const ModelArgs& a) {
  LoadOptions o;
  try {
    o.device = ParseDevice(a.device);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("--device {}", e.what()));
  }
  if (!a.dtype.empty()) o.dtype = ParseDType(a.dtype);
  o.seed = a.seed;
  o.ops.scan = ParseOpImpl(a.scan);
  o.ops.conv = ParseOpImpl(a.conv);
  return LoadModel(a.checkpoint, o);
}

const CLI::Validator& PositiveInteger() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        try {
          size_t used = 0;
          if (std::stoll(text, &used) > 0 && used == text.size()) return "";
        } catch (const std::exception&) {
        }
        return "'" + text + "' is not a positive integer";
      },
      "INT > 0");
  return v;
}

std::string CommandLine(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

}  // namespace griffin::cli
