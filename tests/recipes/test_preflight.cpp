// preflight_check (recipes/preflight.h): `ctxext validate` and `ctxext train` refuse, in one line naming
// the key or file and exiting 2, everything that does not need the weights, and `train` does so before
// loading them: the model folder here holds a garbage model.safetensors, so reaching the weights would
// fail with a safetensors error instead.
#include <catch2/catch.hpp>
#include <torch/cuda.h>

#include <algorithm>

#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// A model folder with the tiny model's config.json and tokenizer.model, and weights that cannot load.
fs::path garbage_model(const TempDir& dir) {
  const fs::path model = dir / "model";
  fs::create_directories(model);
  fs::copy_file("data/tiny-base/config.json", model / "config.json");
  fs::copy_file("data/tiny-base/tokenizer.model", model / "tokenizer.model");
  write_text(model / "model.safetensors", "not a safetensors file");
  return model;
}

std::string job_yaml(const TempDir& dir, const fs::path& model) {
  return "model:\n  path: " + model.string() +
         "\nrope:\n  type: yarn\n  factor: 4\ndata:\n  path: data/samples/tiny_chat.jsonl\n  max_seq_len: 1024\n"
         "train:\n  steps: 1\n  micro_batch_size: 1\n  global_batch_size: 1\noutput_dir: " +
         (dir / "run").string() + "\n";
}

// Both commands fail with exit 2 and exactly one line, the error, containing every `expected` part.
// logged_first: checks met once training has started may follow its log lines ("[12:00:00] info ...").
void check_refused(const TempDir& dir, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& expected, bool logged_first = false) {
  for (const std::string command : {"validate", "train"}) {
    std::vector<std::string> args = {command, (dir / "c.yaml").string()};
    args.insert(args.end(), overrides.begin(), overrides.end());
    const auto r = run_ctxext(args);
    INFO(command << ": " << r.output);
    CHECK(r.exit_code == 2);
    const size_t error = logged_first ? r.output.find("error: ") : 0;
    REQUIRE(error != std::string::npos);
    CHECK(r.output.compare(error, 7, "error: ") == 0);
    CHECK(r.output.find('\n', error) + 1 == r.output.size());  // one line, the last
    if (!logged_first) CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    for (const auto& part : expected) CHECK_THAT(r.output.substr(error), Contains(part));
    CHECK_THAT(r.output, !Contains("model.safetensors:"));  // not the weights' error
    CHECK(!fs::exists(dir / "run"));
  }
}

}  // namespace

TEST_CASE("preflight: the base job passes validate, and train reaches the garbage weights", "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  auto r = run_ctxext({"validate", (dir / "c.yaml").string()});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains(": ok"));
  r = run_ctxext({"train", (dir / "c.yaml").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("model.safetensors: header length"));
}

TEST_CASE("preflight: a missing or unreadable data.path", "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  check_refused(dir, {"data.path=" + (dir / "none.jsonl").string()}, {"data.path", "none.jsonl", "does not exist"});
  fs::create_directories(dir / "folder.jsonl");
  check_refused(dir, {"data.path=" + (dir / "folder.jsonl").string()}, {"data.path", "not a regular file (a folder"});
}

TEST_CASE("preflight: a model folder without tokenizer.model or config.json", "[preflight][cli]") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"tokenizer.model", {"has no tokenizer.model", "set data.tokenizer"}},
      {"config.json", {"model.path", "has no config.json"}}};
  for (const auto& [file, expected] : cases) {
    TempDir dir;
    const fs::path model = garbage_model(dir);
    fs::remove(model / file);
    write_text(dir / "c.yaml", job_yaml(dir, model));
    check_refused(dir, {}, expected);
  }
}

TEST_CASE("preflight: a tokenizer with more pieces than the model's vocabulary", "[preflight][cli]") {
  TempDir dir;
  const fs::path model = garbage_model(dir);
  std::string config = read_text(model / "config.json");
  const auto at = config.find("\"vocab_size\"");
  REQUIRE(at != std::string::npos);
  config.replace(at, config.find_first_of(",\n}", at) - at, "\"vocab_size\": 100");
  write_text(model / "config.json", config);
  write_text(dir / "c.yaml", job_yaml(dir, model));
  check_refused(dir, {}, {"pieces but the model's vocab_size is 100"});
}

TEST_CASE("preflight: data.max_seq_len beyond the extended context", "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));  // yarn x4 over the tiny model's 256
  check_refused(dir, {"data.max_seq_len=1025"},
                {"data.max_seq_len = 1025 is beyond the extended context 1024",
                 "rope.original_max_position_embeddings 256 x rope.factor 4", "lower data.max_seq_len to 1024"});
  check_refused(dir, {"rope.factor=2"}, {"data.max_seq_len = 1024 is beyond the extended context 512"});
  // Without a rope: section the model's own context counts.
  write_text(dir / "c.yaml", "model:\n  path: " + (dir / "model").string() +
                                 "\ndata:\n  path: data/samples/tiny_chat.jsonl\n  max_seq_len: 257\ntrain:\n  steps: 1\n"
                                 "output_dir: " + (dir / "run").string() + "\n");
  check_refused(dir, {}, {"data.max_seq_len = 257 is beyond the extended context 256"});
}

TEST_CASE("preflight: a bad data record fails train before the weights load and before anything is written",
          "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  std::string records = read_text("data/samples/tiny_chat.jsonl");
  records += "{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}, {\"from\": \"robot\"}]}\n";
  write_text(dir / "bad.jsonl", records);
  // The records are read after the thread count is logged: the error follows that line.
  check_refused(dir, {"data.path=" + (dir / "bad.jsonl").string()}, {"bad.jsonl:13"}, true);
  // Every record dropped by the length policy: the rule that dropped them, from train as from validate.
  check_refused(dir, {"data.min_tokens=1024"},
                {"no usable samples: of ", "dropped with fewer than data.min_tokens = 1024 tokens"}, true);
}

TEST_CASE("preflight: runtime.device cuda without a GPU", "[preflight][cli]") {
  if (torch::cuda::is_available()) {
    WARN("this machine has a GPU: runtime.device cuda is usable here");
    return;
  }
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  check_refused(dir, {"runtime.device=cuda"}, {"runtime.device = cuda but no CUDA device is available"});
}

TEST_CASE("preflight: model.path and model.preset messages say what to give", "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  check_refused(dir, {"model.path=meta-llama/Llama-2-7b-chat-hf"},
                {"model.path", "no such folder", "local HF folder", "snapshots/<rev>", "not a Hub id"});
  check_refused(dir, {"model.preset=tiny"}, {"exactly one of model.path", "random weights", "llama2-7b", "tiny)"});
}

TEST_CASE("preflight: no usable samples says which rule dropped them", "[preflight][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", job_yaml(dir, garbage_model(dir)));
  const auto r = run_ctxext({"validate", (dir / "c.yaml").string(), "data.min_tokens=1024"});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output,
             Contains("no usable samples: of ") && Contains("dropped with fewer than data.min_tokens = 1024 tokens"));
}
