// Each subcommand adds itself to the app in its own cmd_<name>.cpp and runs from its callback.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ctxext::cli {

void register_commands(CLI::App& app);

void add_validate(CLI::App& app);
void add_train(CLI::App& app);
void add_inspect(CLI::App& app);
void add_eval(CLI::App& app);
void add_export(CLI::App& app);
void add_ablate(CLI::App& app);
void add_plan(CLI::App& app);
void add_plot(CLI::App& app);
// eval passkey, ppl-sweep, entropy: subcommands of the `eval` command.
void add_eval_tasks(CLI::App& eval);

// --rope-type, --factor and repeated --rope KEY=VALUE: another RoPE method over the checkpoint's.
struct RopeFlags {
  std::string type;
  std::string factor;
  std::vector<std::string> assignments;
  // All three as "key=value" assignments for apply_rope_overrides.
  std::vector<std::string> overrides() const;
};
std::shared_ptr<RopeFlags> add_rope_flags(CLI::App& cmd);

}  // namespace ctxext::cli
