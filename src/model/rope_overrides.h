// RoPE options from a checkpoint's config.json, changed by `key=value` assignments (the keys of
// the YAML `rope:` section, e.g. "type=yarn", "factor=4"): how the CLI applies another method.
#pragma once
#include <string>
#include <vector>

#include "rope/rope_options.h"

namespace ctxext::model {

// Unknown keys and bad values fail naming the assignment. No assignments: `base` unchanged.
rope::RopeOptions apply_rope_overrides(const rope::RopeOptions& base, const std::vector<std::string>& assignments);

}  // namespace ctxext::model
