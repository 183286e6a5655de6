// What distributed::Group is in c10d's terms, for the code that runs collectives on it
// (core/runtime/distributed.cpp, eval/train/data_parallel.cpp). Include it from .cpp files only:
// it brings in torch's distributed headers.
#pragma once

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "core/runtime/distributed.h"

namespace griffin::distributed {

struct Group::Impl {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

}  // namespace griffin::distributed
