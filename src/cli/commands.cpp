#include "cli/commands.h"

namespace ctxext::cli {

void register_commands(CLI::App& app) {
  add_validate(app);
  add_train(app);
  add_inspect(app);
  add_eval(app);
  add_export(app);
  add_ablate(app);
  add_plan(app);
}

std::vector<std::string> RopeFlags::overrides() const {
  std::vector<std::string> all;
  if (!type.empty()) all.push_back("type=" + type);
  if (!factor.empty()) all.push_back("factor=" + factor);
  all.insert(all.end(), assignments.begin(), assignments.end());
  return all;
}

std::shared_ptr<RopeFlags> add_rope_flags(CLI::App& cmd) {
  auto flags = std::make_shared<RopeFlags>();
  cmd.add_option("--rope-type", flags->type,
                 "RoPE method replacing the checkpoint's: none, pi, ntk, dynamic_ntk, yarn, llama3, abf, eabf");
  cmd.add_option("--factor", flags->factor, "RoPE scale factor s = extended context / original context");
  cmd.add_option("--rope", flags->assignments,
                 "More RoPE options as KEY=VALUE, the keys of a config's rope: section (theta, "
                 "original_max_position_embeddings, beta_fast, beta_slow, mscale, mscale_all_dim, attention_factor, "
                 "truncate, low_freq_factor, high_freq_factor, ntk_alpha, abf_theta, eabf_context, skip_layers); "
                 "repeatable")
      ->type_name("KEY=VALUE");
  return flags;
}

}  // namespace ctxext::cli
