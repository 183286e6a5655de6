#include "core/io/h5.h"

#include "core/io/paths.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace griffin::h5 {
namespace {

enum Kind { kFile = 1, kGroup, kDataset, kDataspace, kAttribute, kDatatype, kPlist };

// HDF5 prints its error stack to stderr by default; errors become exceptions here instead.
void SilenceHdf5() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

hid Check(hid id, const std::string& what) {
  if (id < 0) throw std::runtime_error(what);
  return id;
}
void CheckStatus(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error(what);
}

std::pair<std::string, std::string> SplitParent(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Handle LinkCreatePlist() {
  Handle lcpl(Check(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate failed"), kPlist);
  CheckStatus(H5Pset_create_intermediate_group(lcpl.get(), 1), "H5Pset_create_intermediate_group");
  return lcpl;
}

Handle VarStringType() {
  Handle t(Check(H5Tcopy(H5T_C_S1), "H5Tcopy failed"), kDatatype);
  CheckStatus(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  CheckStatus(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    this->~Handle();
    id_ = o.id_;
    kind_ = o.kind_;
    o.id_ = -1;
  }
  return *this;
}

Handle::~Handle() {
  if (id_ < 0) return;
  switch (kind_) {
    case kFile:
      H5Fclose(id_);
      break;
    case kGroup:
      H5Gclose(id_);
      break;
    case kDataset:
      H5Dclose(id_);
      break;
    case kDataspace:
      H5Sclose(id_);
      break;
    case kAttribute:
      H5Aclose(id_);
      break;
    case kDatatype:
      H5Tclose(id_);
      break;
    case kPlist:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = -1;
}

std::string Group::Where(const std::string& path) const {
  return fmt::format("{}:{}{}", file_, where_ == "/" ? "/" : where_ + "/", path);
}

void Group::WriteNumeric(const std::string& path, const std::vector<int64_t>& shape,
                         const void* data, hid mem_type, hid file_type) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(Check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     "H5Screate_simple failed for " + Where(path)),
               kDataspace);
  Handle lcpl = LinkCreatePlist();
  Handle ds(Check(H5Dcreate2(h_.get(), path.c_str(), file_type, space.get(), lcpl.get(),
                             H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create dataset " + Where(path) + " (does it exist already?)"),
            kDataset);
  CheckStatus(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
              "cannot write dataset " + Where(path));
}

void Group::WriteFloat32(const std::string& path, const std::vector<int64_t>& shape,
                         const float* data) {
  WriteNumeric(path, shape, data, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE);
}
void Group::WriteFloat64(const std::string& path, const std::vector<int64_t>& shape,
                         const double* data) {
  WriteNumeric(path, shape, data, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
}
void Group::WriteInt64(const std::string& path, const std::vector<int64_t>& shape,
                       const int64_t* data) {
  WriteNumeric(path, shape, data, H5T_NATIVE_INT64, H5T_STD_I64LE);
}

void Group::WriteString(const std::string& path, const std::string& value) {
  Handle type = VarStringType();
  Handle space(Check(H5Screate(H5S_SCALAR), "H5Screate failed"), kDataspace);
  Handle lcpl = LinkCreatePlist();
  Handle ds(Check(H5Dcreate2(h_.get(), path.c_str(), type.get(), space.get(), lcpl.get(),
                             H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create dataset " + Where(path)),
            kDataset);
  const char* p = value.c_str();
  CheckStatus(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p),
              "cannot write dataset " + Where(path));
}

void Group::WriteStrings(const std::string& path, const std::vector<std::string>& values) {
  Handle type = VarStringType();
  const hsize_t n = values.size();
  Handle space(Check(H5Screate_simple(1, &n, nullptr), "H5Screate_simple failed"), kDataspace);
  Handle lcpl = LinkCreatePlist();
  Handle ds(Check(H5Dcreate2(h_.get(), path.c_str(), type.get(), space.get(), lcpl.get(),
                             H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create dataset " + Where(path)),
            kDataset);
  std::vector<const char*> ptrs;
  for (const std::string& v : values) ptrs.push_back(v.c_str());
  if (n > 0) {
    CheckStatus(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
                "cannot write dataset " + Where(path));
  }
}

namespace {
template <typename Fn>
void WithAttr(hid parent, const std::string& object, const std::string& name, hid type,
              const std::string& where, Fn write) {
  const char* obj = object.empty() ? "." : object.c_str();
  if (H5Aexists_by_name(parent, obj, name.c_str(), H5P_DEFAULT) > 0) {
    CheckStatus(H5Adelete_by_name(parent, obj, name.c_str(), H5P_DEFAULT),
                "cannot replace attribute " + name);
  }
  Handle space(Check(H5Screate(H5S_SCALAR), "H5Screate failed"), kDataspace);
  Handle attr(Check(H5Acreate_by_name(parent, obj, name.c_str(), type, space.get(), H5P_DEFAULT,
                                      H5P_DEFAULT, H5P_DEFAULT),
                    fmt::format("cannot create attribute '{}' on {}", name, where)),
              kAttribute);
  CheckStatus(write(attr.get()), fmt::format("cannot write attribute '{}' on {}", name, where));
}
}  // namespace

void Group::SetAttr(const std::string& object, const std::string& name, const std::string& value) {
  Handle type = VarStringType();
  WithAttr(h_.get(), object, name, type.get(), Where(object), [&](hid a) {
    const char* p = value.c_str();
    return H5Awrite(a, type.get(), &p);
  });
}
void Group::SetAttr(const std::string& object, const std::string& name, double value) {
  WithAttr(h_.get(), object, name, H5T_IEEE_F64LE, Where(object),
           [&](hid a) { return H5Awrite(a, H5T_NATIVE_DOUBLE, &value); });
}
void Group::SetAttr(const std::string& object, const std::string& name, int64_t value) {
  WithAttr(h_.get(), object, name, H5T_STD_I64LE, Where(object),
           [&](hid a) { return H5Awrite(a, H5T_NATIVE_INT64, &value); });
}

Group Group::Child(const std::string& path) {
  const std::string where = where_ == "/" ? "/" + path : where_ + "/" + path;
  if (H5Lexists(h_.get(), path.c_str(), H5P_DEFAULT) > 0) {
    return Group(file_, where,
                 Handle(Check(H5Gopen2(h_.get(), path.c_str(), H5P_DEFAULT),
                              "cannot open group " + Where(path)),
                        kGroup));
  }
  Handle lcpl = LinkCreatePlist();
  return Group(
      file_, where,
      Handle(Check(H5Gcreate2(h_.get(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                   "cannot create group " + Where(path)),
             kGroup));
}

bool Group::Exists(const std::string& path) const {
  // H5Lexists needs each parent to exist; walk the path one link at a time.
  std::string prefix;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    prefix = path.substr(0, slash);
    if (H5Lexists(h_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

std::vector<char> Group::ReadNumeric(const std::string& path, std::vector<int64_t>* shape,
                                     hid mem_type, size_t elem) const {
  Handle ds(Check(H5Dopen2(h_.get(), path.c_str(), H5P_DEFAULT), "no dataset " + Where(path)),
            kDataset);
  Handle space(Check(H5Dget_space(ds.get()), "H5Dget_space failed"), kDataspace);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  size_t n = 1;
  shape->clear();
  for (hsize_t d : dims) {
    n *= d;
    shape->push_back(static_cast<int64_t>(d));
  }
  std::vector<char> buf(n * elem);
  CheckStatus(H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
              "cannot read dataset " + Where(path));
  return buf;
}

std::vector<float> Group::ReadFloat32(const std::string& path, std::vector<int64_t>* shape) const {
  const std::vector<char> raw = ReadNumeric(path, shape, H5T_NATIVE_FLOAT, sizeof(float));
  std::vector<float> out(raw.size() / sizeof(float));
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

std::vector<int64_t> Group::ReadInt64(const std::string& path, std::vector<int64_t>* shape) const {
  const std::vector<char> raw = ReadNumeric(path, shape, H5T_NATIVE_INT64, sizeof(int64_t));
  std::vector<int64_t> out(raw.size() / sizeof(int64_t));
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

std::string Group::ReadString(const std::string& path) const {
  Handle ds(Check(H5Dopen2(h_.get(), path.c_str(), H5P_DEFAULT), "no dataset " + Where(path)),
            kDataset);
  Handle type = VarStringType();
  char* p = nullptr;
  CheckStatus(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p),
              "cannot read string " + Where(path));
  std::string s = p != nullptr ? p : "";
  H5free_memory(p);
  return s;
}

std::string Group::ReadStringAttr(const std::string& object, const std::string& name) const {
  const char* obj = object.empty() ? "." : object.c_str();
  Handle attr(Check(H5Aopen_by_name(h_.get(), obj, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                    fmt::format("no attribute '{}' on {}", name, Where(object))),
              kAttribute);
  Handle type = VarStringType();
  char* p = nullptr;
  CheckStatus(H5Aread(attr.get(), type.get(), &p), "cannot read attribute " + name);
  std::string s = p != nullptr ? p : "";
  H5free_memory(p);
  return s;
}

File::File(std::string path, std::string open_path, Handle h, bool writing)
    : path_(std::move(path)),
      open_path_(std::move(open_path)),
      root_(path_, "/", std::move(h)),
      writing_(writing) {}

File File::Create(const std::string& path) {
  SilenceHdf5();
  const std::string tmp = path + ".tmp";
  Handle h(
      Check(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
            "cannot create HDF5 file " + tmp + " (does its folder exist, and is it writable?)"),
      kFile);
  return File(path, tmp, std::move(h), true);
}

File File::OpenReadOnly(const std::string& path) {
  SilenceHdf5();
  Handle h(Check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                 "cannot open HDF5 file " + path + " (missing or not HDF5)"),
           kFile);
  return File(path, path, std::move(h), false);
}

void File::Commit() {
  if (!writing_ || committed_) return;
  CheckStatus(H5Fflush(root_.h_.get(), H5F_SCOPE_GLOBAL), "cannot flush " + open_path_);
  root_.h_ = Handle();  // close before the rename
  paths::Rename(open_path_, path_);
  committed_ = true;
}

File::~File() = default;  // an uncommitted .tmp stays behind as evidence; it never replaces PATH

}  // namespace griffin::h5
