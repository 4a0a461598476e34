#include "cli/commands.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "rope/rope_method.h"

namespace ctxext::cli {

void register_commands(CLI::App& app) {
  add_validate(app);
  add_train(app);
  add_inspect(app);
  add_eval(app);
  add_export(app);
  add_ablate(app);
  add_plan(app);
  add_plot(app);
}

std::vector<std::string> RopeFlags::overrides() const {
  // Alone, a factor would scale nothing but the context written to config.json.
  if (!factor.empty() && type.empty())
    fail("--factor {}: needs --rope-type, the RoPE method that scales by it (to change the checkpoint method's own "
         "factor: --rope factor={})",
         factor, factor);
  if (!factor.empty()) {  // named as the flag, not as the rope key it becomes
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(factor.c_str(), &end);
    if (end == factor.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value))
      fail("--factor: '{}' is not a number", factor);
    if (const std::string reason = rope::find_rope_key("factor").check(value); !reason.empty())
      fail("--factor {}: {}", factor, reason);
  }
  std::vector<std::string> all;
  if (!type.empty()) all.push_back("type=" + type);
  if (!factor.empty()) all.push_back("factor=" + factor);
  all.insert(all.end(), assignments.begin(), assignments.end());
  return all;
}

std::shared_ptr<RopeFlags> add_rope_flags(CLI::App& cmd) {
  auto flags = std::make_shared<RopeFlags>();
  cmd.add_option("--rope-type", flags->type, rope::rope_methods_help());
  cmd.add_option("--factor", flags->factor,
                 "RoPE scale factor s = extended context / original context (with --rope-type)");
  cmd.add_option("--rope", flags->assignments, rope::rope_keys_help())->type_name("KEY=VALUE");
  return flags;
}

}  // namespace ctxext::cli
