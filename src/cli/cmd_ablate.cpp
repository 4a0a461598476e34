// ctxext ablate CONFIG [key=value ...]: train and evaluate each RoPE method of an ablation config
// (recipes/ablate_recipe.h), then write results.json, results.md and plots.
#include "cli/commands.h"
#include "recipes/ablate_recipe.h"

namespace ctxext::cli {

void add_ablate(CLI::App& app) {
  auto* cmd = app.add_subcommand("ablate", "Ablate RoPE methods: same data and budget, one table and plots");
  cmd->footer(
      "Example:\n"
      "  ctxext ablate configs/tiny/ablation.yaml output_dir=runs/ablation\n"
      "Overrides apply to the ablation config (e.g. eval.passkey.trials=5); base_overrides apply to every\n"
      "method's training config. Output: <output_dir>/<method>/ (training), results.json, results.md, *.png.");
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
