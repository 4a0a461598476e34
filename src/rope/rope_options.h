// RoPE method options: the YAML `rope:` section, also filled from an HF config.json.
// Formulas: docs/rope.md. d = head dim, L0 = original context, s = factor.
// Every key is described once, in rope_option_keys() (rope_options.cpp): its type, range, help and
// HF name; each method names the keys it uses (rope/<method>.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace ctxext::rope {

struct RopeOptions {
  // The method's registry name (rope_method_names()), validated at parse time. A name, not an enum: the
  // methods are an open set (one file + one registry line each, docs/architecture.md), and the name is
  // what YAML, config.json and checkpoints carry; code that needs the method asks find_rope_method(type).
  std::string type = "none";
  double theta = 10000.0;     // the checkpoint's rope_theta (base of the frequencies)
  double factor = 1.0;        // s = extended context / original context
  int64_t original_max_position_embeddings = 4096;  // L0
  bool interleaved = false;   // false: HF "rotate_half" halves; true: Meta's adjacent pairs

  double ntk_alpha = 0.0;     // ntk: 0 means "use factor"

  // yarn (HF semantics); ntk_by_parts uses the betas and truncate
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<double> attention_factor;  // yarn, longrope
  bool truncate = true;

  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;

  // longrope: per-dimension divisors, d/2 each; long_factor once seq_len > L0
  std::vector<double> short_factor;
  std::vector<double> long_factor;

  // abf / eabf: the new base replaces theta
  double abf_theta = 500000.0;
  // eabf: query *= max(1, ln(pos+1) / ln(c)) in layers >= skip_layers
  double eabf_context = 0.0;     // c; 0: the original context L0
  int64_t eabf_skip_layers = 2;  // paper: 2; the official code's actual behaviour: 0 (docs/rope.md)

  // The base the method's frequencies start from: abf_theta for abf/eabf, theta otherwise
  // (the registry's RopeMethod::base).
  double effective_theta() const;
  // The context the extended model is meant for: L0 * factor.
  int64_t extended_context() const;
  // EABF's c: eabf_context, or L0 when it is 0.
  double query_scale_context() const;
};

// One key of the `rope:` section (also a "ctxext_rope" key, and an HF key where hf_name is set).
struct RopeKey {
  enum class Kind { number, integer, boolean, optional_number, number_list };
  enum class Lower { inclusive, exclusive };
  const char* name = nullptr;     // YAML key
  Kind kind = Kind::number;
  const char* help = nullptr;     // one line: what it means
  const char* hf_name = nullptr;  // key in HF's rope_parameters / rope_scaling; nullptr: none
  double min = 0.0;         // range of a number, integer or list element
  Lower lower = Lower::inclusive;
  double max = 1e12;
  const char* zero_means = nullptr;  // 0 is allowed besides the range, meaning this
  const char* greater_than = nullptr;  // must exceed this other key's value
  bool hf_zero_is_unset = false;       // HF reads `value or default`: 0 in config.json means unset
  // Where the value lives: exactly one of these, by kind.
  double RopeOptions::*number = nullptr;
  int64_t RopeOptions::*integer = nullptr;
  bool RopeOptions::*boolean = nullptr;
  std::optional<double> RopeOptions::*optional_number = nullptr;
  std::vector<double> RopeOptions::*number_list = nullptr;

  // "" when v is allowed, else the reason ("must be greater than 1").
  std::string check(double v) const;
  // The default (RopeOptions{}) as text for help and docs.
  std::string default_text() const;
};

// Every key but `type`, in a fixed order; rope_common_keys() apply to every method.
const std::vector<RopeKey>& rope_option_keys();
const std::vector<std::string>& rope_common_keys();
const RopeKey& find_rope_key(const std::string& name);

// Parses the `rope:` section over `defaults` (usually what the checkpoint's config.json says).
// Keys: `type` and rope_option_keys(). Unknown keys and bad values are errors naming key and reason.
RopeOptions parse_rope_options(const ConfigNode& node, const RopeOptions& defaults = {});

}  // namespace ctxext::rope
