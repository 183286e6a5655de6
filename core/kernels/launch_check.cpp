#include "core/kernels/launch_check.h"

#include <c10/util/Exception.h>

namespace griffin::detail {

void CheckLaunch(cudaError_t err, std::string_view op, std::string_view what) {
  TORCH_CHECK(err == cudaSuccess, op, "[cuda]: ", what,
              " launch failed: ", cudaGetErrorString(err));
}

void CheckOnCuda(bool is_cuda, std::string_view op, std::string_view device) {
  TORCH_CHECK(is_cuda, op, "[cuda]: inputs must be on a CUDA device, got ", device);
}

}  // namespace griffin::detail
