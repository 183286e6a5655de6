// DType <-> ATen scalar type, for the few files that need both.
#pragma once

#include <c10/core/ScalarType.h>

#include "core/model/config.h"

namespace griffin {

inline c10::ScalarType ToScalarType(DType d) {
  switch (d) {
    case DType::kFloat32:
      return c10::kFloat;
    case DType::kBFloat16:
      return c10::kBFloat16;
    case DType::kFloat16:
      return c10::kHalf;
  }
  return c10::kFloat;
}

}  // namespace griffin
