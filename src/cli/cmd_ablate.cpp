// ctxext ablate CONFIG [key=value ...]: train and evaluate each cell (RoPE method x data size x seed)
// of an ablation config (recipes/ablate_recipe.h), then write results.json, results.md and plots.
#include "cli/commands.h"
#include "recipes/ablate_recipe.h"

namespace ctxext::cli {

void add_ablate(CLI::App& app) {
  auto* cmd = app.add_subcommand("ablate", "Ablate RoPE methods x data sizes x seeds: same recipe, tables with 95% intervals, plots");
  cmd->footer(
      "Example:\n"
      "  ctxext ablate configs/tiny/ablation.yaml output_dir=runs/ablation\n"
      "  ctxext ablate configs/tiny/ablation.yaml seeds=[0] num_samples=[100]   # a smaller grid\n"
      "Overrides apply to the ablation config (e.g. eval.passkey.trials=5); base_overrides apply to every\n"
      "cell's training config. Output: <output_dir>/<method>/n<size>-seed<seed>/ (training and the cell's\n"
      "evaluation), results.json, results.md, *.png. Run again, it continues where it stopped: finished\n"
      "cells are kept, a cell whose training config changed is refused (delete its folder to redo it).");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  cmd->add_option("config", *config_path, "ablation YAML config")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", *overrides, "key.path=value overrides");
  cmd->callback([config_path, overrides] {
    recipes::AblateRecipe recipe(*config_path, *overrides);
    recipe.run();
  });
}

}  // namespace ctxext::cli
