// The longest sequence an evaluation may run a model at. Without an explicit --max-length it is
// 8x the context the RoPE method is extended to (L0 x factor): every method in scope is far past
// what it was built for there, and attention cost grows quadratically, so a longer request is far
// more likely a typo (an extra zero) than an experiment.
#pragma once
#include <cstdint>
#include <string>

#include "rope/rope_options.h"

namespace ctxext::eval {

inline constexpr int64_t kDefaultLengthMultiple = 8;

// explicit_max > 0: that limit; else kDefaultLengthMultiple x rope.extended_context().
int64_t max_eval_length(const rope::RopeOptions& rope, int64_t explicit_max);

// Fails naming `what` (the flag or config key) when length < 2 or length > max_eval_length.
void check_eval_length(int64_t length, const rope::RopeOptions& rope, int64_t explicit_max, const std::string& what);

}  // namespace ctxext::eval
