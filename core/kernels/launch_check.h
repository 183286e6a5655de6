// The one check after every kernel launch of the ATen-facing wrappers (*_cuda.cpp): a launch error
// becomes a c10::Error naming the op, what was launched and CUDA's reason.
#pragma once

#include <cuda_runtime_api.h>

#include <string_view>

namespace griffin::detail {

// Throws c10::Error "OP[cuda]: WHAT launch failed: REASON" unless err is cudaSuccess.
void CheckLaunch(cudaError_t err, std::string_view op, std::string_view what);

// Throws c10::Error "OP[cuda]: inputs must be on a CUDA device, got DEVICE" for a CPU tensor.
void CheckOnCuda(bool is_cuda, std::string_view op, std::string_view device);

}  // namespace griffin::detail
