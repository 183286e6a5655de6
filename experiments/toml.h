// toml++ for the experiment configs, included only through this header, and the guard its input
// passes first. Two faults of toml++ 3.3 (Debian 12's), found by tests/fuzz/ (inputs kept in
// tests/fuzz/regressions/experiment_toml/), are undefined behaviour in a release build:
// - its internal checks become compiler assumptions under NDEBUG, and one does not hold for every
//   input (a table header whose key starts with a character no key may start with, "[^name]",
//   reaches parse_key()): here the checks stay on in every build, each failing check a
//   toml::parse_error, which LoadExperiment reports naming the file (inside toml++'s noexcept
//   functions a failing check ends the process through std::terminate instead: defined, loud);
// - its test for Unicode whitespace, asked about a character outside ASCII where a token may
//   start, reaches TOML_UNREACHABLE for three ranges (U+00A1-U+0499 among them) inside a noexcept
//   function: CheckTomlCharacters rejects such characters before toml++ sees them (TOML allows
//   them only inside strings and comments).
#pragma once

#include <string>
#include <string_view>

#pragma push_macro("NDEBUG")
#undef NDEBUG

namespace griffin::experiments {
// Throws toml::parse_error naming the failed check.
[[noreturn]] void TomlCheckFailed(const char* check);
// Throws std::invalid_argument "WHERE:LINE:COLUMN: ..." at a byte outside ASCII that is not inside
// a string or a comment, or at a line break inside a single-line string.
void CheckTomlCharacters(std::string_view text, const std::string& where);
}  // namespace griffin::experiments

#define TOML_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::griffin::experiments::TomlCheckFailed(#expr))
#include <toml++/toml.h>  // IWYU pragma: export

#pragma pop_macro("NDEBUG")

namespace griffin::experiments {
// `root` as TOML text, one key a line, arrays and inline tables on one line. Not toml++'s own
// writer: to lay out an array it converts log10 of each float to size_t, undefined behaviour for
// any float below 1 (a learning rate; found by scripts/test-sanitizers).
std::string ResolvedToml(const toml::table& root);
// Whether two resolved configs are the same TOML, compared as tables, not text: a journal written
// before ResolvedToml (2026-12-01, toml++'s layout) still resumes. Text that does not read as TOML
// is a different config.
bool SameResolvedConfig(const std::string& a, const std::string& b);
}  // namespace griffin::experiments
