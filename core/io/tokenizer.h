// The sentencepiece tokenizer of Gemma / RecurrentGemma checkpoints (tokenizer.model): encode,
// decode, the special ids, the turn tokens of the instruction format, and a streaming decoder
// that turns ids into text deltas without splitting multi-byte characters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace griffin {

class Tokenizer {
 public:
  // Throws std::runtime_error naming the path when the file is missing or not a tokenizer model.
  static Tokenizer Load(const std::string& path);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int64_t> Encode(std::string_view text) const;   // no BOS added
  std::string Decode(const std::vector<int64_t>& ids) const;  // ids out of range throw
  int64_t vocab_size() const;
  int64_t bos_id() const;
  int64_t eos_id() const;
  int64_t pad_id() const;
  // Ids of `<start_of_turn>` / `<end_of_turn>` looked up by piece; -1 when the model lacks them.
  int64_t start_of_turn_id() const;
  int64_t end_of_turn_id() const;
  const std::string& path() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Gemma instruction format for one user turn, ready for the model to answer:
//   <start_of_turn>user\n{message}<end_of_turn>\n<start_of_turn>model\n
std::string FormatUserTurn(std::string_view message);

// [BOS] + the encoded prompt (wrapped in the turn format when `chat`). Empty prompts throw.
std::vector<int64_t> PromptIds(const Tokenizer& tokenizer, std::string_view prompt, bool chat);

// Ids in, text deltas out: each Push returns the text the new id completes. Decoding the window
// since the last complete character keeps multi-byte characters (and sentencepiece's spaces)
// intact, and costs O(window) per token rather than O(sequence).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string Push(int64_t id);
  std::string Flush();  // whatever is still held back (an incomplete byte sequence)

 private:
  const Tokenizer& tokenizer_;
  std::vector<int64_t> ids_;
  size_t prefix_ = 0, read_ = 0;  // window start; ids already turned into text
};

}  // namespace griffin
