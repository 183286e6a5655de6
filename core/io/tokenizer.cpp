#include "core/io/tokenizer.h"

#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include <stdexcept>

#include "core/io/paths.h"

namespace griffin {

struct Tokenizer::Impl {
  std::string path;
  sentencepiece::SentencePieceProcessor sp;
  int64_t start_of_turn = -1, end_of_turn = -1;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::Load(const std::string& path) {
  if (!paths::Exists(path))
    throw std::runtime_error(fmt::format("{}: tokenizer file not found", path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  const auto status = impl->sp.Load(path);
  if (!status.ok()) {
    throw std::runtime_error(
        fmt::format("{}: not a sentencepiece tokenizer model ({})", path, status.ToString()));
  }
  // PieceToId returns the unknown id for pieces the model lacks.
  auto lookup = [&](const char* piece) -> int64_t {
    const int id = impl->sp.PieceToId(piece);
    return id == impl->sp.unk_id() ? -1 : id;
  };
  impl->start_of_turn = lookup("<start_of_turn>");
  impl->end_of_turn = lookup("<end_of_turn>");
  return Tokenizer(std::move(impl));
}

std::vector<int64_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = impl_->sp.Encode(text, &ids);
  if (!status.ok())
    throw std::runtime_error(fmt::format("{}: encode failed: {}", impl_->path, status.ToString()));
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::Decode(const std::vector<int64_t>& ids) const {
  std::vector<int> narrow;
  narrow.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw std::invalid_argument(
          fmt::format("token id {} is out of range for the tokenizer {} "
                      "({} pieces)",
                      id, impl_->path, vocab_size()));
    }
    narrow.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto status = impl_->sp.Decode(narrow, &text);
  if (!status.ok())
    throw std::runtime_error(fmt::format("{}: decode failed: {}", impl_->path, status.ToString()));
  return text;
}

int64_t Tokenizer::vocab_size() const { return impl_->sp.GetPieceSize(); }
int64_t Tokenizer::bos_id() const { return impl_->sp.bos_id(); }
int64_t Tokenizer::eos_id() const { return impl_->sp.eos_id(); }
int64_t Tokenizer::pad_id() const { return impl_->sp.pad_id(); }
int64_t Tokenizer::start_of_turn_id() const { return impl_->start_of_turn; }
int64_t Tokenizer::end_of_turn_id() const { return impl_->end_of_turn; }
const std::string& Tokenizer::path() const { return impl_->path; }

std::string FormatUserTurn(std::string_view message) {
  return fmt::format("<start_of_turn>user\n{}<end_of_turn>\n<start_of_turn>model\n", message);
}

std::vector<int64_t> PromptIds(const Tokenizer& tokenizer, std::string_view prompt, bool chat) {
  if (prompt.empty()) throw std::invalid_argument("the prompt is empty");
  if (chat && tokenizer.start_of_turn_id() < 0) {
    throw std::invalid_argument(fmt::format(
        "{} has no <start_of_turn> piece: it cannot encode the chat format", tokenizer.path()));
  }
  std::vector<int64_t> ids = {tokenizer.bos_id()};
  const std::vector<int64_t> body =
      tokenizer.Encode(chat ? FormatUserTurn(prompt) : std::string(prompt));
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

namespace {
// True when `text` ends inside a UTF-8 sequence or with the replacement character sentencepiece
// produces for incomplete byte-fallback sequences.
bool EndsIncomplete(const std::string& text) {
  if (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0) return true;
  for (size_t back = 1; back <= std::min<size_t>(3, text.size()); ++back) {
    const unsigned char c = text[text.size() - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back;
  }
  return false;
}
}  // namespace

std::string StreamDecoder::Push(int64_t id) {
  ids_.push_back(id);
  const std::vector<int64_t> window(ids_.begin() + prefix_, ids_.end());
  const std::string before = tokenizer_.Decode({ids_.begin() + prefix_, ids_.begin() + read_});
  const std::string now = tokenizer_.Decode(window);
  if (now.size() <= before.size() || EndsIncomplete(now)) return "";  // wait for more bytes
  std::string delta = now.substr(before.size());
  prefix_ = read_;
  read_ = ids_.size();
  return delta;
}

std::string StreamDecoder::Flush() {
  const std::string before = tokenizer_.Decode({ids_.begin() + prefix_, ids_.begin() + read_});
  const std::string now = tokenizer_.Decode({ids_.begin() + prefix_, ids_.end()});
  prefix_ = read_ = ids_.size();
  return now.size() > before.size() ? now.substr(before.size()) : "";
}

}  // namespace griffin
