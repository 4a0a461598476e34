// Each subcommand adds itself to the app in its own cmd_<name>.cpp and runs from its callback.
#pragma once
#include <CLI/CLI.hpp>

namespace ctxext::cli {

void register_commands(CLI::App& app);

void add_validate(CLI::App& app);

}  // namespace ctxext::cli
