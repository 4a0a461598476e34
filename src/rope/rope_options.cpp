// Parsing and range checks of the `rope:` section (keys: rope_options.h).
#include "rope/rope_options.h"

#include <fmt/format.h>

#include "rope/rope_method.h"

namespace ctxext {

namespace {

constexpr double kHuge = 1e12;

// A number that must lie strictly above `lower` (strict bounds are not expressible with get_number).
double get_above(const ConfigNode& node, const std::string& key, double fallback, double lower) {
  const double v = node.get_number(key, fallback, -kHuge, kHuge);
  if (!(v > lower)) node.reject(key, fmt::format("must be greater than {}", lower));
  return v;
}

std::optional<double> get_optional_above(const ConfigNode& node, const std::string& key, double lower,
                                        const std::optional<double>& fallback) {
  const auto v = node.get_optional<double>(key);
  if (!v) return fallback;
  if (!(*v > lower)) node.reject(key, fmt::format("must be greater than {}", lower));
  return v;
}

}  // namespace

double RopeOptions::effective_theta() const {
  return (type == "abf" || type == "eabf") ? abf_theta : theta;
}

int64_t RopeOptions::extended_context() const {
  return static_cast<int64_t>(static_cast<double>(original_max_position_embeddings) * factor);
}

RopeOptions parse_rope_options(const ConfigNode& node, const RopeOptions& defaults) {
  RopeOptions o = defaults;
  o.type = node.get_choice("type", defaults.type, rope_method_names());
  // theta <= 1 would make the frequencies constant or growing with the dimension index.
  o.theta = get_above(node, "theta", defaults.theta, 1.0);
  o.factor = node.get_number("factor", defaults.factor, 1.0, 1e6);
  o.original_max_position_embeddings =
      node.get_int("original_max_position_embeddings", defaults.original_max_position_embeddings, 1, int64_t{1} << 40);
  o.interleaved = node.get<bool>("interleaved", defaults.interleaved);

  o.ntk_alpha = node.get_number("ntk_alpha", defaults.ntk_alpha, 0.0, 1e6);
  if (o.ntk_alpha != 0.0 && o.ntk_alpha < 1.0) node.reject("ntk_alpha", "must be 0 (use factor) or at least 1");

  o.beta_fast = get_above(node, "beta_fast", defaults.beta_fast, 0.0);
  o.beta_slow = get_above(node, "beta_slow", defaults.beta_slow, 0.0);
  if (!(o.beta_fast > o.beta_slow))
    node.reject("beta_fast", fmt::format("must be greater than beta_slow ({})", o.beta_slow));
  o.mscale = get_optional_above(node, "mscale", 0.0, defaults.mscale);
  o.mscale_all_dim = get_optional_above(node, "mscale_all_dim", 0.0, defaults.mscale_all_dim);
  o.attention_factor = get_optional_above(node, "attention_factor", 0.0, defaults.attention_factor);
  o.truncate = node.get<bool>("truncate", defaults.truncate);

  o.low_freq_factor = get_above(node, "low_freq_factor", defaults.low_freq_factor, 0.0);
  o.high_freq_factor = get_above(node, "high_freq_factor", defaults.high_freq_factor, 0.0);
  if (!(o.high_freq_factor > o.low_freq_factor))
    node.reject("high_freq_factor", fmt::format("must be greater than low_freq_factor ({})", o.low_freq_factor));

  o.abf_theta = get_above(node, "abf_theta", defaults.abf_theta, 1.0);
  // ln(c) is the divisor of the EABF scale, so c must exceed 1.
  o.eabf_context = get_above(node, "eabf_context", defaults.eabf_context, 1.0);
  o.eabf_skip_layers = node.get_int("skip_layers", defaults.eabf_skip_layers, 0, 100000);

  node.check_no_unknown_keys();
  return o;
}

}  // namespace ctxext
