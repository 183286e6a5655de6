// Strict, zero-copy reader for the safetensors format. Checkpoints are untrusted input: the header
// is bounded, dtypes whitelisted, offsets in range and non-overlapping, sizes consistent with
// shapes and duplicate keys rejected. Every error names the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace griffin {

struct SafetensorsEntry {
  std::string dtype;  // F32 | F16 | BF16 | I32 | I64 | U8 | BOOL
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets inside the data section
};

class SafetensorsFile {
 public:
  // Maps the file read-only; throws std::runtime_error naming `path` on any malformation.
  static std::shared_ptr<const SafetensorsFile> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& Entry(const std::string& name) const;

  // A CPU tensor viewing the mapped bytes (no copy); it keeps the mapping alive. Read-only in
  // spirit: the pages are mapped PROT_READ, so writing through it faults.
  at::Tensor Tensor(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
  std::weak_ptr<const SafetensorsFile> self_;
};

// Writes `tensors` (any device, contiguous or not) as a safetensors file, atomically: PATH.tmp is
// written and renamed over PATH. Used for trainer checkpoints and test inputs.
void WriteSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace griffin
