// ctxext validate CONFIG [key=value ...]: parse and check a config without running anything, and
// print the job's resolved plan (recipes/job_plan.h: model, RoPE method with its effective values,
// samples kept and dropped, steps, tokens, held-out eval, predicted memory). The samples are read
// with the tokenizer, as training reads them (no model weights are loaded), after preflight_check
// (recipes/preflight.h) has checked everything that does not need the weights.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "data/dataset.h"
#include "recipes/ablate_recipe.h"
#include "recipes/config_schema.h"
#include "recipes/job_config.h"
#include "recipes/job_plan.h"
#include "recipes/preflight.h"
#include "train/train_plan.h"

namespace ctxext::cli {
namespace {

// One line per topic; the world size is one process's (ctxext plan --gpus N plans a larger job).
std::string job_plan(const recipes::JobConfig& job, const model::LlamaConfig& model) {
  const auto tokenizer = data::Tokenizer::load(job.tokenizer_path());
  const auto dataset = data::load_dataset(job.data, tokenizer);
  const auto plan = train::resolve_steps(job.train, static_cast<int64_t>(dataset.samples.size()));
  data::Dataset eval;
  if (job.train.eval_every > 0) eval = data::load_dataset(data::eval_data_options(job.data), tokenizer);
  const auto lines =
      recipes::describe_job_plan({job, model, dataset, plan, job.train.eval_every > 0 ? &eval : nullptr, 1});
  return fmt::format("{}", fmt::join(lines, "\n"));
}

}  // namespace

void add_validate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "validate", "Check a YAML config (and key=value overrides) without running it: a training config, or an "
                  "ablation config (one with a top-level `methods:` list, whose base training config is checked too). "
                  "For a training config, print the resolved plan: model shape and parameters, the RoPE method with "
                  "its effective values, samples kept and dropped by the length policy (read with the tokenizer, no "
                  "model weights), steps, tokens per step, the held-out eval and the memory ctxext plan predicts");
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
    const model::LlamaConfig model = recipes::preflight_check(job, *config_path);
    std::cout << *config_path << ": ok (" << job.summary() << ")\n" << job_plan(job, model) << std::endl;
  });
}

}  // namespace ctxext::cli
