// ModelConfig from a Hugging Face config.json (model_type recurrent_gemma or gemma).
#pragma once

#include <string>

#include "core/model/config.h"

namespace griffin {

// Throws std::runtime_error naming the file and the key that is missing, mistyped or unsupported.
ModelConfig ConfigFromHfJson(const std::string& config_json_path);

}  // namespace griffin
