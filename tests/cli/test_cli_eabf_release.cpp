// The EABF authors' released checkpoints (issue 11 §2): config.json with
// "rope_scaling": {"type": "eabf", "factor": 4.0} and no rope_theta. ctxext reads them as their patch
// computes (base 500,000, queries x max(1, ln(pos+1)/ln 4096), keys unscaled, every layer scaled),
// says so at load, lets skip_layers be overridden, shows it in inspect and exports its complete
// description. Scored against an independent float64 re-derivation (tests/oracle/eabf_release_reference.py)
// past position 4,096, where the query scale acts.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_fixtures.h"
#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kSeqLen = 6144;  // 2,048 positions past 4,096: the scale reaches ln 6144 / ln 4096 = 1.049

// The cli model with its config.json rewritten into the authors' exact form.
void write_release_folder(const fs::path& folder) {
  write_cli_model(folder);
  auto config = nlohmann::json::parse(read_text(folder / "config.json"));
  for (const char* key : {"rope_parameters", "rope_scaling", "rope_theta", "ctxext_rope", "dtype"}) config.erase(key);
  config["max_position_embeddings"] = 4096;
  config["rope_scaling"] = {{"type", "eabf"}, {"factor", 4.0}};
  config["transformers_version"] = "4.31.0";
  write_text(folder / "config.json", config.dump(2));
}

double ctxext_nll(const fs::path& folder, const fs::path& tokens, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"eval", "ppl", "--model", folder.string(), "--tokens", tokens.string(),
                                   "--seq-len", std::to_string(kSeqLen), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_ctxext(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto last = r.output.substr(r.output.rfind('{'));
  return nlohmann::json::parse(last).at("nll").get<double>();
}

double reference_nll(const fs::path& folder, const fs::path& tokens, int skip_layers) {
  const auto out = run_oracle("eabf_release_reference.py",
                              {folder.string(), tokens.string(), std::to_string(kSeqLen), std::to_string(skip_layers)});
  return nlohmann::json::parse(out.substr(out.rfind('{'))).at("nll").get<double>();
}

}  // namespace

TEST_CASE("eabf release: read as the authors' patch computes, scored as a float64 re-derivation past 4096",
          "[cli][eabf_release]") {
  TempDir dir;
  const auto folder = dir / "eabf-llama2-7b-chat-0.1k";
  write_release_folder(folder);
  write_text(dir / "tokens.json", tokens_json(cli_tokens(kSeqLen, 5)));

  const double ours = ctxext_nll(folder, dir / "tokens.json");
  const double theirs = reference_nll(folder, dir / "tokens.json", 0);
  CAPTURE(ours, theirs);
  CHECK(std::abs(ours - theirs) <= 5e-6);

  // The override: skip_layers 2 (the paper's intent) is another model, and the re-derivation agrees.
  const double skip2 = ctxext_nll(folder, dir / "tokens.json", {"--rope", "skip_layers=2"});
  const double skip2_ref = reference_nll(folder, dir / "tokens.json", 2);
  CAPTURE(skip2, skip2_ref);
  CHECK(std::abs(skip2 - skip2_ref) <= 5e-6);
  // The query scale in layers 0-1 matters at this length (measured 2.6e-5, 4x the tolerance above).
  CHECK(std::abs(theirs - skip2_ref) > 2e-5);
}

TEST_CASE("eabf release: inspect shows it and logs the implied skip_layers; export writes the complete description",
          "[cli][eabf_release]") {
  TempDir dir;
  const auto folder = dir / "release";
  write_release_folder(folder);
  const auto r = run_ctxext({"inspect", "--model", folder.string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("rope_scaling.type \"eabf\" read as ctxext eabf with base 500000") &&
                           Contains("skip_layers 0 (their layer skip never takes effect"));
  CHECK_THAT(r.output, Contains("rope          eabf (HF rope_type \"default\"") && Contains("abf_theta 500000") &&
                           Contains("eabf_context 4096") && Contains("skip_layers 0") && Contains("4096 -> 16384"));

  const auto e = run_ctxext({"export", "--model", folder.string(), "--out", (dir / "out").string()});
  INFO(e.output);
  REQUIRE(e.exit_code == 0);
  const auto config = nlohmann::json::parse(read_text(dir / "out" / "config.json"));
  const nlohmann::json expected = {{"type", "eabf"},         {"theta", 10000.0},        {"factor", 4.0},
                                   {"original_max_position_embeddings", 4096},         {"interleaved", false},
                                   {"abf_theta", 500000.0},  {"eabf_context", 4096.0},  {"skip_layers", 0}};
  CHECK(config.at("ctxext_rope") == expected);
  CHECK(config.at("rope_parameters").at("rope_type") == "default");
  CHECK(config.at("rope_theta") == 500000.0);
  CHECK(config.at("max_position_embeddings") == 16384);
}
