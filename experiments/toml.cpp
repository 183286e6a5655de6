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

bool HorizontalSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

[[noreturn]] void FailAt(const std::string& where, int line, int column, const char* what) {
  throw std::invalid_argument(fmt::format("{}:{}:{}: {}", where, line, column, what));
}

}  // namespace

// A scan of TOML 1.0's strings and comments, just enough to know where text is inside one; every
// other byte must be ASCII, as TOML requires outside strings and comments. toml++ reads a value
// that does not start with a quote, a bracket or a brace ahead to a terminator (whitespace, ',',
// ']', '}', '#') before it knows its kind, and asks the faulty whitespace test about every
// character it passes, quotes included (`0."..."`, `1="..."`): so a quote opens a string only at
// a token's start, or after a '.' inside a key (a dotted key's quoted part), and everything else
// in a value's run must be ASCII. Keys and values are told apart as TOML does: a value follows
// '=' or sits in an array, a key starts a line, a table header or an inline table's entry.
void CheckTomlCharacters(std::string_view text, const std::string& where) {
  enum { kNormal, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } state = kNormal;
  enum { kBetween, kKey, kValue } run = kBetween;  // the token the scan is in (normal state)
  bool value_next = false;                         // whether a token starting now is a value
  std::string nest;  // open '[' (array), 'h' (table header) and '{' (inline table)
  int line = 1, column = 0;
  char prev = 0;                   // the byte before this one, in the normal state
  bool after_line_escape = false;  // in a multi-line basic string, after a line-ending backslash
  const auto at = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  size_t i = 0;
  // Ends the string whose closing quote, or delimiter of three, starts at i; up to two more quotes
  // right after a multi-line string's delimiter belong to the string (TOML 1.0).
  const auto close = [&](char quote, bool multi) {
    if (multi) {
      i += 2, column += 2;
      for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == quote; ++extra) {
        ++i, ++column;
      }
    }
    state = kNormal;
    prev = quote;
  };
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a UTF-8 byte order mark
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    ++column;
    if (c == '\n') {
      if (state == kBasic || state == kLiteral) {
        FailAt(where, line, column, "a line break inside a single-line string");
      }
      if (state == kComment) state = kNormal;
      if (state == kNormal) {
        run = kBetween;
        if (nest.empty()) value_next = false;  // a new line of the document starts with a key
      }
      ++line;
      column = 0;
      prev = '\n';
      continue;
    }
    switch (state) {
      case kNormal: {
        const bool token_start = run == kBetween;
        if (c == '#') {
          state = kComment;
          run = kBetween;
        } else if ((c == '"' || c == '\'') && (token_start || (run == kKey && prev == '.'))) {
          const bool multi = at(i, c == '"' ? "\"\"\"" : "'''");
          state = c == '"' ? (multi ? kMultiBasic : kBasic) : (multi ? kMultiLiteral : kLiteral);
          if (multi) i += 2, column += 2;
          if (token_start) run = value_next ? kValue : kKey;
        } else if (c >= 0x80) {
          FailAt(where, line, column,
                 "a character outside ASCII, where only a string or a comment may hold one");
        } else if (HorizontalSpace(c)) {
          run = kBetween;
        } else if (c == ',') {
          run = kBetween;
          if (!nest.empty()) value_next = nest.back() == '[';
        } else if (c == ']' || c == '}') {
          run = kBetween;
          if (!nest.empty()) nest.pop_back();
        } else if (c == '=' && run != kValue) {
          run = kBetween;
          value_next = true;
        } else if ((c == '[' || c == '{') && token_start) {
          nest.push_back(c == '{' ? '{' : value_next ? '[' : 'h');
          if (c == '{') value_next = false;
        } else if (token_start) {
          run = value_next ? kValue : kKey;
        }
        prev = static_cast<char>(c);
        break;
      }
      case kComment:
        break;
      case kBasic:
      case kMultiBasic:
        if (state == kMultiBasic && after_line_escape) {
          // toml++ asks its whitespace test about every character it skips here.
          if (HorizontalSpace(c)) break;
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
          if (state == kMultiBasic && (HorizontalSpace(next) || next == '\n')) {
            after_line_escape = true;  // a line-ending backslash (or an invalid escape)
            break;
          }
          ++i, ++column;  // the escaped character
        } else if (state == kBasic ? c == '"' : at(i, "\"\"\"")) {
          close('"', state == kMultiBasic);
        }
        break;
      case kLiteral:
      case kMultiLiteral:
        if (state == kLiteral ? c == '\'' : at(i, "'''")) close('\'', state == kMultiLiteral);
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

bool SameResolvedConfig(const std::string& a, const std::string& b) {
  if (a == b) return true;
  try {
    CheckTomlCharacters(a, "resolved config");
    CheckTomlCharacters(b, "resolved config");
    return toml::parse(a) == toml::parse(b);
  } catch (const std::exception&) {
    return false;
  }
}

std::string ResolvedToml(const toml::table& root) {
  std::ostringstream os;
  WriteTable(os, root, "");
  return os.str();
}

}  // namespace griffin::experiments
