// ctxext inspect: reports the folder and checks every tensor; bad folders exit 2 with one line.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "cli_fixtures.h"
#include "io/checkpoint_tensors.h"
#include "model/hf_checkpoint.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("cli inspect: configuration, parameter count, dtype and RoPE method", "[cli][inspect]") {
  TempDir dir;
  write_cli_model(dir / "base");
  REQUIRE(run_ctxext({"export", "--model", (dir / "base").string(), "--out", (dir / "yarn").string(), "--dtype",
                      "bfloat16", "--rope-type", "yarn", "--factor", "4"})
              .exit_code == 0);
  const auto r = run_ctxext({"inspect", "--model", (dir / "yarn").string(), "--threads", "1"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("2 layers") && Contains("GQA") && Contains("vocab 4000"));
  CHECK_THAT(r.output, Contains(std::to_string(cli_model_config().num_parameters())));
  CHECK_THAT(r.output, Contains("bfloat16"));
  CHECK_THAT(r.output, Contains("yarn") && Contains("factor 4") && Contains("64 -> 256"));
  CHECK_THAT(r.output, Contains("max_position_embeddings 256"));
  CHECK_THAT(r.output, Contains("checked against config.json: ok"));
}

TEST_CASE("cli inspect rejects bad folders: exit 2, one line naming the file or tensor", "[cli][inspect]") {
  TempDir dir;
  write_cli_model(dir / "base");
  auto tensors = model::read_hf_checkpoint(dir / "base").tensors;

  // A wrong-shaped tensor.
  fs::create_directory(dir / "shape");
  fs::copy_file(dir / "base" / "config.json", dir / "shape" / "config.json");
  auto broken = tensors;
  broken["model.layers.1.self_attn.v_proj.weight"] = torch::zeros({64, 64});
  io::write_checkpoint_tensors(dir / "shape", broken);

  // A config.json with a bad key.
  fs::create_directory(dir / "config");
  fs::copy_file(dir / "base" / "model.safetensors", dir / "config" / "model.safetensors");
  auto text = read_text(dir / "base" / "config.json");
  const auto at = text.find("\"num_key_value_heads\": 2");
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string("\"num_key_value_heads\": 2").size(), "\"num_key_value_heads\": 3");
  write_text(dir / "config" / "config.json", text);

  // A config.json field nested 100,000 deep (it used to overflow the stack: exit 139).
  fs::create_directory(dir / "deep");
  fs::copy_file(dir / "base" / "model.safetensors", dir / "deep" / "model.safetensors");
  auto deep = read_text(dir / "base" / "config.json");
  deep.insert(deep.find('{') + 1, "\"x\": " + std::string(100000, '[') + std::string(100000, ']') + ", ");
  write_text(dir / "deep" / "config.json", deep);

  const std::vector<std::pair<fs::path, std::vector<std::string>>> bad = {
      {dir / "shape", {"model.layers.1.self_attn.v_proj.weight", "expected shape [32, 64]", "found [64, 64]"}},
      {dir / "config", {"config.json", "num_key_value_heads"}},
      {dir / "deep", {"config.json", "nested deeper than 128 levels"}},
      {dir / "absent", {"absent"}},
  };
  for (const auto& [folder, mentions] : bad) {
    check_rejected({"inspect", "--model", folder.string()}, mentions);
  }
}

TEST_CASE("cli: --help answers for inspect, eval ppl and export", "[cli]") {
  const auto inspect = run_ctxext({"inspect", "--help"});
  CHECK(inspect.exit_code == 0);
  CHECK_THAT(inspect.output, Contains("--model") && Contains("RoPE"));
  const auto ppl = run_ctxext({"eval", "ppl", "--help"});
  CHECK(ppl.exit_code == 0);
  CHECK_THAT(ppl.output, Contains("--tokens") && Contains("--text") && Contains("--seq-len") && Contains("--json") &&
                            Contains("--rope-type"));
  const auto exp = run_ctxext({"export", "--help"});
  CHECK(exp.exit_code == 0);
  CHECK_THAT(exp.output, Contains("--out") && Contains("--factor") && Contains("KEY=VALUE"));
}
