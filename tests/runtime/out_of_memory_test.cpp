// Out-of-memory errors recognised and read: the CUDA allocator's, the CPU allocator's and the KV
// cache's, with what each asked for; other errors are not taken for one.
#include "core/runtime/out_of_memory.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace griffin {
namespace {

template <class Fn>
std::optional<OutOfMemory> Read(Fn&& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return AsOutOfMemory(e);
  }
  ADD_FAILURE() << "nothing thrown";
  return std::nullopt;
}

TEST(OutOfMemory, CudaAllocatorsMessage) {
  const auto oom = Read([] {
    TORCH_CHECK_WITH(OutOfMemoryError, false,
                     "CUDA out of memory. Tried to allocate 4.00 GiB. GPU 0 has a total capacity "
                     "of 139.80 GiB of which 3.48 GiB is free.\nsecond line");
  });
  ASSERT_TRUE(oom.has_value());
  EXPECT_EQ(oom->asked, "4.00 GiB");
  EXPECT_EQ(oom->detail.find("second line"), std::string::npos);
  EXPECT_EQ(oom->Line().rfind("out of memory (4.00 GiB asked): CUDA out of memory.", 0), 0u)
      << oom->Line();
}

TEST(OutOfMemory, CpuAllocatorsMessage) {
  // What LibTorch's CPU allocator says when it cannot have the memory.
  const auto oom = Read([] { at::empty({int64_t{1} << 50}, at::kByte); });
  ASSERT_TRUE(oom.has_value());
  EXPECT_EQ(oom->asked, std::to_string(int64_t{1} << 50) + " bytes");
  EXPECT_EQ(oom->Line().rfind("out of memory (1125899906842624 bytes asked): ", 0), 0u)
      << oom->Line();
}

TEST(OutOfMemory, AmountWithoutTheSentencesEnd) {
  const auto end = Read([] {
    TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 2.00 GiB.");
  });
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->asked, "2.00 GiB");
  const auto older = Read([] {
    TORCH_CHECK_WITH(OutOfMemoryError, false,
                     "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 79.1 GiB total)");
  });
  ASSERT_TRUE(older.has_value());
  EXPECT_EQ(older->asked, "20.00 MiB");
}

TEST(OutOfMemory, WithoutAnAmount) {
  const auto oom = Read(
      [] { TORCH_CHECK_WITH(OutOfMemoryError, false, "KV cache: cannot grow to 4096 tokens"); });
  ASSERT_TRUE(oom.has_value());
  EXPECT_EQ(oom->asked, "");
  EXPECT_EQ(oom->Line(), "out of memory: KV cache: cannot grow to 4096 tokens");
}

TEST(OutOfMemory, OtherErrorsAreNot) {
  EXPECT_FALSE(Read([] { TORCH_CHECK(false, "shape mismatch: tried to allocate nothing"); }));
}

}  // namespace
}  // namespace griffin
