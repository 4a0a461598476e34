// recipes/ablation_summary.h on hand-made cells: the grouping by method x data size, the Student-t
// interval over seeds and the pooled Wilson interval against values worked out by hand, and the
// tables of results.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "recipes/ablation_summary.h"

using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// One cell: ppl at 256, passkey at 256 (one depth, 5 trials), entropy at 256 (2 layers), one LongBench task.
json cell(const std::string& name, json num_samples, json seed, double ppl, int correct, double entropy0, double lb) {
  return {{"name", name}, {"num_samples", num_samples}, {"seed", seed}, {"rope_type", name == "none" ? "default" : "eabf"},
          {"extended_context", name == "none" ? 256 : 1024}, {"rope_overrides", json::array()}, {"train_seconds", 10.0},
          {"ppl", {{{"length", 256}, {"ppl", ppl}}}},
          {"passkey", {{{"length", 256}, {"depth", 0.5}, {"trials", 5}, {"correct", correct}, {"accuracy", correct / 5.0}}}},
          {"entropy", {{{"length", 256}, {"uniform", 5.545}, {"per_layer", {entropy0, 3.0}}}}},
          {"longbench", {{{"task", "trec"}, {"score", lb}}}}};
}

}  // namespace

TEST_CASE("ablation summary: t intervals over seeds, Wilson over pooled trials, one entry per method x size",
          "[recipes][ablate]") {
  const json cells = {cell("none", nullptr, nullptr, 50.0, 5, 5.0, 10.0),
                      cell("eabf", 32, 0, 40.0, 3, 4.0, 20.0),
                      cell("eabf", 100, 0, 39.0, 5, 4.0, 30.0),
                      cell("eabf", 32, 1, 42.0, 4, 4.5, 20.0),
                      cell("eabf", 32, 2, 44.0, 5, 5.0, 20.0)};
  const auto summary = ctxext::recipes::summarize_ablation(cells);
  REQUIRE(summary.size() == 3);  // none, eabf at 32, eabf at 100: in order of first appearance
  CHECK(summary[0]["name"] == "none");
  CHECK(summary[1]["num_samples"] == 32);
  CHECK(summary[2]["num_samples"] == 100);

  // One run: the mean, no interval.
  const auto& none = summary[0];
  CHECK(none["n"] == 1);
  CHECK(none["ppl"][0]["mean"] == 50.0);
  CHECK(none["ppl"][0]["low"].is_null());
  CHECK(none["ppl"][0]["high"].is_null());

  // eabf at 32 samples, seeds 0, 1, 2: ppl {40, 42, 44}, s = 2, half width t(0.975, 2) * 2 / sqrt(3).
  const auto& e = summary[1];
  CHECK(e["n"] == 3);
  CHECK(e["seeds"] == json({0, 1, 2}));
  const auto& ppl = e["ppl"][0];
  CHECK(ppl["length"] == 256);
  CHECK(ppl["mean"].get<double>() == Approx(42.0));
  CHECK(ppl["stddev"].get<double>() == Approx(2.0));
  CHECK(ppl["low"].get<double>() == Approx(42.0 - 4.96827542).epsilon(1e-8));
  CHECK(ppl["high"].get<double>() == Approx(42.0 + 4.96827542).epsilon(1e-8));
  CHECK(ppl["values"] == json({40.0, 42.0, 44.0}));
  // Passkey: per seed 3/5, 4/5, 5/5 -> mean 0.8 +- t * 0.2 / sqrt(3); pooled 12 of 15 -> Wilson [0.5481, 0.9295].
  const auto& pk = e["passkey"][0];
  CHECK(pk["mean"].get<double>() == Approx(0.8));
  CHECK(pk["high"].get<double>() == Approx(0.8 + 0.49682754).epsilon(1e-7));
  CHECK(pk["correct"] == 12);
  CHECK(pk["trials"] == 15);
  CHECK(pk["rate"].get<double>() == Approx(0.8));
  CHECK(pk["wilson_low"].get<double>() == Approx(0.54814551).epsilon(1e-6));
  CHECK(pk["wilson_high"].get<double>() == Approx(0.92952451).epsilon(1e-6));
  CHECK(e["passkey_cells"] == json({{{"length", 256}, {"depth", 0.5}, {"correct", 12}, {"trials", 15}, {"accuracy", 0.8}}}));
  // Entropy per layer: layer 0 {4, 4.5, 5} has an interval, layer 1 (all 3.0) a zero-width one.
  const auto& ent = e["entropy"][0];
  CHECK(ent["per_layer"][0].get<double>() == Approx(4.5));
  CHECK(ent["per_layer_high"][0].get<double>() == Approx(4.5 + 4.30265273 * 0.5 / std::sqrt(3.0)).epsilon(1e-7));
  CHECK(ent["per_layer_low"][1].get<double>() == Approx(3.0));
  CHECK(e["longbench"][0]["task"] == "trec");
  CHECK(e["longbench"][0]["mean"].get<double>() == Approx(20.0));
  CHECK(e["train_seconds"]["mean"].get<double>() == Approx(10.0));

  const auto md = ctxext::recipes::ablation_tables(summary);
  CHECK_THAT(md, Contains("| method | samples | seeds | train s") && Contains("| ppl@256"));
  CHECK_THAT(md, Contains("| none ") && Contains("10.0 (n=1)"));
  CHECK_THAT(md, Contains("50.000 (n=1)") && Contains("42.000 ± 4.968"));
  CHECK_THAT(md, Contains("0.80 ± 0.50 · 12/15 W [0.55, 0.93]"));
  CHECK_THAT(md, Contains("| LB trec") && Contains("20.00 ± 0.00"));
  CHECK_THAT(md, Contains("at 256 tokens") && Contains("4.50 ± 1.24"));
  CHECK_THAT(md, Contains("Student-t") && Contains("n - 1 degrees of freedom") && Contains("Wilson"));
}
