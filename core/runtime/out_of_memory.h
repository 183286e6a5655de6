// Recognising an allocation that could not be made, so that work which carries on past one (a
// sweep's next point, `griffin soak`'s rows so far) can say so in one line and keep going.
#pragma once

#include <c10/util/Exception.h>

#include <optional>
#include <string>

namespace griffin {

struct OutOfMemory {
  std::string asked;   // what the failed allocation asked for ("4.00 GiB", "3200 bytes"), or ""
  std::string detail;  // the error's first line
  // "out of memory (4.00 GiB asked): <detail>", or without the parenthesis when `asked` is empty.
  std::string Line() const;
};

// The out-of-memory reading of `e`, when it is one: the CUDA caching allocator's OutOfMemoryError
// (also what the KV cache throws when it cannot grow), or the CPU allocator's "can't allocate
// memory".
std::optional<OutOfMemory> AsOutOfMemory(const c10::Error& e);

}  // namespace griffin
