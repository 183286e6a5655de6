// Path helpers on POSIX calls. std::filesystem is avoided on purpose: the PyPI libtorch.so
// exports its own copies of std::filesystem symbols, which interpose on libstdc++'s at dynamic
// link time and crash (seen with remove_all, torch 2.11.0 wheel, gcc 12).
#pragma once

#include <string>
#include <vector>

namespace griffin::paths {

bool Exists(const std::string& path);
bool IsDirectory(const std::string& path);
std::string Join(const std::string& dir, const std::string& name);
std::string BaseName(const std::string& path);  // last component, trailing slashes ignored
// rename(2) with the errno text in the exception; atomic within one file system.
void Rename(const std::string& from, const std::string& to);
// Creates a fresh directory under $TMPDIR (or /tmp) and returns its path.
std::string MakeTempDir(const std::string& prefix);
// Writes `text` to PATH.tmp and renames it over PATH, so a reader never sees half a file.
void WriteFileAtomically(const std::string& path, const std::string& text);
// mkdir -p; throws naming the path and the errno text when a component cannot be created.
void MakeDirs(const std::string& path);
// Throws naming the path unless a file can be created (and is removed again) in `dir`.
void CheckWritableDirectory(const std::string& dir);
// Deletes a directory tree (no-op when absent).
void RemoveTree(const std::string& path);
// The paths of the entries of `dir` whose names start with `prefix` and end with `suffix`,
// sorted (none when `dir` cannot be read).
std::vector<std::string> ListMatching(const std::string& dir, const std::string& prefix,
                                      const std::string& suffix);

}  // namespace griffin::paths
