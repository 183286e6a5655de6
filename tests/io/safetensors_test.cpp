// The safetensors reader is strict: every malformed file is rejected with the file (and tensor)
// named. Files are built byte by byte here so each defect is exactly the one under test.
#include "core/io/safetensors.h"
#include "core/io/paths.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "test_util.h"

namespace griffin {
namespace {

using testing::ExpectErrorContaining;

class SafetensorsStrictness : public ::testing::Test {
 protected:
  std::string Write(const std::string& header, size_t data_bytes, bool lie_about_length = false,
                    uint64_t claimed = 0) {
    const std::string path = paths::Join(dir_, "st_" + std::to_string(n_++) + ".safetensors");
    std::ofstream out(path, std::ios::binary);
    const uint64_t len = lie_about_length ? claimed : header.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << header;
    out << std::string(data_bytes, '\x01');
    return path;
  }
  void TearDown() override { paths::RemoveTree(dir_); }
  std::string dir_ = paths::MakeTempDir("griffin_st_");
  int n_ = 0;
};

TEST_F(SafetensorsStrictness, ReadsAWellFormedFileWithoutCopying) {
  const std::string p = Write(
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}})",
      24);
  auto f = SafetensorsFile::Open(p);
  EXPECT_EQ(f->entries().size(), 2u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const at::Tensor a = f->Tensor("a");
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.scalar_type(), at::kFloat);
}

// Misaligned data is copied into an aligned tensor; an empty tensor there has nothing to copy
// (found by the safetensors fuzz target: memcpy was handed the empty tensor's null pointer).
TEST_F(SafetensorsStrictness, ReadsEmptyAndMisalignedTensors) {
  std::string header = R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[1,1]},)"
                       R"("f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.append((4 - (8 + header.size()) % 4) % 4, ' ');  // data starts aligned; offset 1 is not
  auto f = SafetensorsFile::Open(Write(header, 9));
  const at::Tensor e = f->Tensor("e");
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(f->Tensor("f").numel(), 2);
}

TEST_F(SafetensorsStrictness, RejectsEveryMalformation) {
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  struct Case {
    std::string header;
    size_t data;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"{" + ok_entry + "}", 4, {"'a'", "past the data section", "truncated"}},
      {R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
       8,
       {"'a'", "dtype 'F64' is not supported"}},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
       8,
       {"'a'", "holds 8 bytes", "needs 12"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12,
       {"overlap"}},
      {"{" + ok_entry + "," + ok_entry + "}", 8, {"duplicate tensor name 'a'"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, {"'a'", "reversed"}},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, {"'a'", "shape entry -2"}},
      {R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, {"'a'", "missing 'shape'"}},
      {R"({"a": [1, 2)", 8, {"not valid JSON"}},
      {R"([1, 2])", 0, {"not a JSON object"}},
  };
  for (const Case& c : cases) {
    const std::string p = Write(c.header, c.data);
    std::vector<std::string> needles = c.needles;
    needles.push_back(p);  // every error names the file
    std::string message;
    try {
      SafetensorsFile::Open(p);
    } catch (const std::exception& e) {
      message = e.what();
    }
    ASSERT_FALSE(message.empty()) << "accepted: " << c.header;
    for (const std::string& n : needles) {
      EXPECT_NE(message.find(n), std::string::npos) << "'" << n << "' not in: " << message;
    }
  }
}

TEST_F(SafetensorsStrictness, RejectsBadHeaderLengthsAndTinyFiles) {
  ExpectErrorContaining([&] { SafetensorsFile::Open(Write("{}", 0, true, 1ull << 40)); },
                        {"exceeds the 100 MB limit"});
  ExpectErrorContaining([&] { SafetensorsFile::Open(Write("{}", 0, true, 50)); },
                        {"truncated", "header length 50"});
  const std::string tiny = Write("", 0, true, 0);
  ASSERT_EQ(::truncate(tiny.c_str(), 5), 0);
  ExpectErrorContaining([&] { SafetensorsFile::Open(tiny); }, {"truncated", tiny});
  ExpectErrorContaining([&] { SafetensorsFile::Open("/nonexistent/x.safetensors"); },
                        {"/nonexistent/x.safetensors", "cannot open"});
}

TEST_F(SafetensorsStrictness, WriterRoundTripsEveryDtype) {
  const std::string p = paths::Join(dir_, "roundtrip.safetensors");
  std::map<std::string, at::Tensor> tensors = {{"f32", at::randn({3, 5})},
                                               {"bf16", at::randn({7}).to(at::kBFloat16)},
                                               {"i64", at::arange(4, at::kLong)},
                                               {"strided", at::randn({4, 6}).t()}};
  WriteSafetensors(p, tensors, {{"step", "12"}});
  auto f = SafetensorsFile::Open(p);
  EXPECT_EQ(f->metadata().at("step"), "12");
  for (const auto& [name, t] : tensors) EXPECT_TRUE(at::equal(f->Tensor(name), t)) << name;
}

}  // namespace
}  // namespace griffin
