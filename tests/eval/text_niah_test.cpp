// Text needle-in-a-haystack and passkey prompts with the test tokenizer: about the asked length,
// the needle where the depth says, the answer inside the needle, deterministic; and the whole
// measurement running on the tiny fixture (which scores near zero: the pipeline is the point).
#include "eval/text/text_niah.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/io/tokenizer.h"
#include "test_util.h"

namespace griffin::eval {
namespace {

std::string Source(const std::string& rel) { return std::string(GRIFFIN_SOURCE_DIR) + "/" + rel; }

class TextNiahTest : public ::testing::Test {
 protected:
  Tokenizer tokenizer_ = Tokenizer::Load(Source("data/tokenizer/test-gemma-384.model"));
  TextNiahOptions Options(const std::string& kind) {
    TextNiahOptions o;
    o.kind = kind;
    o.haystack_dir = Source("data/haystack");
    o.trials = 2;
    o.max_new_tokens = 4;
    return o;
  }
};

TEST_F(TextNiahTest, PromptsHaveTheLengthTheNeedleAndTheDepth) {
  const TextNiah niah(tokenizer_, Options("niah"));
  for (int64_t length : {600, 2000, 8000}) {
    std::vector<double> at;
    for (double depth : {0.0, 0.5, 1.0}) {
      const TextNiahTrial t = niah.Make(length, depth, 0);
      EXPECT_LE(static_cast<int64_t>(t.ids.size()), length);
      EXPECT_GE(static_cast<int64_t>(t.ids.size()), length - 400) << "within a sentence or two";
      EXPECT_EQ(t.ids.front(), tokenizer_.bos_id());
      // Up to 120 tokens from the needle on; at depth 1 fewer remain (reading past the end of
      // ids once decoded whatever lay after the vector, and failed when that was no token id).
      const int64_t end = std::min<int64_t>(t.needle_at + 120, static_cast<int64_t>(t.ids.size()));
      const std::string needle =
          tokenizer_.Decode(std::vector<int64_t>(t.ids.begin() + t.needle_at, t.ids.begin() + end));
      EXPECT_EQ(needle.rfind("The special magic number for ", 0), 0u) << needle;
      EXPECT_NE(needle.find(t.answer), std::string::npos);
      EXPECT_EQ(t.answer.size(), 7u);
      at.push_back(static_cast<double>(t.needle_at) / static_cast<double>(t.ids.size()));
      // Same inputs, same prompt.
      EXPECT_EQ(niah.Make(length, depth, 0).ids, t.ids);
    }
    EXPECT_LT(at[0], at[1]);
    EXPECT_LT(at[1], at[2]);
    if (length == 8000) {  // the haystack dominates: the needle sits at the depth of the prompt
      EXPECT_LT(at[0], 0.05);
      EXPECT_NEAR(at[1], 0.5, 0.05);
      EXPECT_GT(at[2], 0.95);
    }
    EXPECT_NE(niah.Make(length, 0.5, 0).ids, niah.Make(length, 0.5, 1).ids) << "trials differ";
  }
  const std::string prompt = tokenizer_.Decode(niah.Make(2000, 0.5, 0).ids);
  EXPECT_NE(prompt.find("<start_of_turn>user"), std::string::npos) << "chat format";
  EXPECT_NE(prompt.find("What is the special magic number for"), std::string::npos);
  // Just above the fixed part: never longer than asked, even when no sentence fits.
  const int64_t fixed = niah.MinLength();
  EXPECT_LE(static_cast<int64_t>(niah.Make(fixed + 40, 0.5, 0).ids.size()), fixed + 40);
  testing::ExpectErrorContaining([&] { niah.Make(50, 0.5, 0); }, {"shorter than the prompt"});
  testing::ExpectErrorContaining([&] { niah.Make(1000, 1.5, 0); }, {"depth 1.5"});
}

TEST_F(TextNiahTest, PasskeyUsesTheStandardWording) {
  const TextNiah passkey(tokenizer_, Options("passkey"));
  const TextNiahTrial t = passkey.Make(1500, 0.25, 3);
  const std::string prompt = tokenizer_.Decode(t.ids);
  EXPECT_NE(prompt.find("The pass key is " + t.answer + ". Remember it."), std::string::npos);
  EXPECT_NE(prompt.find("The grass is green. The sky is blue."), std::string::npos);
  EXPECT_EQ(prompt.substr(prompt.size() - 37), "What is the pass key? The pass key is");
  EXPECT_EQ(t.answer.size(), 5u);
}

TEST_F(TextNiahTest, RunsOnTheFixture) {
  const at::InferenceMode inference;
  const auto model = LoadModel(testing::FixtureDir("tiny-recurrentgemma"), {});
  const TextNiah niah(tokenizer_, Options("niah"));
  const TextNiahResult r = niah.Measure(*model, 700, 0.5);
  EXPECT_EQ(r.trials, 2);
  EXPECT_GE(r.correct, 0);
  EXPECT_LE(r.correct, 2);
  EXPECT_EQ(r.outputs.size(), 2u);
  EXPECT_GT(r.prompt_tokens, 300);
}

// The needle's value must come back as the same number, not inside a longer one.
TEST(TextNiahScore, FindsTheValueAsAWholeNumber) {
  EXPECT_TRUE(AnswerFound("The special magic number is 1234567.", "1234567"));
  EXPECT_TRUE(AnswerFound("1234567", "1234567"));
  EXPECT_TRUE(AnswerFound("number:1234567\n", "1234567"));
  EXPECT_TRUE(AnswerFound("12345678 and then 1234567", "1234567"));  // a later whole match
  EXPECT_FALSE(AnswerFound("12345678", "1234567"));
  EXPECT_FALSE(AnswerFound("01234567", "1234567"));
  EXPECT_FALSE(AnswerFound("123 4567", "1234567"));
  EXPECT_FALSE(AnswerFound("", "1234567"));
  EXPECT_FALSE(AnswerFound("anything", ""));
}

TEST_F(TextNiahTest, BadOptionsAreClear) {
  TextNiahOptions o = Options("needle");
  testing::ExpectErrorContaining([&] { TextNiah(tokenizer_, o); }, {"kind 'needle'"});
  o = Options("niah");
  o.haystack_dir = "/no/such/dir";
  testing::ExpectErrorContaining([&] { TextNiah(tokenizer_, o); },
                                 {"no *.txt haystack", "/no/such/dir"});
}

}  // namespace
}  // namespace griffin::eval
