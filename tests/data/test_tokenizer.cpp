// Tokenizer: the committed data/tokenizer.model (scripts/make_tokenizer.sh) through sentencepiece.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sys/stat.h>

#include "core/error.h"
#include "data/tokenizer.h"
#include "support/test_support.h"

using ctxext::data::Tokenizer;
using Catch::Matchers::Contains;

TEST_CASE("the default tokenizer has LLaMA's special ids", "[data][tokenizer]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  CHECK(tok.unk_id() == 0);
  CHECK(tok.bos_id() == 1);
  CHECK(tok.eos_id() == 2);
  CHECK(tok.pad_id() == -1);
  CHECK(tok.vocab_size() == 4000);
  CHECK(tok.piece(1) == "<s>");
  CHECK(tok.piece(2) == "</s>");
}

TEST_CASE("encode adds no BOS/EOS and decode inverts it, unicode through byte fallback", "[data][tokenizer]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  for (const std::string text : {"In the beginning God created the heaven and the earth.",
                                 "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x99\x82 [INST] 1234"}) {
    const auto ids = tok.encode(text);
    REQUIRE(!ids.empty());
    CHECK(ids.front() != tok.bos_id());
    CHECK(ids.back() != tok.eos_id());
    CHECK(tok.decode(ids) == text);
  }
  // Byte fallback: "世" is not in the KJV corpus, so it becomes its three UTF-8 bytes.
  const auto ids = tok.encode("\xE4\xB8\x96");
  REQUIRE(ids.size() == 4);  // "▁" (dummy prefix), <0xE4>, <0xB8>, <0x96>
  CHECK(tok.piece(ids[1]) == "<0xE4>");
  // Digits are split one by one, as in LLaMA.
  CHECK(tok.encode("2024").size() >= 4);
}

TEST_CASE("encode_pieces reports the byte span of every token", "[data][tokenizer]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  const std::string text = "And God said, Let there be light";
  const auto pieces = tok.encode_pieces(text);
  REQUIRE(pieces.size() == tok.encode(text).size());
  CHECK(pieces.front().begin == 0);
  CHECK(pieces.back().end == text.size());
  for (size_t i = 1; i < pieces.size(); ++i) CHECK(pieces[i].begin == pieces[i - 1].end);
}

TEST_CASE("a missing or invalid tokenizer file is a clear error", "[data][tokenizer]") {
  ctxext::testing::TempDir dir;
  const auto missing = (dir / "nope.model").string();
  CHECK_THROWS_WITH(Tokenizer::load(missing), Contains(missing) && Contains("not found"));
  const auto junk = (dir / "junk.model").string();
  ctxext::testing::write_text(junk, "this is not a protobuf");
  CHECK_THROWS_WITH(Tokenizer::load(junk), Contains(junk) && Contains("not a valid sentencepiece"));
  const auto tok = Tokenizer::load("data/tokenizer.model");
  CHECK_THROWS_WITH(tok.decode({5, 4000}), Contains("4000") && Contains("outside the vocabulary"));
}

TEST_CASE("a folder with only tokenizer.json, a tokenizer.json path, a FIFO: one line saying why", "[data][tokenizer]") {
  ctxext::testing::TempDir dir;
  // What a LLaMA-3 / Mistral / Qwen folder ships: a HF fast tokenizer and no tokenizer.model.
  ctxext::testing::write_text(dir / "tokenizer.json", R"({"version": "1.0", "model": {"type": "BPE", "vocab": {}}})");
  const auto model = (dir / "tokenizer.model").string();
  try {
    Tokenizer::load(model);
    FAIL("no error");
  } catch (const ctxext::Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_THAT(what, Contains(model + ": does not exist; the folder has " + (dir / "tokenizer.json").string()) &&
                         Contains("reads only sentencepiece tokenizer.model") && Contains("Rust tokenizers library"));
  }
  CHECK_THROWS_WITH(Tokenizer::load((dir / "tokenizer.json").string()),
                    Contains("tokenizer.json: this is a HF tokenizer.json, not a sentencepiece model"));
  // A FIFO would block sentencepiece's read forever; a folder is no model either.
  std::filesystem::create_directory(dir / "sub");
  REQUIRE(::mkfifo((dir / "sub" / "fifo.model").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(Tokenizer::load((dir / "sub" / "fifo.model").string()),
                    Contains("fifo.model: tokenizer model is not a regular file (a FIFO)"));
  CHECK_THROWS_WITH(Tokenizer::load(dir.path().string()), Contains("is not a regular file (a folder)"));
}

// docs/platform.md: Debian's libtorch and libsentencepiece clashed over protobuf in one process.
// This executable links both; a clash would crash before or during this test.
TEST_CASE("a tokenizer and a torch op live in one process", "[data][tokenizer]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  const auto ids = tok.encode("Let there be light");
  const auto t = torch::tensor(ids, torch::kInt64);
  CHECK(t.sum().item<int64_t>() == std::accumulate(ids.begin(), ids.end(), int64_t{0}));
  const auto m = torch::matmul(torch::ones({4, 8}), torch::ones({8, 2}));
  CHECK(m[3][1].item<float>() == 8.0f);
  CHECK(tok.decode(ids) == "Let there be light");
}
