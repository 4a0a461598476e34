// ctxext validate CONFIG [key=value ...]: parse and check a config without running anything, and
// print the training plan (samples, epochs, steps, global batch, tokens). The samples are counted by
// reading the data file with the tokenizer, as training would (no model weights are loaded), after
// preflight_check (recipes/preflight.h) has checked everything that does not need the weights.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "data/dataset.h"
#include "data/sample_selection.h"
#include "recipes/ablate_recipe.h"
#include "recipes/config_schema.h"
#include "recipes/job_config.h"
#include "recipes/preflight.h"
#include "train/train_plan.h"

namespace ctxext::cli {
namespace {

std::string training_plan(const recipes::JobConfig& job) {
  const auto& t = job.train;
  const std::string batch = fmt::format("global batch {} = micro {} x accumulation {}", t.global_batch_size,
                                        t.micro_batch_size, t.accumulation_steps());
  const auto dataset = data::load_dataset(job.data, data::Tokenizer::load(job.tokenizer_path()));
  const train::TrainPlan plan = train::resolve_steps(t, static_cast<int64_t>(dataset.samples.size()));
  const data::SampleOrder order(plan.num_samples, job.data.seed, job.data.shuffle);
  int64_t tokens = 0, supervised = 0;
  for (int64_t step = 0; step < plan.steps; ++step)
    for (int64_t index : order.take(plan.data_position_at(step), plan.global_batch_size)) {
      tokens += dataset.samples[index].size();
      supervised += dataset.samples[index].num_supervised();
    }
  return fmt::format("{}; {}; tokens {} ({} supervised)", plan.describe(), batch, tokens, supervised);
}

}  // namespace

void add_validate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "validate", "Check a YAML config (and key=value overrides) without running it: a training config, or an "
                  "ablation config (one with a top-level `methods:` list, whose base training config is checked too). "
                  "For a training config, print the plan: samples after the length policy (read with the tokenizer, "
                  "no model weights), epochs, steps, global batch and tokens");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto reference = std::make_shared<bool>(false);
  auto* config_option = cmd->add_option("config", *config_path, "YAML config file")->check(CLI::ExistingFile);
  cmd->add_option("overrides", *overrides, "key.path=value overrides, validated like the file");
  cmd->add_flag("--reference", *reference,
                "Print every key of a training config (type, default, allowed values, effect) as Markdown, the "
                "reference of docs/config.md, instead of validating a config")
      ->excludes(config_option);
  cmd->callback([config_path, overrides, reference] {
    if (*reference) {
      std::cout << recipes::config_reference_markdown() << std::flush;
      return;
    }
    if (config_path->empty()) fail("validate: give a CONFIG file to check (or --reference for the key reference)");
    const Config config = Config::load(*config_path, *overrides);
    if (config.root().has("methods")) {
      recipes::AblateRecipe ablation(*config_path, *overrides);
      std::cout << *config_path << ": ok (ablation)" << std::endl;
      return;
    }
    const recipes::JobConfig job = recipes::parse_job_config(config);
    recipes::preflight_check(job, *config_path);
    const std::string plan = training_plan(job);
    std::cout << *config_path << ": ok (" << job.summary() << ")\nplan: " << plan << std::endl;
  });
}

}  // namespace ctxext::cli
