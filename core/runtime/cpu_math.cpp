#include "core/runtime/cpu_math.h"

#include <cstdlib>

namespace griffin {

void RequestReproducibleCpuMath() {
#if defined(__x86_64__)
  const char* branch = __builtin_cpu_supports("avx2") ? "AVX2,STRICT" : "COMPATIBLE";
#else
  const char* branch = "COMPATIBLE";
#endif
  setenv("MKL_CBWR", branch, /*overwrite=*/0);
}

}  // namespace griffin
