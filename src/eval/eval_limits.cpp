#include "eval/eval_limits.h"

#include "core/error.h"

namespace ctxext::eval {

int64_t max_eval_length(const rope::RopeOptions& rope, int64_t explicit_max) {
  return explicit_max > 0 ? explicit_max : kDefaultLengthMultiple * rope.extended_context();
}

void check_eval_length(int64_t length, const rope::RopeOptions& rope, int64_t explicit_max, const std::string& what) {
  if (length < 2) fail("{} {}: a length must be at least 2 tokens", what, length);
  const int64_t limit = max_eval_length(rope, explicit_max);
  if (length <= limit) return;
  if (explicit_max > 0) fail("{} {}: beyond --max-length {}", what, length, explicit_max);
  fail("{} {}: beyond {} tokens, {}x the RoPE method's extended context ({} {} x factor {}); "
       "pass --max-length to allow it",
       what, length, limit, kDefaultLengthMultiple, rope.type, rope.original_max_position_embeddings, rope.factor);
}

}  // namespace ctxext::eval
