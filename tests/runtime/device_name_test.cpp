// The one device parser behind --device and run.device (core/runtime/device_name.h).
#include "core/runtime/device_name.h"

#include <ATen/Context.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace griffin {
namespace {

using testing::ExpectErrorContaining;

TEST(ParseDevice, NamesTheHarnessRunsOn) {
  EXPECT_TRUE(ParseDevice("cpu").is_cpu());
  for (const char* bad : {"gpu", "cuda:x", "", "mps", "cuda:-1"}) {
    SCOPED_TRACE(bad);
    ExpectErrorContaining([&] { ParseDevice(bad); },
                          {fmt::format("'{}' is not cpu, cuda or cuda:N", bad)});
  }
}

TEST(ParseDevice, CudaOnlyWhereThereIsOne) {
  if (at::hasCUDA()) {
    EXPECT_TRUE(ParseDevice("cuda").is_cuda());
    EXPECT_EQ(ParseDevice("cuda:0").index(), 0);
  } else {
    ExpectErrorContaining([] { ParseDevice("cuda"); }, {"cuda: no CUDA device is available here"});
    ExpectErrorContaining([] { ParseDevice("cuda:1"); },
                          {"cuda:1: no CUDA device is available here"});
  }
}

}  // namespace
}  // namespace griffin
