// ctxext validate CONFIG [key=value ...]: parse and check a config without running anything.
#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "recipes/ablate_recipe.h"
#include "recipes/job_config.h"

namespace ctxext::cli {

void add_validate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "validate", "Check a YAML config (and key=value overrides) without running it: a training config, or an "
                  "ablation config (one with a top-level `methods:` list, whose base training config is checked too)");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  cmd->add_option("config", *config_path, "YAML config file")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", *overrides, "key.path=value overrides, validated like the file");
  cmd->callback([config_path, overrides] {
    const Config config = Config::load(*config_path, *overrides);
    if (config.root().has("methods")) {
      AblateRecipe ablation(*config_path, *overrides);
      std::cout << *config_path << ": ok (ablation)" << std::endl;
      return;
    }
    const JobConfig job = parse_job_config(config);
    std::cout << *config_path << ": ok (" << job.summary() << ")" << std::endl;
  });
}

}  // namespace ctxext::cli
