// Every committed input of the fuzz targets (tests/fuzz/: the seed corpora and the inputs of
// findings) replayed through the same target functions in the ordinary build. Seeds are accepted
// (those named reject-* are rejected); a finding's input, once fixed, is accepted or rejected with
// an error that names the file, never a crash. scripts/fuzz runs the targets under libFuzzer.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace griffin {
namespace fuzz {
// The target's name in test listings (gtest would print the struct's bytes).
void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }
}  // namespace fuzz

namespace {

// The files of tests/fuzz/KIND/TARGET, sorted (none when the folder is absent). POSIX, not
// std::filesystem: the PyPI libtorch.so interposes its own std::filesystem symbols (README.md).
std::vector<std::string> Inputs(const std::string& kind, const std::string& target) {
  const std::string dir = std::string(GRIFFIN_SOURCE_DIR) + "/tests/fuzz/" + kind + "/" + target;
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool Rejected(const std::string& file) {
  return file.substr(file.rfind('/') + 1).rfind("reject-", 0) == 0;
}

// Runs one input; returns the error message, or "" when the reader accepted it.
std::string Replay(const fuzz::Target& target, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  } catch (const std::exception& e) {
    return std::string(e.what()).empty() ? "(empty message)" : e.what();
  }
  return "";
}

class FuzzInputs : public ::testing::TestWithParam<fuzz::Target> {};

TEST_P(FuzzInputs, SeedsAreReadAsExpected) {
  const fuzz::Target& t = GetParam();
  const std::vector<std::string> seeds = Inputs("corpus", t.name);
  ASSERT_FALSE(seeds.empty()) << "no seeds for " << t.name;
  for (const std::string& seed : seeds) {
    const std::string error = Replay(t, seed);
    if (Rejected(seed)) {
      EXPECT_NE(error, "") << seed << " was accepted";
    } else {
      EXPECT_EQ(error, "") << seed;
    }
  }
}

TEST_P(FuzzInputs, FindingsAreRejectedCleanly) {
  const fuzz::Target& t = GetParam();
  for (const std::string& input : Inputs("regressions", t.name)) {
    const std::string error = Replay(t, input);
    if (!error.empty()) {
      EXPECT_NE(error.find(fuzz::ScratchDir()), std::string::npos)
          << input << ": the error does not name the file: " << error;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzInputs, ::testing::ValuesIn(fuzz::Targets()),
                         [](const ::testing::TestParamInfo<fuzz::Target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace griffin
