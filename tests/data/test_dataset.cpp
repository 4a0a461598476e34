// data: options from YAML, and the whole pipeline on the committed files.
#include <catch2/catch.hpp>

#include <filesystem>

#include "data/dataset.h"
#include "support/test_support.h"

using namespace ctxext::data;
using Catch::Matchers::Contains;

namespace {
DataOptions options_from(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  const auto config = ctxext::Config::parse(yaml, "test.yaml", overrides);
  return parse_data_options(config.root().child("data"));
}
}  // namespace

TEST_CASE("data options: defaults, values, absolute paths", "[data][options]") {
  const auto o = options_from("data:\n  path: data/samples/tiny_chat.jsonl\n");
  CHECK(o.format == DataFormat::sharegpt);
  CHECK(o.path == (std::filesystem::current_path() / "data/samples/tiny_chat.jsonl").string());
  CHECK(o.tokenizer.empty());
  CHECK(o.max_seq_len == 4096);
  CHECK(o.num_samples == 0);
  CHECK(o.select == Selection::first);
  CHECK(o.overflow == Overflow::truncate);
  CHECK(!o.skip_bad);
  CHECK(!o.system_prompt);
  const auto p = options_from(
      "data:\n  format: text\n  path: /x/y.jsonl\n  tokenizer: t.model\n  max_seq_len: 128\n  min_tokens: 8\n"
      "  num_samples: 100\n  select: random\n  seed: 3\n  overflow: split\n  shuffle: false\n  skip_bad: true\n");
  CHECK(p.format == DataFormat::text);
  CHECK(p.path == "/x/y.jsonl");
  CHECK(p.tokenizer == (std::filesystem::current_path() / "t.model").string());
  CHECK(p.max_seq_len == 128);
  CHECK(p.min_tokens == 8);
  CHECK(p.num_samples == 100);
  CHECK(p.select == Selection::random);
  CHECK(p.seed == 3);
  CHECK(p.overflow == Overflow::split);
  CHECK(!p.shuffle);
  CHECK(p.skip_bad);
  CHECK(*options_from("data:\n  path: a.json\n  system_prompt: Be kind.\n").system_prompt == "Be kind.");
}

TEST_CASE("data options: bad values and unknown keys name the key and place", "[data][options]") {
  CHECK_THROWS_WITH(options_from("data:\n  format: csv\n  path: a.json\n"), Contains("test.yaml:2") && Contains("data.format"));
  CHECK_THROWS_WITH(options_from("data:\n  max_seq_len: 0\n  path: a.json\n"), Contains("data.max_seq_len"));
  CHECK_THROWS_WITH(options_from("data:\n  path: a.json\n  min_tokens: 9000\n"), Contains("data.min_tokens"));
  CHECK_THROWS_WITH(options_from("data:\n  path: a.json\n  overflow: wrap\n"), Contains("data.overflow"));
  CHECK_THROWS_WITH(options_from("data:\n  path: a.json\n  skip_bad: maybe\n"), Contains("data.skip_bad"));
  CHECK_THROWS_WITH(options_from("data:\n  path: a.json\n  max_seq: 3\n"), Contains("unknown key 'data.max_seq'"));
  CHECK_THROWS_WITH(options_from("data:\n  format: sharegpt\n"), Contains("missing required key 'data.path'"));
  CHECK_THROWS_WITH(options_from("data:\n  format: text\n  path: a.jsonl\n  system_prompt: x\n"),
                    Contains("data.system_prompt"));
  CHECK_THROWS_WITH(options_from("data:\n  path: a.json\n", {"data.select=best"}), Contains("override 'data.select=best'"));
}

TEST_CASE("load_dataset on the tiny chat sample", "[data][dataset]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  auto o = options_from("data:\n  path: data/samples/tiny_chat.jsonl\n  max_seq_len: 64\n  min_tokens: 16\n"
                        "  num_samples: 5\n  select: random\n  seed: 1\n");
  const Dataset a = load_dataset(o, tok);
  CHECK(a.samples.size() == 5);
  CHECK(a.read.records == 12);
  CHECK(a.length.truncated > 0);
  for (const auto& s : a.samples) {
    CHECK(s.size() <= 64);
    CHECK(s.size() >= 16);
    CHECK(s.num_supervised() > 0);
  }
  const Dataset b = load_dataset(o, tok);
  for (size_t i = 0; i < a.samples.size(); ++i) CHECK(a.samples[i].input_ids == b.samples[i].input_ids);
  o.overflow = Overflow::split;
  o.num_samples = 0;
  const Dataset split = load_dataset(o, tok);
  CHECK(split.samples.size() > 12);
  CHECK(split.length.split > 0);
}

TEST_CASE("load_dataset on held-out text, and a file with nothing usable", "[data][dataset]") {
  const auto tok = Tokenizer::load("data/tokenizer.model");
  const auto o = options_from("data:\n  format: text\n  path: data/corpus/kjv_heldout.jsonl\n  max_seq_len: 256\n"
                              "  overflow: split\n  min_tokens: 256\n");
  const Dataset ds = load_dataset(o, tok);
  CHECK(ds.samples.size() > 100);
  for (const auto& s : ds.samples) {
    CHECK(s.size() == 256);
    CHECK(s.labels == s.input_ids);
  }
  CHECK(ds.samples.front().input_ids.front() == tok.bos_id());
  CHECK(ds.samples.front().source == o.path + ":1#0");

  ctxext::testing::TempDir dir;
  const auto bad = (dir / "bad.jsonl").string();
  ctxext::testing::write_text(bad, "{\"text\": 1}\n");
  auto b = options_from("data:\n  format: text\n  skip_bad: true\n  path: " + bad + "\n");
  CHECK_THROWS_WITH(load_dataset(b, tok), Contains(bad) && Contains("no usable samples"));
}
