// RoPE method options: the YAML `rope:` section, also filled from an HF config.json.
// Formulas: docs/rope.md and DESIGN.md §3. d = head dim, L0 = original context, s = factor.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"

namespace ctxext {

struct RopeOptions {
  std::string type = "none";  // none | pi | ntk | dynamic_ntk | yarn | llama3 | abf | eabf
  double theta = 10000.0;     // the checkpoint's rope_theta (base of the frequencies)
  double factor = 1.0;        // s = extended context / original context
  int64_t original_max_position_embeddings = 4096;  // L0
  bool interleaved = false;   // false: HF "rotate_half" halves; true: Meta's adjacent pairs

  double ntk_alpha = 0.0;     // ntk: 0 means "use factor"

  // yarn (HF semantics)
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<double> attention_factor;
  bool truncate = true;

  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;

  // abf / eabf: the new base replaces theta
  double abf_theta = 500000.0;
  // eabf: query *= max(1, ln(pos+1) / ln(c)) in layers >= skip_layers
  double eabf_context = 4096.0;  // c
  int64_t eabf_skip_layers = 2;  // paper: 2; the official code's actual behaviour: 0 (docs/rope.md)

  // The base the frequencies use: abf_theta for abf/eabf, theta otherwise.
  double effective_theta() const;
  // The context the extended model is meant for: L0 * factor.
  int64_t extended_context() const;
};

// Parses the `rope:` section over `defaults` (usually what the checkpoint's config.json says).
// Keys: type, theta, factor, original_max_position_embeddings, interleaved, ntk_alpha, beta_fast,
// beta_slow, mscale, mscale_all_dim, attention_factor, truncate, low_freq_factor,
// high_freq_factor, abf_theta, eabf_context, skip_layers. Unknown keys and bad values are errors.
RopeOptions parse_rope_options(const ConfigNode& node, const RopeOptions& defaults = {});

}  // namespace ctxext
