// ctxext export: every method HF knows round-trips through stock transformers with equal logits;
// eabf loads (as ABF, carrying ctxext_rope); bad inputs exit 2 with one line and no output folder.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <iostream>

#include "cli_fixtures.h"
#include "io/safetensors.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

struct ExportCase {
  std::string name;
  std::vector<std::string> flags;
  std::string hf_type;
};

const std::vector<ExportCase>& export_cases() {
  static const std::vector<ExportCase> cases = {
      {"none", {}, "default"},
      {"pi", {"--rope-type", "pi", "--factor", "2"}, "linear"},
      {"dynamic_ntk", {"--rope-type", "dynamic_ntk", "--factor", "2"}, "dynamic"},
      {"yarn", {"--rope-type", "yarn", "--factor", "4", "--rope", "beta_fast=16", "--rope", "mscale=1.1"}, "yarn"},
      {"llama3", {"--rope-type", "llama3", "--factor", "4", "--rope", "high_freq_factor=8"}, "llama3"},
      {"abf", {"--rope-type", "abf", "--factor", "4", "--rope", "abf_theta=1000000"}, "default"},
      {"ntk", {"--rope-type", "ntk", "--factor", "4"}, "default"},
      {"eabf", {"--rope-type", "eabf", "--factor", "4", "--rope", "eabf_context=16", "--rope", "skip_layers=0"},
       "default"},
      {"ntk_by_parts", {"--rope-type", "ntk_by_parts", "--factor", "4", "--rope", "beta_fast=16"}, "yarn"},
      {"longrope",
       {"--rope-type", "longrope", "--factor", "4", "--rope",
        "short_factor=[1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7]", "--rope",
        "long_factor=[2, 3, 4, 5, 6, 7, 8, 9]"},
       "longrope"},
  };
  return cases;
}

torch::Tensor ctxext_logits(const fs::path& folder, const std::vector<int64_t>& ids,
                            const std::optional<rope::RopeOptions>& rope = std::nullopt) {
  auto model = model::load_hf_model(folder, torch::kFloat32, rope);
  torch::NoGradGuard no_grad;
  return model->forward(torch::tensor(ids, torch::kInt64).unsqueeze(0));
}

}  // namespace

TEST_CASE("cli export: every method round-trips through stock transformers with equal logits", "[cli][export]") {
  TempDir dir;
  write_cli_model(dir / "base");
  const auto ids = cli_tokens(100);  // beyond max_position_embeddings = 64
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& c : export_cases()) {
    std::vector<std::string> args = {"export", "--model", (dir / "base").string(), "--out", (dir / c.name).string()};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const auto r = run_ctxext(args);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    jobs.push_back({{"mode", "run"}, {"folder", (dir / c.name).string()}, {"tokens", {ids}},
                    {"out", (dir / (c.name + ".safetensors")).string()}});
  }
  write_text(dir / "jobs.json", jobs.dump());
  run_oracle("hf_llama_oracle.py", {(dir / "jobs.json").string()});

  for (const auto& c : export_cases()) {
    INFO("method " << c.name);
    const auto config = nlohmann::json::parse(read_text(dir / c.name / "config.json"));
    CHECK(config.at("ctxext_rope").at("type") == c.name);
    const auto oracle = io::read_safetensors(dir / (c.name + ".safetensors"));
    // What stock transformers read back: the complete description survived.
    const auto hf_rope = nlohmann::json::parse(oracle.metadata.at("rope_parameters"));
    CHECK(hf_rope.at("rope_type") == c.hf_type);
    CHECK(hf_rope.at("rope_theta") == config.at("rope_parameters").at("rope_theta"));
    CHECK(hf_rope.at("factor") == config.at("ctxext_rope").at("factor"));
    CHECK(hf_rope.at("original_max_position_embeddings") == 64);

    // eabf: stock loaders compute ABF without the query scale (docs/hf_interop.md).
    std::optional<rope::RopeOptions> rope;
    if (c.name == "eabf") {
      rope = model::read_hf_config(dir / c.name / "config.json").rope;
      rope->type = "abf";
    }
    const double err = max_abs_diff(ctxext_logits(dir / c.name, ids, rope), oracle.tensors.at("logits"));
    std::cout << "export round trip " << c.name << ": max |logits diff| " << err << std::endl;
    CHECK(err <= 1e-4);
  }
  // And with the query scale, ctxext's eabf is really another model than what stock loaders run.
  const auto eabf = ctxext_logits(dir / "eabf", ids);
  CHECK(max_abs_diff(eabf, io::read_safetensors(dir / "eabf.safetensors").tensors.at("logits")) > 1e-3);
}

TEST_CASE("cli export: the written tensors equal the source's, tokenizer files copied, dtype conversion",
          "[cli][export]") {
  TempDir dir;
  write_cli_model(dir / "base");
  write_text(dir / "base" / "tokenizer.model", "spm bytes");
  auto r = run_ctxext({"export", "--model", (dir / "base").string(), "--out", (dir / "bf16").string(), "--dtype",
                       "bfloat16", "--max-shard-mb", "1", "--rope-type", "yarn", "--factor", "8"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(read_text(dir / "bf16" / "tokenizer.model") == "spm bytes");
  const auto source = model::read_hf_checkpoint(dir / "base");
  const auto out = model::read_hf_checkpoint(dir / "bf16");
  CHECK(out.config.rope.type == "yarn");
  CHECK(out.config.max_position_embeddings == 512);
  for (const auto& [name, t] : source.tensors) {
    INFO(name);
    CHECK(out.tensors.at(name).scalar_type() == torch::kBFloat16);
    CHECK(torch::equal(out.tensors.at(name), t.to(torch::kBFloat16)));
  }
}

TEST_CASE("cli export rejects bad inputs: exit 2, one line naming the input, no output folder", "[cli][export]") {
  TempDir dir;
  write_cli_model(dir / "base");
  const std::string base = (dir / "base").string();
  const std::string out = (dir / "out").string();
  struct Bad {
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Bad> bad = {
      {{"--model", base, "--out", out, "--rope-type", "rope2"}, {"rope2"}},
      {{"--model", base, "--out", out, "--factor", "4"}, {"--factor 4", "--rope-type"}},
      {{"--model", base, "--out", out, "--rope-type", "longrope", "--rope", "short_factor=[1, 2]"},
       {"short_factor", "head_dim/2 = 8"}},
      {{"--model", base, "--out", out, "--rope-type", "yarn", "--factor", "abc"}, {"factor"}},
      {{"--model", base, "--out", out, "--rope-type", "yarn", "--factor", "0.5"}, {"factor"}},
      {{"--model", base, "--out", out, "--rope", "beta_fastt=3"}, {"beta_fastt"}},
      {{"--model", base, "--out", out, "--rope", "interleaved=true"}, {"interleaved"}},
      {{"--model", (dir / "absent").string(), "--out", out}, {"absent"}},
      {{"--model", base, "--out", base}, {"--out"}},
      {{"--model", base}, {"--out"}},
  };
  for (const auto& b : bad) {
    std::vector<std::string> args = {"export"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    check_rejected(args, b.mentions);
    CHECK_FALSE(fs::exists(out));
  }
  // Nothing but the source folder: no temporary siblings left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);

  // An existing output folder is kept unless --overwrite.
  fs::create_directory(out);
  write_text(fs::path(out) / "keep.txt", "mine");
  const auto r = run_ctxext({"export", "--model", base, "--out", out});
  CHECK(r.exit_code == 2);
  CHECK(read_text(fs::path(out) / "keep.txt") == "mine");
  CHECK(run_ctxext({"export", "--model", base, "--out", out, "--overwrite"}).exit_code == 0);
  CHECK_FALSE(fs::exists(fs::path(out) / "keep.txt"));
}
