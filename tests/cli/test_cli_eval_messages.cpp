// Messages of ctxext eval and export that must say what to fix (issue 10 §3): a tokenizer with more
// pieces than the model's vocabulary names both sizes before any weight loads (it was a raw "index
// out of range in self" from the embedding), and a --factor that is not a number or out of range
// names the flag (it was the internal "override 'factor=abc'"); a negative --seed is refused.
#include <catch2/catch.hpp>

#include "cli_fixtures.h"
#include "model/hf_config.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;

TEST_CASE("cli eval: a tokenizer larger than the model's vocabulary names both sizes, before the weights load",
          "[cli][eval]") {
  // config.json only: reaching the weights would fail on the missing model.safetensors instead.
  TempDir dir;
  auto config = cli_model_config();
  config.vocab_size = 100;
  fs::create_directories(dir / "m");
  model::write_hf_config(dir / "m" / "config.json", config, torch::kFloat32);
  const std::string model = (dir / "m").string(), tok = "data/tokenizer.model", docs = "data/pretrain/valid.jsonl";
  const std::vector<std::string> expected = {"data/tokenizer.model", "4000 pieces", "vocab_size 100"};
  check_rejected({"eval", "passkey", "--model", model, "--tokenizer", tok, "--lengths", "100"}, expected);
  check_rejected({"eval", "ppl-sweep", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths", "64"},
                 expected);
  check_rejected({"eval", "entropy", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths", "64"},
                 expected);
  write_text(dir / "doc.txt", "Some text to score, long enough for a window of eight tokens.");
  check_rejected({"eval", "ppl", "--model", model, "--tokenizer", tok, "--text", (dir / "doc.txt").string(),
                  "--seq-len", "8"},
                 expected);
  // The model folder's own tokenizer.model is named as that.
  fs::copy_file(tok, dir / "m" / "tokenizer.model");
  check_rejected({"eval", "passkey", "--model", model, "--lengths", "100"},
                 {(dir / "m" / "tokenizer.model").string(), "4000 pieces", "vocab_size 100"});
}

TEST_CASE("cli eval and export: a bad --factor names the flag, not an internal key", "[cli][eval]") {
  TempDir dir;
  write_cli_model(dir / "m");
  const std::string model = (dir / "m").string();
  const std::vector<std::string> passkey = {"eval", "passkey", "--model", model, "--tokenizer", "data/tokenizer.model",
                                            "--lengths", "100", "--rope-type", "yarn", "--factor"};
  for (const std::string bad : {"abc", "4x", "nan", "1e999"}) {
    auto args = passkey;
    args.push_back(bad);
    check_rejected(args, {"--factor: '" + bad + "' is not a number"});
  }
  auto args = passkey;
  args.push_back("0.5");
  check_rejected(args, {"--factor 0.5: must be"});
  check_rejected({"export", "--model", model, "--out", (dir / "out").string(), "--rope-type", "yarn", "--factor", "abc"},
                 {"--factor: 'abc' is not a number"});
  CHECK_FALSE(fs::exists(dir / "out"));
  // An unsigned flag given a negative number is refused, not wrapped to 2^64 - 1.
  check_rejected({"eval", "passkey", "--model", model, "--tokenizer", "data/tokenizer.model", "--lengths", "100",
                  "--seed", "-1"},
                 {"--seed"});
}
