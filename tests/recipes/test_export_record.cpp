// What the end of a training run writes: the optimizer checkpoint only under checkpoint.final, the
// HF export always, with ctxext_training.json recording how it was made; the warning for a RoPE
// method stock HF loaders do not compute exactly.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>

#include "core/config.h"
#include "ctxext/build_info.h"
#include "io/crc32c.h"
#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("train: checkpoint.final chooses the final optimizer checkpoint; the export is always written",
          "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const std::vector<std::string> base = {"train.steps=3", "checkpoint.every_steps=0", "data.num_samples=4"};
  SECTION("final: false") {
    auto overrides = base;
    overrides.push_back("checkpoint.final=false");
    run_recipe(dir / "c.yaml", overrides);
    CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "step-3"));
    CHECK(fs::is_regular_file(dir / "run" / "export" / "model.safetensors"));
    CHECK(fs::is_regular_file(dir / "run" / "export" / "ctxext_training.json"));
  }
  SECTION("final: true (the default)") {
    run_recipe(dir / "c.yaml", base);
    CHECK(fs::is_directory(dir / "run" / "checkpoints" / "step-3"));
    CHECK(fs::is_regular_file(dir / "run" / "export" / "model.safetensors"));
  }
  SECTION("final is a boolean") {
    auto overrides = base;
    overrides.push_back("checkpoint.final=sometimes");
    CHECK_THROWS_WITH(run_recipe(dir / "c.yaml", overrides), Contains("checkpoint.final"));
  }
}

TEST_CASE("train: the export records how it was made in ctxext_training.json", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  run_recipe(dir / "c.yaml", {"train.steps=4", "checkpoint.every_steps=0", "data.num_samples=4", "train.lr=2e-3"});
  const auto record = nlohmann::json::parse(read_text(dir / "run" / "export" / "ctxext_training.json"));
  INFO(record.dump(2));
  CHECK(record["ctxext_version"] == CTXEXT_VERSION);
  CHECK(std::regex_match(record["written_utc"].get<std::string>(),
                         std::regex(R"(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(record["steps"] == 4);
  CHECK(record["skipped_steps"] == 0);
  const auto rows = read_metrics(dir / "run" / "metrics.jsonl");
  REQUIRE(rows.size() == 4);
  CHECK(record["final_loss"].get<double>() == rows.back()["loss"].get<double>());
  const io::FileChecksum data = io::file_crc32c("data/samples/tiny_chat.jsonl");
  CHECK(record["data"]["bytes"] == data.bytes);
  CHECK(record["data"]["crc32c"] == fmt::format("{:08x}", data.crc32c));
  CHECK_THAT(record["data"]["path"].get<std::string>(), Contains("tiny_chat.jsonl"));
  // The resolved config, overrides applied: it parses and trains the same job.
  const Config config = Config::parse(record["config_yaml"].get<std::string>(), "ctxext_training.json");
  CHECK(config.to_yaml() == Config::load((dir / "c.yaml").string(), {"train.steps=4", "checkpoint.every_steps=0",
                                                                      "data.num_samples=4", "train.lr=2e-3"})
                                .to_yaml());
  CHECK_THAT(record["config_yaml"].get<std::string>(), Contains("lr: 2e-3"));

  // `ctxext export` trains nothing: its folder has no record, even from a folder that has one.
  const auto r = run_ctxext({"export", "--model", (dir / "run" / "export").string(), "--out",
                             (dir / "plain").string(), "--rope-type", "pi", "--factor", "2"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::is_regular_file(dir / "plain" / "config.json"));
  CHECK_FALSE(fs::exists(dir / "plain" / "ctxext_training.json"));
}

TEST_CASE("train: warns at the end, as export does, when stock HF loaders compute only the frequencies",
          "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const std::vector<std::string> common = {"train.steps=1", "checkpoint.every_steps=0", "checkpoint.final=false",
                                           "data.num_samples=4"};
  auto eabf = common;
  for (const char* o : {"rope.type=eabf", "rope.abf_theta=500000", "rope.eabf_context=256"}) eabf.push_back(o);
  const auto warned = train_process(dir / "c.yaml", dir / "eabf", eabf);
  INFO(warned.output);
  REQUIRE(warned.exit_code == 0);
  CHECK_THAT(warned.output, Contains("eabf: stock HF loaders compute only its frequencies"));
  // The same text as `ctxext export` gives for the same method.
  const auto exported = run_ctxext({"export", "--model", (dir / "eabf" / "export").string(), "--out",
                                    (dir / "again").string()});
  INFO(exported.output);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.output, Contains("eabf: stock HF loaders compute only its frequencies"));

  const auto plain = train_process(dir / "c.yaml", dir / "yarn", common);
  INFO(plain.output);
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.output, !Contains("stock HF loaders"));
}
