#include "cli/commands.h"

namespace ctxext::cli {

void register_commands(CLI::App& app) {
  add_validate(app);
}

}  // namespace ctxext::cli
