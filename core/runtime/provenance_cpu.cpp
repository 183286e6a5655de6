// CPU-only build (GRIFFIN_CUDA=OFF): no CUDA runtime linked, so no GPU is reported.
#include "core/runtime/provenance.h"

namespace griffin::detail {
void FillCudaProvenance(Provenance& p) { p.cuda_built = false; }
}  // namespace griffin::detail
