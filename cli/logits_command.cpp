// griffin logits: float32 logits [T, vocab] of a token sequence into an HDF5 file, positions from
// --decode-from onwards computed one token at a time through the decode state.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/io/h5.h"
#include "core/io/results.h"
#include "core/runtime/generate.h"

namespace griffin::cli {

void AddLogitsCommand(CLI::App& app, const std::string& command_line) {
  struct Args {
    ModelArgs model;
    std::vector<int64_t> ids;
    int64_t decode_from = -1;
    std::string out;
    bool dump = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("logits", "logits of a token sequence into HDF5 (/logits)");
  AddModelOptions(cmd, args->model);
  cmd->add_option("--ids", args->ids, "token ids, comma separated (e.g. 2,17,5)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--decode-from", args->decode_from,
                  "positions >= P go through the decode path one token at a time (0 = all)");
  cmd->add_option("--out", args->out, "output HDF5 file")->required();
  cmd->add_flag(
      "--dump-activations", args->dump,
      "also write every named intermediate (embed, layers.N.temporal_out, layers.N.mlp_out, "
      "layers.N.out, final_norm) as float32 /activations/NAME [T, width], for diffing "
      "against a Python reference (prefill only)");
  cmd->callback([args, command_line] {
    const auto model = LoadModelFromArgs(args->model);
    std::optional<int64_t> decode_from;
    if (args->decode_from >= 0) decode_from = args->decode_from;
    if (args->dump && decode_from.has_value()) {
      throw std::invalid_argument(
          "--dump-activations works on the prefill path only; drop --decode-from");
    }
    const at::InferenceMode inference;
    std::vector<std::pair<std::string, at::Tensor>> activations;
    ActivationHook hook = [&](const std::string& name, const at::Tensor& t) {
      if (name != "logits")
        activations.emplace_back(name, t[0].to(at::kCPU, at::kFloat).contiguous());
    };
    const at::Tensor logits =
        SequenceLogits(*model, args->ids, decode_from, args->dump ? &hook : nullptr).contiguous();

    h5::File file = h5::File::Create(args->out);
    h5::Group& root = file.root();
    for (const auto& [name, t] : activations) {
      root.WriteFloat32("activations/" + name, t.sizes().vec(), t.data_ptr<float>());
    }
    root.WriteFloat32("logits", logits.sizes().vec(), logits.data_ptr<float>());
    root.WriteInt64("ids", {static_cast<int64_t>(args->ids.size())}, args->ids.data());
    WriteProvenance(root, "griffin-logits", 1, command_line);
    root.SetAttr("", "checkpoint", args->model.checkpoint);
    root.SetAttr("", "dtype", std::string(DTypeName(model->config().dtype)));
    root.SetAttr("", "device", args->model.device);
    root.SetAttr("", "decode_from", decode_from.value_or(static_cast<int64_t>(args->ids.size())));
    file.Commit();
    fmt::print(stderr, "wrote {} ([{}, {}] float32 logits)\n", args->out, logits.size(0),
               logits.size(1));
  });
}

}  // namespace griffin::cli
