#include "core/runtime/out_of_memory.h"

#include <fmt/format.h>

#include <algorithm>

namespace griffin {

std::string OutOfMemory::Line() const {
  return asked.empty() ? fmt::format("out of memory: {}", detail)
                       : fmt::format("out of memory ({} asked): {}", asked, detail);
}

std::optional<OutOfMemory> AsOutOfMemory(const c10::Error& e) {
  const std::string what = e.what_without_backtrace();
  const bool cpu = what.find("can't allocate memory") != std::string::npos;
  if (!cpu && dynamic_cast<const c10::OutOfMemoryError*>(&e) == nullptr) return std::nullopt;
  OutOfMemory oom;
  oom.detail = what.substr(0, what.find('\n'));
  // "... you tried to allocate 3200 bytes. Error code 12" (CPU); "Tried to allocate 4.00 GiB. GPU
  // 0 has ..." (CUDA).
  for (const char* marker : {"tried to allocate ", "Tried to allocate "}) {
    const size_t at = oom.detail.find(marker);
    if (at == std::string::npos) continue;
    const size_t from = at + std::string(marker).size();
    // Up to the sentence's end (not "4.00"'s point) or a parenthesis, without a final full stop.
    size_t end = std::min(oom.detail.find(". ", from), oom.detail.find(" (", from));
    oom.asked = oom.detail.substr(from, end == std::string::npos ? std::string::npos : end - from);
    if (!oom.asked.empty() && oom.asked.back() == '.') oom.asked.pop_back();
    break;
  }
  return oom;
}

}  // namespace griffin
