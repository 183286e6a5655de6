#include "experiments/toml.h"

#include <fmt/format.h>

#include <sstream>
#include <stdexcept>

namespace griffin::experiments {

void TomlCheckFailed(const char* check) {
  throw toml::parse_error(
      fmt::format("input the TOML reader cannot handle (its check '{}' failed)", check).c_str(),
      toml::source_position{});
}

namespace {

[[noreturn]] void FailAt(const std::string& where, int line, int column, const char* what) {
  throw std::invalid_argument(fmt::format("{}:{}:{}: {}", where, line, column, what));
}

// Whether a quote after `prev` (0 at the start) opens a string: only where a key or a value may
// start. toml++ reads a value's first characters ahead, up to a terminator, before it knows its
// kind (`0.25"...` or `+"...`), and that look-ahead asks the faulty whitespace test about every
// character it passes: a quote elsewhere opens no string, and what follows it must be ASCII.
bool OpensString(char prev) {
  switch (prev) {
    case 0:
    case '\n':
    case '\r':
    case ' ':
    case '\t':
    case '=':
    case '[':
    case '{':
    case ',':
    case '.':
      return true;
    default:
      return false;
  }
}

}  // namespace

// A scan of TOML 1.0's strings and comments, just enough to know where text is inside one; every
// other byte must be ASCII, as TOML requires outside strings and comments.
void CheckTomlCharacters(std::string_view text, const std::string& where) {
  enum { kNormal, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } state = kNormal;
  int line = 1, column = 0;
  char prev = 0;                   // the byte before this one, in the normal state
  bool after_line_escape = false;  // in a multi-line basic string, after a line-ending backslash
  const auto at = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a UTF-8 byte order mark
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    ++column;
    if (c == '\n') {
      if (state == kBasic || state == kLiteral) {
        FailAt(where, line, column, "a line break inside a single-line string");
      }
      if (state == kComment) state = kNormal;
      ++line;
      column = 0;
      prev = '\n';
      continue;
    }
    switch (state) {
      case kNormal:
        if (c == '#') {
          state = kComment;
        } else if ((c == '"' || c == '\'') && OpensString(prev)) {
          const bool multi = at(i, c == '"' ? "\"\"\"" : "'''");
          state = c == '"' ? (multi ? kMultiBasic : kBasic) : (multi ? kMultiLiteral : kLiteral);
          if (multi) i += 2, column += 2;
        } else if (c >= 0x80) {
          FailAt(where, line, column,
                 "a character outside ASCII, where only a string or a comment may hold one");
        }
        prev = static_cast<char>(c);
        break;
      case kComment:
        break;
      case kBasic:
      case kMultiBasic:
        if (state == kMultiBasic && after_line_escape) {
          // toml++ asks its whitespace test about every character it skips here.
          if (c == ' ' || c == '\t' || c == '\r') break;
          if (c >= 0x80) {
            FailAt(where, line, column,
                   "a character outside ASCII first after a line-ending backslash (toml++ 3.3 "
                   "cannot read it there)");
          }
          after_line_escape = false;
        }
        if (c == '\\') {
          const unsigned char next = i + 1 < text.size() ? text[i + 1] : 0;
          if (state == kMultiBasic && next >= 0x80) {
            FailAt(where, line, column + 1, "a character outside ASCII escaped by a backslash");
          }
          if (state == kMultiBasic &&
              (next == ' ' || next == '\t' || next == '\r' || next == '\n')) {
            after_line_escape = true;  // a line-ending backslash (or an invalid escape)
            break;
          }
          ++i, ++column;  // the escaped character
        } else if (state == kBasic && c == '"') {
          state = kNormal;
        } else if (state == kMultiBasic && at(i, "\"\"\"")) {
          // Up to two more quotes right after the delimiter belong to the string (TOML 1.0).
          i += 2, column += 2;
          for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == '"'; ++extra) {
            ++i, ++column;
          }
          state = kNormal;
        }
        break;
      case kLiteral:
      case kMultiLiteral:
        if (state == kLiteral && c == '\'') {
          state = kNormal;
        } else if (state == kMultiLiteral && at(i, "'''")) {
          i += 2, column += 2;
          for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == '\''; ++extra) {
            ++i, ++column;
          }
          state = kNormal;
        }
        break;
    }
  }
}

}  // namespace griffin::experiments

namespace griffin::experiments {
namespace {

bool BareKey(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void WriteKey(std::ostream& os, std::string_view k) {
  if (BareKey(k)) {
    os << k;
  } else {
    os << toml::value<std::string>(std::string(k));  // quoted and escaped as toml++ does
  }
}

// One value on one line: arrays and tables inline, scalars as toml++ prints them.
void WriteInline(std::ostream& os, const toml::node& n) {
  if (const toml::array* a = n.as_array()) {
    os << "[ ";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) os << ", ";
      WriteInline(os, *a->get(i));
    }
    os << (a->empty() ? "]" : " ]");
  } else if (const toml::table* t = n.as_table()) {
    os << "{ ";
    bool first = true;
    for (const auto& [k, v] : *t) {
      if (!first) os << ", ";
      first = false;
      WriteKey(os, k.str());
      os << " = ";
      WriteInline(os, v);
    }
    os << (t->empty() ? "}" : " }");
  } else {
    n.visit([&](const auto& v) {
      if constexpr (toml::is_value<decltype(v)>) os << v;
    });
  }
}

void WriteTable(std::ostream& os, const toml::table& t, const std::string& name) {
  if (!name.empty()) os << "[" << name << "]\n";
  for (const auto& [k, v] : t) {
    if (v.is_table() && !v.as_table()->is_inline()) continue;
    WriteKey(os, k.str());
    os << " = ";
    WriteInline(os, v);
    os << "\n";
  }
  for (const auto& [k, v] : t) {
    if (!v.is_table() || v.as_table()->is_inline()) continue;
    std::ostringstream key;
    WriteKey(key, k.str());
    os << "\n";
    WriteTable(os, *v.as_table(), name.empty() ? key.str() : name + "." + key.str());
  }
}

}  // namespace

std::string ResolvedToml(const toml::table& root) {
  std::ostringstream os;
  WriteTable(os, root, "");
  return os.str();
}

}  // namespace griffin::experiments
