// The sentencepiece wrapper on the committed test tokenizer (data/tokenizer, see data/MANIFEST):
// exact round trips, Gemma's special ids, the chat format, streaming without split characters,
// and clear errors.
#include "core/io/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/io/paths.h"
#include "test_util.h"

namespace griffin {
namespace {

std::string TokenizerPath() {
  return std::string(GRIFFIN_SOURCE_DIR) + "/data/tokenizer/test-gemma-384.model";
}

// True when `s` is well-formed UTF-8.
bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

TEST(Tokenizer, RoundTripsTextExactly) {
  const Tokenizer t = Tokenizer::Load(TokenizerPath());
  for (const std::string text :
       {"This License applies to any program", "a  b\t\tc\n\n  d   ", "déjà vu, naïve façade",
        "中文字符 and русский", "emoji 🙂👍🏽 mixed", " leading and trailing "}) {
    const std::vector<int64_t> ids = t.Encode(text);
    for (int64_t id : ids) EXPECT_LT(id, 384);
    EXPECT_EQ(t.Decode(ids), text);
  }
}

TEST(Tokenizer, SpecialIdsAndTurnTokens) {
  const Tokenizer t = Tokenizer::Load(TokenizerPath());
  EXPECT_EQ(t.vocab_size(), 384);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.bos_id(), 2);
  EXPECT_EQ(t.start_of_turn_id(), 4);
  EXPECT_EQ(t.end_of_turn_id(), 5);
  // The turn tokens are single pieces inside text, never split.
  EXPECT_EQ(t.Encode("<start_of_turn>"), (std::vector<int64_t>{4}));
}

TEST(Tokenizer, ChatFormatIds) {
  const Tokenizer t = Tokenizer::Load(TokenizerPath());
  EXPECT_EQ(FormatUserTurn("Hi"), "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  const std::vector<int64_t> ids = PromptIds(t, "Hi", /*chat=*/true);
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids[0], 2);  // BOS
  EXPECT_EQ(ids[1], 4);  // <start_of_turn>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 4), 2);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 5), 1);
  EXPECT_EQ(t.Decode({ids.begin() + 1, ids.end()}), FormatUserTurn("Hi"));
  const std::vector<int64_t> plain = PromptIds(t, "Hi", /*chat=*/false);
  std::vector<int64_t> want = {2};
  for (int64_t id : t.Encode("Hi")) want.push_back(id);
  EXPECT_EQ(plain, want);
}

TEST(Tokenizer, StreamingNeverSplitsACharacter) {
  const Tokenizer t = Tokenizer::Load(TokenizerPath());
  const std::string text = "naïve 🙂 中文 done  with  spaces";
  const std::vector<int64_t> ids = t.Encode(text);
  StreamDecoder stream(t);
  std::string joined;
  for (int64_t id : ids) {
    const std::string delta = stream.Push(id);
    EXPECT_TRUE(ValidUtf8(delta)) << "delta splits a character";
    joined += delta;
  }
  joined += stream.Flush();
  EXPECT_EQ(joined, text);
}

TEST(Tokenizer, ClearErrors) {
  testing::ExpectErrorContaining([] { Tokenizer::Load("/nonexistent/tokenizer.model"); },
                                 {"/nonexistent/tokenizer.model", "not found"});
  const std::string dir = paths::MakeTempDir("griffin_tok_");
  const std::string bad = paths::Join(dir, "tokenizer.model");
  std::ofstream(bad) << "this is not a protobuf";
  testing::ExpectErrorContaining([&] { Tokenizer::Load(bad); }, {bad, "not a sentencepiece"});
  paths::RemoveTree(dir);
  const Tokenizer t = Tokenizer::Load(TokenizerPath());
  testing::ExpectErrorContaining([&] { PromptIds(t, "", false); }, {"prompt is empty"});
  testing::ExpectErrorContaining([&] { t.Decode({5, 384}); }, {"token id 384", "384 pieces"});
}

}  // namespace
}  // namespace griffin
