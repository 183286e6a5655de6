// The HDF5 layer round-trips what the results schema needs and never exposes a half-written file.
#include "core/io/h5.h"

#include <gtest/gtest.h>

#include "core/io/paths.h"
#include "test_util.h"

namespace griffin {
namespace {

TEST(H5, RoundTripAndAtomicCommit) {
  const std::string dir = paths::MakeTempDir("griffin_h5_");
  const std::string path = paths::Join(dir, "r.h5");
  {
    h5::File f = h5::File::Create(path);
    const std::vector<float> x = {1.5f, -2.f, 3.f, 4.f, 5.f, 6.f};
    const std::vector<int64_t> n = {7, 8, 9};
    f.root().WriteFloat32("metrics/x", {2, 3}, x.data());
    f.root().WriteInt64("points/n", {3}, n.data());
    f.root().WriteString("meta/config", "a = 1\n");
    f.root().WriteStrings("points/impl", {"reference", "cuda"});
    f.root().SetAttr("metrics/x", "units", std::string("ms"));
    f.root().SetAttr("", "schema_version", int64_t{1});
    EXPECT_TRUE(paths::Exists(path + ".tmp"));
    EXPECT_FALSE(paths::Exists(path));  // not visible before Commit
    f.Commit();
  }
  EXPECT_FALSE(paths::Exists(path + ".tmp"));
  const h5::File r = h5::File::OpenReadOnly(path);
  std::vector<int64_t> shape;
  EXPECT_EQ(r.root().ReadFloat32("metrics/x", &shape),
            (std::vector<float>{1.5f, -2.f, 3.f, 4.f, 5.f, 6.f}));
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.root().ReadInt64("points/n", &shape), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(r.root().ReadString("meta/config"), "a = 1\n");
  EXPECT_EQ(r.root().ReadStringAttr("metrics/x", "units"), "ms");
  EXPECT_TRUE(r.root().Exists("points/impl"));
  EXPECT_FALSE(r.root().Exists("points/nothing/deeper"));
  testing::ExpectErrorContaining([&] { r.root().ReadString("meta/absent"); },
                                 {path, "meta/absent"});
  testing::ExpectErrorContaining([&] { h5::File::OpenReadOnly(paths::Join(dir, "none.h5")); },
                                 {"none.h5"});
  paths::RemoveTree(dir);
}

}  // namespace
}  // namespace griffin
