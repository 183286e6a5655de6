// toml++ for the experiment configs, included only through this header: its internal checks stay
// on in every build, each failing check a toml::parse_error (which LoadExperiment reports as an
// error naming the file) instead of undefined behaviour. toml++ 3.3 (Debian 12's) turns its checks
// into compiler assumptions when NDEBUG is set, and one does not hold for every input: a table
// header whose key starts with a character no key may start with ("[^name]", found by
// tests/fuzz/, kept in tests/fuzz/regressions/experiment_toml/) reaches parse_key() anyway.
#pragma once

#pragma push_macro("NDEBUG")
#undef NDEBUG

namespace griffin::experiments {
// Throws toml::parse_error naming the failed check (experiment_config.cpp).
[[noreturn]] void TomlCheckFailed(const char* check);
}  // namespace griffin::experiments

#define TOML_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::griffin::experiments::TomlCheckFailed(#expr))
#include <toml++/toml.h>  // IWYU pragma: export

#pragma pop_macro("NDEBUG")
