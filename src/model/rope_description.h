// One line describing a RoPE method with every value it uses, from the registry: what `ctxext
// inspect` prints for a folder and `ctxext validate` / `ctxext train` print in a job's plan.
#pragma once
#include <cstdint>
#include <string>

#include "rope/rope_options.h"

namespace ctxext::model {

// The method, its HF form and description, every key it reads with its value (as the ctxext_rope
// block of config.json writes them: eabf_context resolved), and the context it extends from and to.
std::string describe_rope(const rope::RopeOptions& rope);

// What those keys resolve to for a head dimension: the base the frequencies start from and the
// cos/sin scale (YaRN's attention factor when not given, 1 for most methods) at the extended context.
std::string describe_effective_rope(const rope::RopeOptions& rope, int64_t head_dim);

}  // namespace ctxext::model
