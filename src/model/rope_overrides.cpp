#include "model/rope_overrides.h"

#include "core/config.h"

namespace ctxext::model {

rope::RopeOptions apply_rope_overrides(const rope::RopeOptions& base, const std::vector<std::string>& assignments) {
  if (assignments.empty()) return base;
  const auto config = Config::parse("{}", "RoPE overrides", assignments);
  return rope::parse_rope_options(config.root(), base);
}

}  // namespace ctxext::model
