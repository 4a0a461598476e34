// The keys of the `rope:` section (one row each) and their parsing and range checks.
#include "rope/rope_options.h"

#include <fmt/format.h>

#include <type_traits>

#include "rope/rope_method.h"

namespace ctxext::rope {

namespace {

using Kind = RopeKey::Kind;
using Lower = RopeKey::Lower;

// One row of the table: the member it fills decides its kind.
template <typename T>
RopeKey key(T RopeOptions::*member, const char* name, const char* help, const char* hf_name, double min = 0.0,
            Lower lower = Lower::inclusive, double max = 1e12) {
  RopeKey k;
  k.name = name;
  k.help = help;
  k.hf_name = hf_name;
  k.min = min;
  k.lower = lower;
  k.max = max;
  if constexpr (std::is_same_v<T, double>) {
    k.kind = Kind::number;
    k.number = member;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    k.kind = Kind::integer;
    k.integer = member;
  } else if constexpr (std::is_same_v<T, bool>) {
    k.kind = Kind::boolean;
    k.boolean = member;
  } else if constexpr (std::is_same_v<T, std::optional<double>>) {
    k.kind = Kind::optional_number;
    k.optional_number = member;
  } else {
    static_assert(std::is_same_v<T, std::vector<double>>, "a RoPE option is a number, integer, boolean or list");
    k.kind = Kind::number_list;
    k.number_list = member;
  }
  return k;
}

RopeKey with(RopeKey k, const char* zero_means, const char* greater_than) {
  k.zero_means = zero_means;
  k.greater_than = greater_than;
  return k;
}

// HF reads these as `value or default`.
RopeKey hf_zero_is_unset(RopeKey k) {
  k.hf_zero_is_unset = true;
  return k;
}

double value_of(const RopeOptions& o, const RopeKey& k) {
  return k.kind == Kind::integer ? static_cast<double>(o.*k.integer) : o.*k.number;
}

void read_key(const ConfigNode& node, const RopeKey& k, const RopeOptions& defaults, RopeOptions& o) {
  const auto check = [&](double v) {
    const auto reason = k.check(v);
    if (!reason.empty()) node.reject(k.name, reason);
  };
  switch (k.kind) {
    case Kind::number:
      o.*k.number = node.get<double>(k.name, defaults.*k.number);
      check(o.*k.number);
      break;
    case Kind::integer:
      o.*k.integer = node.get<int64_t>(k.name, defaults.*k.integer);
      check(static_cast<double>(o.*k.integer));
      break;
    case Kind::boolean:
      o.*k.boolean = node.get<bool>(k.name, defaults.*k.boolean);
      break;
    case Kind::optional_number: {
      const auto v = node.get_optional<double>(k.name);
      if (v) check(*v);
      o.*k.optional_number = v ? v : defaults.*k.optional_number;
      break;
    }
    case Kind::number_list:
      o.*k.number_list = node.get<std::vector<double>>(k.name, defaults.*k.number_list);
      for (double v : o.*k.number_list)
        if (!k.check(v).empty()) node.reject(k.name, fmt::format("every value {} (found {})", k.check(v), v));
      break;
  }
}

}  // namespace

std::string RopeKey::check(double v) const {
  if (zero_means && v == 0.0) return "";
  const bool above = lower == Lower::exclusive ? v > min : v >= min;
  if (above && v <= max) return "";
  std::string reason;
  if (kind == Kind::integer) {
    reason = fmt::format("must be an integer between {} and {}", min, max);
  } else if (lower == Lower::exclusive) {
    reason = fmt::format("must be greater than {}", min);
  } else {
    reason = fmt::format("must be between {} and {}", min, max);
  }
  return zero_means ? fmt::format("must be 0 ({}) or {}", zero_means, reason.substr(8)) : reason;
}

std::string RopeKey::default_text() const {
  const RopeOptions d;
  switch (kind) {
    case Kind::number: return fmt::format("{}", d.*number);
    case Kind::integer: return fmt::format("{}", d.*integer);
    case Kind::boolean: return d.*boolean ? "true" : "false";
    case Kind::optional_number: return "unset";
    case Kind::number_list: return "[]";
  }
  return "";
}

const std::vector<RopeKey>& rope_option_keys() {
  using O = RopeOptions;
  constexpr auto ex = Lower::exclusive;
  constexpr auto in = Lower::inclusive;
  // theta <= 1 would make the frequencies constant or growing with the dimension index; ln(c) is the
  // divisor of the EABF scale, so c must exceed 1.
  static const std::vector<RopeKey> keys = {
      key(&O::theta, "theta", "the checkpoint's RoPE base (HF rope_theta)", nullptr, 1.0, ex),
      key(&O::factor, "factor", "s = extended context / original context", "factor", 1.0, in, 1e6),
      key(&O::original_max_position_embeddings, "original_max_position_embeddings",
          "L0, the context the model was pretrained for", "original_max_position_embeddings", 1.0, in,
          static_cast<double>(int64_t{1} << 40)),
      key(&O::interleaved, "interleaved", "rotate adjacent pairs (Meta layout) instead of HF's halves", nullptr),
      with(key(&O::ntk_alpha, "ntk_alpha", "NTK alpha; 0 uses factor", nullptr, 1.0, in, 1e6), "use factor", nullptr),
      hf_zero_is_unset(with(key(&O::beta_fast, "beta_fast",
                                "rotations over L0 where the ramp starts (fully extrapolated above)", "beta_fast", 0.0,
                                ex),
                            nullptr, "beta_slow")),
      hf_zero_is_unset(key(&O::beta_slow, "beta_slow", "rotations over L0 where the ramp ends (fully interpolated below)",
                           "beta_slow", 0.0, ex)),
      hf_zero_is_unset(key(&O::mscale, "mscale", "YaRN mscale (with mscale_all_dim: their ratio scales cos/sin)",
                           "mscale", 0.0, ex)),
      hf_zero_is_unset(key(&O::mscale_all_dim, "mscale_all_dim", "YaRN mscale_all_dim", "mscale_all_dim", 0.0, ex)),
      key(&O::attention_factor, "attention_factor", "cos/sin scale; unset: the method's formula", "attention_factor",
          0.0, ex),
      key(&O::truncate, "truncate", "floor/ceil the ramp's correction dims", "truncate"),
      key(&O::low_freq_factor, "low_freq_factor", "llama3: wavelengths above L0/low are divided by s",
          "low_freq_factor", 0.0, ex),
      with(key(&O::high_freq_factor, "high_freq_factor", "llama3: wavelengths below L0/high are kept",
               "high_freq_factor", 0.0, ex),
           nullptr, "low_freq_factor"),
      key(&O::short_factor, "short_factor", "longrope: d/2 divisors of the frequencies up to L0", "short_factor", 0.0,
          ex),
      key(&O::long_factor, "long_factor", "longrope: d/2 divisors of the frequencies beyond L0", "long_factor", 0.0,
          ex),
      key(&O::abf_theta, "abf_theta", "the new RoPE base replacing theta", nullptr, 1.0, ex),
      with(key(&O::eabf_context, "eabf_context", "c of the query scale max(1, ln(pos+1)/ln c); 0: L0", nullptr, 1.0,
               ex),
           "the original context", nullptr),
      key(&O::eabf_skip_layers, "skip_layers", "layers below this index keep unscaled queries", nullptr, 0.0, in,
          100000.0),
  };
  return keys;
}

const std::vector<std::string>& rope_common_keys() {
  static const std::vector<std::string> keys = {"theta", "factor", "original_max_position_embeddings",
                                                "interleaved"};
  return keys;
}

const RopeKey& find_rope_key(const std::string& name) {
  for (const auto& k : rope_option_keys())
    if (name == k.name) return k;
  fail("unknown RoPE option '{}'", name);
}

double RopeOptions::effective_theta() const { return this->*find_rope_method(type).base; }

int64_t RopeOptions::extended_context() const {
  return static_cast<int64_t>(static_cast<double>(original_max_position_embeddings) * factor);
}

double RopeOptions::query_scale_context() const {
  return eabf_context > 0.0 ? eabf_context : static_cast<double>(original_max_position_embeddings);
}

RopeOptions parse_rope_options(const ConfigNode& node, const RopeOptions& defaults) {
  RopeOptions o = defaults;
  o.type = node.get_choice("type", defaults.type, rope_method_names());
  // Every key is accepted for every method (an ablation changes `type` over one base section).
  for (const auto& k : rope_option_keys()) read_key(node, k, defaults, o);
  for (const auto& k : rope_option_keys()) {
    if (!k.greater_than) continue;
    const double other = value_of(o, find_rope_key(k.greater_than));
    if (!(value_of(o, k) > other)) node.reject(k.name, fmt::format("must be greater than {} ({})", k.greater_than, other));
  }
  node.check_no_unknown_keys();
  return o;
}

}  // namespace ctxext::rope
