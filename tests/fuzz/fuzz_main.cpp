// The libFuzzer entry point of one target (GRIFFIN_FUZZ_TARGET, fuzz_targets.h): a rejected input
// (an exception) is the expected outcome for most inputs; a crash, a hang or an allocation past
// the limits scripts/fuzz sets is a finding.
#include <cstdlib>
#include <cstring>
#include <exception>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto run = [] {
    for (const griffin::fuzz::Target& t : griffin::fuzz::Targets()) {
      if (std::strcmp(t.name, GRIFFIN_FUZZ_TARGET) == 0) return t.run;
    }
    std::abort();
  }();
  try {
    run(data, size);
  } catch (const std::exception&) {
  }
  return 0;
}
