// The device a user names (`--device`, `run.device`): "cpu", "cuda" or "cuda:N". One parser and
// one pair of messages for every front end, each prefixing where the name came from.
#pragma once

#include <c10/core/Device.h>

#include <string_view>

namespace griffin {

// The device NAME names, whatever this machine has: throws std::invalid_argument "'NAME' is not
// cpu, cuda or cuda:N" for anything else (what a config's loader checks, so that a typo is found
// by --dry-run on any machine).
c10::Device ParseDeviceName(std::string_view name);

// The same, and CUDA must be available here: "NAME: no CUDA device is available here" otherwise
// (which of several GPUs exists is the CUDA runtime's to say when the device is used).
c10::Device ParseDevice(std::string_view name);

}  // namespace griffin
