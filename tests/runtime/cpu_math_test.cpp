// The griffin command asks MKL for reproducible results unless the user chose otherwise.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/runtime/cpu_math.h"

namespace griffin {
namespace {

TEST(CpuMath, RequestsReproducibleMklWhenUnset) {
  unsetenv("MKL_CBWR");
  RequestReproducibleCpuMath();
  const char* value = std::getenv("MKL_CBWR");
  ASSERT_NE(value, nullptr);
  const std::string v = value;
  EXPECT_TRUE(v == "AVX2,STRICT" || v == "COMPATIBLE") << v;
}

TEST(CpuMath, KeepsTheUsersChoice) {
  setenv("MKL_CBWR", "AUTO", 1);
  RequestReproducibleCpuMath();
  EXPECT_STREQ(std::getenv("MKL_CBWR"), "AUTO");
}

}  // namespace
}  // namespace griffin
