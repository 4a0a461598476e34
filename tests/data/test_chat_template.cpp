// LLaMA-2 chat template: ids equal Hugging Face's (tests/oracle/data_chat_template.py), labels
// cover exactly the assistant tokens and their EOS.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/chat_template.h"
#include "data/sharegpt_reader.h"
#include "support/test_support.h"

using namespace ctxext::data;

namespace {

// One JSON line per case; the oracle reads the same file as the C++ reader.
const char* kCases[] = {
    R"({"id": "plain", "conversations": [{"from": "human", "value": "Hello"}, {"from": "gpt", "value": "Hi there."}]})",
    R"({"id": "system", "conversations": [{"from": "system", "value": "You answer with the exact words of the King James Version."}, {"from": "human", "value": "Recite Genesis 1:1."}, {"from": "gpt", "value": "In the beginning God created the heaven and the earth."}]})",
    R"({"id": "multi", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "  Hello there  "}, {"from": "gpt", "value": "\nAnd God said,\n Let there be light.  "}, {"from": "human", "value": "More?"}, {"from": "gpt", "value": "Yes."}, {"from": "human", "value": "And?"}, {"from": "gpt", "value": "Amen."}]})",
    R"({"id": "unicode", "messages": [{"role": "user", "content": "h\u00e9llo \u4e16\u754c \ud83d\ude42 caf\u00e9 1234"}, {"role": "assistant", "content": "\u00bfQu\u00e9? \u2014 \u00e7a va \u2603"}]})",
    R"({"id": "unicode-space", "conversations": [{"from": "human", "value": "\u3000 wide\u00a0spaces \u2003"}, {"from": "gpt", "value": "\u00a0ok\u2028"}]})",
    R"({"id": "empty-system", "conversations": [{"from": "system", "value": ""}, {"from": "human", "value": "x"}, {"from": "gpt", "value": "y"}]})",
    R"({"id": "spaces-only-user", "conversations": [{"from": "system", "value": "S "}, {"from": "human", "value": "   "}, {"from": "gpt", "value": "z"}]})",
    R"({"id": "open-end", "conversations": [{"from": "human", "value": "One"}, {"from": "gpt", "value": "Two"}, {"from": "human", "value": "Three"}]})",
    R"({"id": "brackets", "conversations": [{"from": "human", "value": "[INST] is text here, and so is <<SYS>>"}, {"from": "gpt", "value": "[/INST] 42"}]})",
};

std::vector<std::vector<int64_t>> oracle_ids(const std::string& cases_path) {
  const std::string out = ctxext::testing::run_oracle("data_chat_template.py", {"data/tokenizer.model", cases_path});
  // The last line is the JSON; transformers may print warnings before it.
  const auto start = out.rfind("\n[[");
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1)).get<std::vector<std::vector<int64_t>>>();
}

}  // namespace

TEST_CASE("chat template ids equal Hugging Face's Llama-2 chat_template + LlamaTokenizer", "[data][chat][oracle]") {
  ctxext::testing::TempDir dir;
  const auto path = (dir / "cases.jsonl").string();
  std::string text;
  for (const char* c : kCases) text += std::string(c) + "\n";
  ctxext::testing::write_text(path, text);

  const auto tok = Tokenizer::load("data/tokenizer.model");
  const auto convs = read_sharegpt(path, false);
  const auto expected = oracle_ids(path);
  REQUIRE(convs.size() == std::size(kCases));
  REQUIRE(expected.size() == convs.size());
  for (size_t i = 0; i < convs.size(); ++i) {
    INFO("case " << convs[i].id);
    const Sample s = encode_llama2_chat(tok, convs[i]);
    CHECK(s.input_ids == expected[i]);
  }
}

TEST_CASE("a default system prompt renders like a system turn", "[data][chat]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  const Conversation with{"a", "f:1", {{Role::system, "Be kind."}, {Role::user, "Hi"}, {Role::assistant, "Hello"}}};
  const Conversation without{"b", "f:2", {{Role::user, "Hi"}, {Role::assistant, "Hello"}}};
  CHECK(encode_llama2_chat(tok, without, std::string("Be kind.")).input_ids == encode_llama2_chat(tok, with).input_ids);
  // A system turn wins over the default.
  CHECK(encode_llama2_chat(tok, with, std::string("Other.")).input_ids == encode_llama2_chat(tok, with).input_ids);
}

TEST_CASE("labels: assistant tokens and their EOS only", "[data][chat]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  const Conversation conv{"c", "f:1", {{Role::system, "Sys"}, {Role::user, "Who?"}, {Role::assistant, "Moses."},
                                       {Role::user, "Where?"}, {Role::assistant, "Egypt."}, {Role::user, "Then?"}}};
  const Sample s = encode_llama2_chat(tok, conv);
  REQUIRE(s.labels.size() == s.input_ids.size());
  std::vector<int64_t> supervised;
  for (size_t t = 0; t < s.size(); ++t) {
    if (s.labels[t] == kIgnoreIndex) continue;
    CHECK(s.labels[t] == s.input_ids[t]);
    supervised.push_back(s.input_ids[t]);
  }
  // Each answer is " " + text + " " (one sentencepiece segment with the prompt) then EOS.
  std::vector<int64_t> expected;
  for (const char* answer : {"Moses.", "Egypt."}) {
    const auto with_prompt = tok.encode(std::string("[INST] Q [/INST] ") + answer + " ");
    const auto prompt = tok.encode("[INST] Q [/INST]");
    expected.insert(expected.end(), with_prompt.begin() + prompt.size(), with_prompt.end());
    expected.push_back(tok.eos_id());
  }
  CHECK(supervised == expected);
  // Every BOS is unlabelled, the open last user turn has no EOS and no labels.
  CHECK(s.input_ids.front() == tok.bos_id());
  CHECK(s.labels.front() == kIgnoreIndex);
  CHECK(s.input_ids.back() != tok.eos_id());
  CHECK(s.labels.back() == kIgnoreIndex);
  CHECK(std::count(s.input_ids.begin(), s.input_ids.end(), tok.bos_id()) == 3);
}

TEST_CASE("python_strip removes exactly Python's str.isspace() characters", "[data][chat]") {
  CHECK(python_strip("  a b \t\n") == "a b");
  CHECK(python_strip("\xE3\x80\x80x\xC2\xA0") == "x");           // U+3000, U+00A0
  CHECK(python_strip("\xE2\x80\x8Bx\xE2\x80\x8B") == "\xE2\x80\x8Bx\xE2\x80\x8B");  // U+200B is not a space
  CHECK(python_strip("\x1C\x1Fy\xC2\x85") == "y");  // U+001C, U+001F, U+0085
}
