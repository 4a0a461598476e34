// Running training jobs in the recipe tests and reading what they wrote: in this process
// (run_recipe), as the ctxext binary (train_process, optionally killed at a CTXEXT_FAULT point),
// metrics.jsonl rows, and how far two exported folders' weights are apart.
#pragma once
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "io/safetensors.h"
#include "recipes/train_recipe.h"
#include "support/test_support.h"

namespace ctxext::testing {

inline std::vector<nlohmann::json> read_metrics(const fs::path& file) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_text(file));
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline void run_recipe(const fs::path& config_file, const std::vector<std::string>& overrides) {
  recipes::TrainRecipe recipe(Config::load(config_file.string(), overrides));
  recipe.setup();
  recipe.train();
  recipe.save();
  recipe.cleanup();
}

// `ctxext train CONFIG output_dir=... overrides...`; with `fault`, CTXEXT_FAULT=fault. exec: the shell
// becomes ctxext, so a SIGKILL shows as the process's signal, not exit code 137.
inline CommandResult train_process(const fs::path& config, const fs::path& output_dir,
                                   const std::vector<std::string>& overrides = {}, const std::string& fault = "") {
  std::string line = fault.empty() ? "exec " : "CTXEXT_FAULT=" + fault + " exec ";
  line += shell_quote(std::getenv("CTXEXT_BIN")) + " train " + shell_quote(config.string()) + " " +
          shell_quote("output_dir=" + output_dir.string());
  for (const auto& o : overrides) line += " " + shell_quote(o);
  return run_command(line);
}

// max over tensors of ||a - b|| / ||a|| between two runs' exported weights (float64).
inline double relative_weight_difference(const fs::path& run_a, const fs::path& run_b) {
  const auto ta = io::read_safetensors(run_a / "export" / "model.safetensors").tensors;
  const auto tb = io::read_safetensors(run_b / "export" / "model.safetensors").tensors;
  double worst = ta.size() == tb.size() ? 0.0 : 1.0;
  for (const auto& [name, x] : ta) {
    const auto it = tb.find(name);
    if (it == tb.end()) return 1.0;
    const auto x64 = x.to(torch::kFloat64), y64 = it->second.to(torch::kFloat64);
    worst = std::max(worst, (x64 - y64).norm().item<double>() / std::max(1e-30, x64.norm().item<double>()));
  }
  return worst;
}

}  // namespace ctxext::testing
