#include "eval/text/text_niah.h"

#include <fmt/format.h>

#include <dirent.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/io/paths.h"
#include "core/runtime/generate.h"
#include "eval/tasks/task.h"

namespace griffin::eval {
namespace {

constexpr const char* kPasskeyFiller =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
constexpr const char* kPasskeyIntro =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize "
    "them. I will quiz you about the important information there. ";
// Keys as RULER makes them: an adjective and a noun.
constexpr const char* kAdjectives[] = {"quiet",  "bright", "ancient", "hollow", "gentle",
                                       "frozen", "golden", "hidden",  "rapid",  "silent"};
constexpr const char* kNouns[] = {"harbor",  "lantern", "meadow", "violin", "compass",
                                  "orchard", "glacier", "falcon", "teapot", "canyon"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The haystack split after every ". " / ".\n" (and on blank lines), whitespace runs collapsed.
std::vector<std::string> Sentences(const std::string& text) {
  std::string flat;
  for (char ch : text) {
    const char c = (ch == '\n' || ch == '\t' || ch == '\r') ? ' ' : ch;
    if (c == ' ' && !flat.empty() && flat.back() == ' ') continue;
    flat.push_back(c);
  }
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i + 1 < flat.size(); ++i) {
    if ((flat[i] == '.' || flat[i] == '?' || flat[i] == '!' || flat[i] == ';') &&
        flat[i + 1] == ' ') {
      out.push_back(flat.substr(start, i + 2 - start));
      start = i + 2;
    }
  }
  if (start < flat.size()) out.push_back(flat.substr(start) + " ");
  return out;
}

}  // namespace

TextNiah::TextNiah(const Tokenizer& tokenizer, TextNiahOptions options)
    : tokenizer_(tokenizer), o_(std::move(options)) {
  if (o_.kind != "niah" && o_.kind != "passkey") {
    throw std::invalid_argument(
        fmt::format("text niah: kind '{}' is not niah or passkey", o_.kind));
  }
  if (o_.trials < 1 || o_.max_new_tokens < 1) {
    throw std::invalid_argument("text niah: trials and max_new_tokens must be >= 1");
  }
  // The passkey prompt is plain text by definition; niah uses the chat format where it exists.
  if (o_.kind == "passkey" || tokenizer_.start_of_turn_id() < 0) o_.chat = false;
  std::string text;
  if (o_.kind == "passkey") {
    text = kPasskeyFiller;
  } else {
    std::vector<std::string> files;
    if (DIR* d = ::opendir(o_.haystack_dir.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0) files.push_back(name);
      }
      ::closedir(d);
    }
    if (files.empty()) {
      throw std::runtime_error(
          fmt::format("text niah: no *.txt haystack in '{}'", o_.haystack_dir));
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) text += ReadFile(paths::Join(o_.haystack_dir, f)) + "\n";
  }
  for (const std::string& s : Sentences(text)) sentences_.push_back(tokenizer_.Encode(s));
}

TextNiah::Parts TextNiah::MakeParts(uint64_t seed) const {
  Rng rng(seed);
  Parts p;
  std::string intro, needle, question;
  if (o_.kind == "passkey") {
    p.answer = std::to_string(rng.Uniform(10000, 100000));
    intro = kPasskeyIntro;
    needle = fmt::format("The pass key is {0}. Remember it. {0} is the pass key. ", p.answer);
    question = "What is the pass key? The pass key is";
  } else {
    const std::string key =
        fmt::format("{}-{}", kAdjectives[rng.Uniform(0, 10)], kNouns[rng.Uniform(0, 10)]);
    p.answer = std::to_string(rng.Uniform(1000000, 10000000));
    intro =
        "Some special magic numbers are hidden within the following text. Make sure to "
        "memorize them. I will quiz you about the numbers afterwards.\n";
    needle = fmt::format("The special magic number for {} is {}. ", key, p.answer);
    // In the chat format the model answers in its own turn; otherwise the answer is begun.
    question = o_.chat ? fmt::format(
                             "\nWhat is the special magic number for {} mentioned in the "
                             "text? Answer with the number only.",
                             key)
                       : fmt::format(
                             "\nWhat is the special magic number for {} mentioned in the "
                             "text? The special magic number for {} is",
                             key, key);
  }
  // The chat format splits around the message: "<start_of_turn>user\n" | message |
  // "<end_of_turn>\n<start_of_turn>model\n".
  const std::string turn = FormatUserTurn("");
  const size_t split = turn.find("<end_of_turn>");
  p.before = {tokenizer_.bos_id()};
  const std::vector<int64_t> head =
      tokenizer_.Encode(o_.chat ? turn.substr(0, split) + intro : intro);
  p.before.insert(p.before.end(), head.begin(), head.end());
  p.needle = tokenizer_.Encode(needle);
  const std::string tail = o_.chat ? question + turn.substr(split) : question;
  p.after = tokenizer_.Encode(tail);
  return p;
}

int64_t TextNiah::MinLength() const {
  const Parts p = MakeParts(o_.seed);
  return static_cast<int64_t>(p.before.size() + p.needle.size() + p.after.size());
}

TextNiahTrial TextNiah::Make(int64_t length, double depth, int64_t trial) const {
  if (depth < 0.0 || depth > 1.0) {
    throw std::invalid_argument(fmt::format("text niah: depth {} is not in [0, 1]", depth));
  }
  const uint64_t seed =
      BatchSeed(o_.seed, trial * 1000003 + length * 101 + static_cast<int64_t>(depth * 1000));
  const Parts p = MakeParts(seed);
  const int64_t fixed = static_cast<int64_t>(p.before.size() + p.needle.size() + p.after.size());
  if (length < fixed) {
    throw std::invalid_argument(
        fmt::format("text niah: length {} is shorter than the prompt without haystack ({} tokens)",
                    length, fixed));
  }
  // Haystack sentences in order from a random start, repeating the text, until the budget.
  Rng rng(seed ^ 0x5DEECE66Dull);
  const int64_t budget = length - fixed;
  std::vector<const std::vector<int64_t>*> hay;
  int64_t tokens = 0;
  for (int64_t i = rng.Uniform(0, static_cast<int64_t>(sentences_.size())); tokens < budget; ++i) {
    const auto& s = sentences_[static_cast<size_t>(i) % sentences_.size()];
    if (tokens + static_cast<int64_t>(s.size()) > budget) break;  // never longer than asked
    hay.push_back(&s);
    tokens += static_cast<int64_t>(s.size());
  }
  // The needle goes between sentences, after the first ones holding `depth` of the haystack.
  TextNiahTrial t;
  t.answer = p.answer;
  t.ids = p.before;
  int64_t placed = 0;
  bool needle_done = false;
  for (const auto* s : hay) {
    if (!needle_done && placed >= depth * static_cast<double>(tokens)) {
      t.needle_at = static_cast<int64_t>(t.ids.size());
      t.ids.insert(t.ids.end(), p.needle.begin(), p.needle.end());
      needle_done = true;
    }
    t.ids.insert(t.ids.end(), s->begin(), s->end());
    placed += static_cast<int64_t>(s->size());
  }
  if (!needle_done) {
    t.needle_at = static_cast<int64_t>(t.ids.size());
    t.ids.insert(t.ids.end(), p.needle.begin(), p.needle.end());
  }
  t.ids.insert(t.ids.end(), p.after.begin(), p.after.end());
  return t;
}

TextNiahResult TextNiah::Measure(const LanguageModel& model, int64_t length, double depth) const {
  TextNiahResult r;
  GenerateOptions g;
  g.max_new_tokens = o_.max_new_tokens;
  g.stop_ids = {tokenizer_.eos_id()};
  if (tokenizer_.end_of_turn_id() >= 0) g.stop_ids.push_back(tokenizer_.end_of_turn_id());
  for (int64_t k = 0; k < o_.trials; ++k) {
    const TextNiahTrial t = Make(length, depth, k);
    std::vector<int64_t> out = Generate(model, t.ids, g);
    // Ids the tokenizer lacks (a model with more embeddings) cannot be decoded: drop them.
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](int64_t id) { return id < 0 || id >= tokenizer_.vocab_size(); }),
              out.end());
    const std::string text = tokenizer_.Decode(out);
    r.outputs.push_back(text);
    r.correct += AnswerFound(text, t.answer);
    r.prompt_tokens += static_cast<double>(t.ids.size()) / static_cast<double>(o_.trials);
    ++r.trials;
  }
  return r;
}

bool AnswerFound(std::string_view output, std::string_view answer) {
  if (answer.empty()) return false;
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  for (size_t at = output.find(answer); at != std::string_view::npos;
       at = output.find(answer, at + 1)) {
    const size_t end = at + answer.size();
    const bool open_left = at == 0 || !digit(output[at - 1]) || !digit(answer.front());
    const bool open_right = end == output.size() || !digit(output[end]) || !digit(answer.back());
    if (open_left && open_right) return true;
  }
  return false;
}

}  // namespace griffin::eval
