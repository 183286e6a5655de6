#include "core/io/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace griffin {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit is 100 MB

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", path, what));
}

struct DTypeInfo {
  at::ScalarType scalar;
  int64_t bytes;
};

bool LookupDType(const std::string& name, DTypeInfo* out) {
  static const std::map<std::string, DTypeInfo> table = {
      {"F32", {at::kFloat, 4}}, {"F16", {at::kHalf, 2}}, {"BF16", {at::kBFloat16, 2}},
      {"I32", {at::kInt, 4}},   {"I64", {at::kLong, 8}}, {"U8", {at::kByte, 1}},
      {"BOOL", {at::kBool, 1}},
  };
  const auto it = table.find(name);
  if (it == table.end()) return false;
  *out = it->second;
  return true;
}

// nlohmann keeps the last of duplicate keys; the format forbids them, so they are caught while
// parsing (a key event at depth 1 names a tensor).
nlohmann::json ParseHeader(const std::string& path, const char* text, size_t size) {
  std::set<std::string> seen;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1) {
      const std::string key = value.get<std::string>();
      if (!seen.insert(key).second) Fail(path, fmt::format("duplicate tensor name '{}'", key));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, text + size, on_event);
  } catch (const nlohmann::json::exception& e) {
    Fail(path, fmt::format("header is not valid JSON: {}", e.what()));
  }
}

}  // namespace

std::shared_ptr<const SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->self_ = f;
  f->path_ = path;
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) Fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(f->fd_, &st) != 0) Fail(path, fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) Fail(path, "not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8)
    Fail(path, fmt::format("truncated: {} bytes, the 8-byte header length is missing", file_size));
  f->map_size_ = file_size;
  f->map_ = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, f->fd_, 0);
  if (f->map_ == MAP_FAILED) {
    f->map_ = nullptr;
    Fail(path, fmt::format("mmap failed: {}", std::strerror(errno)));
  }
  const auto* bytes = static_cast<const uint8_t*>(f->map_);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, 8);  // little-endian u64, as on every host we support
  if (header_size > kMaxHeaderBytes) {
    Fail(path, fmt::format("header length {} exceeds the 100 MB limit", header_size));
  }
  if (header_size > file_size - 8) {
    Fail(path, fmt::format("truncated: header length {} but only {} bytes follow", header_size,
                           file_size - 8));
  }
  const nlohmann::json header =
      ParseHeader(path, reinterpret_cast<const char*>(bytes + 8), header_size);
  if (!header.is_object()) Fail(path, "header is not a JSON object");
  f->data_ = bytes + 8 + header_size;
  const uint64_t data_size = file_size - 8 - header_size;

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) Fail(path, "__metadata__ must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string())
          Fail(path, fmt::format("__metadata__ value of '{}' is not a string", k));
        f->metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    // Captures the name by copy: clang before 16 cannot capture a structured binding (the fuzz
    // build, tests/fuzz/, uses clang).
    const auto where = [&path, tensor = name](const std::string& what) {
      Fail(path, fmt::format("tensor '{}': {}", tensor, what));
    };
    if (!value.is_object()) where("entry is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      if (!value.contains(key)) where(fmt::format("missing '{}'", key));
    }
    SafetensorsEntry e;
    if (!value["dtype"].is_string()) where("dtype is not a string");
    e.dtype = value["dtype"].get<std::string>();
    DTypeInfo info{};
    if (!LookupDType(e.dtype, &info)) {
      where(
          fmt::format("dtype '{}' is not supported (F32, F16, BF16, I32, I64, U8, BOOL)", e.dtype));
    }
    if (!value["shape"].is_array()) where("shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : value["shape"]) {
      if (!d.is_number_unsigned())
        where(fmt::format("shape entry {} is not a non-negative integer", d.dump()));
      const uint64_t dim = d.get<uint64_t>();
      if (dim > (1ull << 40) || (dim != 0 && numel > (1ull << 62) / dim))
        where("shape is absurdly large");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = value["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned()) {
      where("data_offsets must be two non-negative integers");
    }
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end) where(fmt::format("data_offsets [{}, {}) are reversed", e.begin, e.end));
    if (e.end > data_size) {
      where(
          fmt::format("data_offsets [{}, {}) run past the data section ({} bytes): truncated file?",
                      e.begin, e.end, data_size));
    }
    if (e.end - e.begin != numel * static_cast<uint64_t>(info.bytes)) {
      where(fmt::format("holds {} bytes but shape {} of {} needs {}", e.end - e.begin,
                        value["shape"].dump(), e.dtype, numel * info.bytes));
    }
    ranges.emplace_back(e.begin, e.end);
    f->entries_.emplace(name, std::move(e));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      Fail(path, fmt::format("tensor byte ranges overlap at offset {}", ranges[i].first));
    }
  }
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
  if (fd_ >= 0) ::close(fd_);
}

const SafetensorsEntry& SafetensorsFile::Entry(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) Fail(path_, fmt::format("no tensor named '{}'", name));
  return it->second;
}

at::Tensor SafetensorsFile::Tensor(const std::string& name) const {
  const SafetensorsEntry& e = Entry(name);
  DTypeInfo info{};
  LookupDType(e.dtype, &info);
  auto keep_alive = self_.lock();
  void* ptr = const_cast<uint8_t*>(data_ + e.begin);
  if (reinterpret_cast<uintptr_t>(ptr) % info.bytes != 0) {
    // Misaligned data (the format allows it): copy into an aligned tensor instead of viewing.
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(info.scalar));
    // An empty tensor has no storage (a null data pointer, which memcpy must not get).
    if (e.end > e.begin) std::memcpy(t.data_ptr(), ptr, e.end - e.begin);
    return t;
  }
  return at::from_blob(
      ptr, e.shape, [keep_alive](void*) {}, at::TensorOptions().dtype(info.scalar));
}

void WriteSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  static const std::map<at::ScalarType, std::string> names = {
      {at::kFloat, "F32"}, {at::kHalf, "F16"}, {at::kBFloat16, "BF16"}, {at::kInt, "I32"},
      {at::kLong, "I64"},  {at::kByte, "U8"},  {at::kBool, "BOOL"}};
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> blobs;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const auto it = names.find(t.scalar_type());
    if (it == names.end()) {
      Fail(path, fmt::format("tensor '{}': dtype {} cannot be stored", name,
                             c10::toString(t.scalar_type())));
    }
    const at::Tensor blob = t.to(at::kCPU).contiguous();
    header[name] = {{"dtype", it->second},
                    {"shape", blob.sizes().vec()},
                    {"data_offsets", {offset, offset + blob.nbytes()}}};
    offset += blob.nbytes();
    blobs.push_back(blob);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) Fail(tmp, fmt::format("cannot create: {}", std::strerror(errno)));
  const uint64_t n = text.size();
  bool ok = std::fwrite(&n, 8, 1, f) == 1 && std::fwrite(text.data(), 1, n, f) == n;
  for (const at::Tensor& b : blobs) {
    ok = ok && std::fwrite(b.data_ptr(), 1, b.nbytes(), f) == b.nbytes();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) Fail(tmp, "write failed (disk full?)");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Fail(path, fmt::format("cannot rename {} into place: {}", tmp, std::strerror(errno)));
  }
}

}  // namespace griffin
