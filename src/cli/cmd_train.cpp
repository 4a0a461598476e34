// ctxext train CONFIG [key=value ...]: the fine-tuning recipe (recipes/train_recipe.h).
#include "cli/commands.h"
#include "core/config.h"
#include "recipes/train_recipe.h"

namespace ctxext::cli {

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Fine-tune a model from a YAML config: extend its RoPE, train, checkpoint, export");
  cmd->footer(
      "Example:\n"
      "  ctxext train configs/llama2-7b-chat/eabf.yaml model.path=/models/Llama-2-7b-chat-hf data.path=long.jsonl\n"
      "Any config key can be overridden as key.path=value (validated like the file), e.g. output_dir=runs/x,\n"
      "resume=none (start over), resume=auto (newest complete checkpoint in output_dir, the default),\n"
      "train.steps=6. Metrics: <output_dir>/metrics.jsonl; checkpoints: <output_dir>/checkpoints/step-N;\n"
      "the extended HF folder: <output_dir>/export. A resume under a config that changes what was trained\n"
      "(model, rope, data, batch, optimizer, precision, seed) is refused unless the keys are listed in\n"
      "resume_allow_changed; raising train.steps extends a finished run; one run per output_dir (.lock).\n"
      "Several processes (GPUs, nodes): start it with torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR, ...:\n"
      "  torchrun --nproc-per-node=4 --no-python ctxext train CONFIG train.sharding=full\n"
      "train.sharding none | optimizer (ZeRO-2) | full (ZeRO-3); train.offload: optimizer keeps the fp32\n"
      "masters and AdamW state in host memory; runtime.dist_timeout_s bounds every collective (README).");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  cmd->add_option("config", *config_path, "YAML config file")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", *overrides, "key.path=value overrides");
  auto profile_steps = std::make_shared<int64_t>(0);
  cmd->add_option("--profile-steps", *profile_steps,
                  "Profile N optimizer steps (from the second one this process runs): op table by self time and "
                  "by category in <output_dir>/profile-rank<R>.txt (also logged), timeline in "
                  "<output_dir>/profile-rank<R>.trace.json; on CUDA also the device kernels by duration (0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([config_path, overrides, profile_steps] {
    recipes::TrainRecipe recipe(Config::load(*config_path, *overrides));
    recipe.set_profile_steps(*profile_steps);
    recipe.setup();
    recipe.train();
    recipe.save();
    recipe.cleanup();
  });
}

}  // namespace ctxext::cli
