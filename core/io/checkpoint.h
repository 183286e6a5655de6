// A checkpoint folder: config.json plus model.safetensors or a sharded
// model.safetensors.index.json. Tensors are served under Hugging Face names and layouts whatever
// the stored naming (HF; the DeepMind recurrentgemma torch naming; gemma_pytorch's fused qkv),
// mapped on open.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/config.h"

namespace at {
class Tensor;
}

namespace griffin {

class SafetensorsFile;

class Checkpoint {
 public:
  // Throws std::runtime_error naming the file (and tensor) on any problem.
  static Checkpoint Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  // True when tensors were stored under an official (non-HF) naming and mapped.
  bool deepmind_naming() const { return deepmind_naming_; }
  bool Has(const std::string& hf_name) const { return tensors_.count(hf_name) != 0; }
  std::vector<std::string> Names() const;
  // CPU tensor in HF layout; a zero-copy view of the mapped file where no transform is needed.
  at::Tensor Get(const std::string& hf_name) const;

 private:
  std::string dir_;
  ModelConfig config_;
  bool deepmind_naming_ = false;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, std::function<at::Tensor()>> tensors_;  // HF name -> producer
};

}  // namespace griffin
