// eabf: entropy-aware ABF. Frequencies as abf; the query scale max(1, ln(pos+1)/ln(c)) lives in
// rope_tables.cpp (compute_query_scale), enabled by the registry's has_query_scale.
#include "rope/rope_method_functions.h"

namespace ctxext::rope_methods {

RopeFrequencies eabf(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  return abf(options, head_dim, seq_len);
}

}  // namespace ctxext::rope_methods
