// ntk_by_parts: YaRN's per-dimension ramp without its attention temperature (cos/sin scale 1): the
// "NTK-By-Parts" baseline of the EABF paper (its Table 2, Figure 2). HF form: "yarn" with
// attention_factor 1, which stock transformers computes identically; "ctxext_rope" names the method.
#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  RopeOptions yarn = options;
  yarn.type = "yarn";
  yarn.attention_factor = 1.0;
  return find_rope_method("yarn").frequencies(yarn, head_dim, seq_len);
}

}  // namespace

const RopeMethod& ntk_by_parts() {
  static const RopeMethod m = [] {
    auto m = RopeMethod("ntk_by_parts",
                        "NTK-by-parts: YaRN's per-dimension ramp, cos/sin unscaled (no attention temperature)",
                        frequencies, "yarn")
                 .with_keys({"beta_fast", "beta_slow", "truncate"});
    m.hf.fixed = {{"attention_factor", 1.0}};
    return m;
  }();
  return m;
}

}  // namespace ctxext::rope::methods
