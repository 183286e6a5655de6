// A small RAII layer over the HDF5 C API: exactly what the results schema needs (groups, numeric
// and string datasets, attributes), every negative hid_t turned into an exception that names the
// file and object. A file is written as NAME.tmp and renamed over NAME by Commit(), so a reader
// never sees a half-written result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace griffin::h5 {

using hid = int64_t;  // hid_t without including hdf5.h here

// Owns one HDF5 identifier and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  Handle(hid id, int kind) : id_(id), kind_(kind) {}
  Handle(Handle&& o) noexcept : id_(o.id_), kind_(o.kind_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid get() const { return id_; }

 private:
  hid id_ = -1;
  int kind_ = 0;
};

class File;

// A group (or the root). Paths are relative to it; parents are created as needed.
class Group {
 public:
  void WriteFloat32(const std::string& path, const std::vector<int64_t>& shape, const float* data);
  void WriteFloat64(const std::string& path, const std::vector<int64_t>& shape, const double* data);
  void WriteInt64(const std::string& path, const std::vector<int64_t>& shape, const int64_t* data);
  void WriteString(const std::string& path, const std::string& value);
  void WriteStrings(const std::string& path, const std::vector<std::string>& values);
  // Attributes on this group itself (path empty) or on an existing child object.
  void SetAttr(const std::string& object, const std::string& name, const std::string& value);
  void SetAttr(const std::string& object, const std::string& name, double value);
  void SetAttr(const std::string& object, const std::string& name, int64_t value);
  Group Child(const std::string& path);  // opens or creates

  std::vector<float> ReadFloat32(const std::string& path, std::vector<int64_t>* shape) const;
  std::vector<int64_t> ReadInt64(const std::string& path, std::vector<int64_t>* shape) const;
  std::string ReadString(const std::string& path) const;
  std::string ReadStringAttr(const std::string& object, const std::string& name) const;
  bool Exists(const std::string& path) const;

 private:
  friend class File;
  Group(std::string file, std::string where, Handle h)
      : file_(std::move(file)), where_(std::move(where)), h_(std::move(h)) {}
  void WriteNumeric(const std::string& path, const std::vector<int64_t>& shape, const void* data,
                    hid mem_type, hid file_type);
  std::vector<char> ReadNumeric(const std::string& path, std::vector<int64_t>* shape, hid mem_type,
                                size_t elem) const;
  std::string Where(const std::string& path) const;
  std::string file_, where_;
  Handle h_;
};

class File {
 public:
  // Creates PATH.tmp (truncating a stale one); Commit() renames it to PATH.
  static File Create(const std::string& path);
  static File OpenReadOnly(const std::string& path);
  File(File&&) = default;
  File& operator=(File&&) = default;
  ~File();

  Group& root() { return root_; }
  const Group& root() const { return root_; }
  // Flushes, closes and atomically renames the .tmp file into place.
  void Commit();
  const std::string& path() const { return path_; }

 private:
  File(std::string path, std::string open_path, Handle h, bool writing);
  std::string path_, open_path_;
  Group root_;
  bool writing_ = false;
  bool committed_ = false;
};

}  // namespace griffin::h5
