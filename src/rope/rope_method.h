// A RoPE method, completely described in one place: its keys, frequencies, optional query scale,
// base, HF config.json form and a one-line description. The rotation itself is shared (ops/rope.h).
//
// Adding a method: one file rope/<method>.cpp defining `const RopeMethod& <method>()`, one line in
// the list of rope/registry.cpp, one test. Parsing, HF export/import, `inspect`, `--help` and the
// docs table (rope_methods_markdown) all read the registry.
#pragma once
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "rope/rope_options.h"

namespace ctxext::rope {

struct RopeFrequencies {
  torch::Tensor inv_freq;         // [head_dim/2] float32, computed as HF computes it
  double attention_scaling = 1.0; // multiplies cos and sin (YaRN's mscale), else 1
};

// seq_len: the longest position + 1 being processed (dynamic_ntk and longrope depend on it).
using RopeFrequencyFn = RopeFrequencies (*)(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
// positions: [s] int64 -> [s] float32 query multiplier for one layer, or an undefined tensor.
using QueryScaleFn = torch::Tensor (*)(const RopeOptions& options, const torch::Tensor& positions, int64_t layer_index);
// The rope_theta HF computes the same frequencies from.
using HfThetaFn = double (*)(const RopeOptions& options, int64_t head_dim);

// How stock HF loaders see the method.
enum class HfFidelity {
  exact,            // stock transformers computes the same model from the HF keys alone
  frequencies_only  // stock loaders get the frequencies; the rest lives only in ctxext's "ctxext_rope" block
};

// A value an HF dialect implies when its file does not say, with the reason logged at load.
struct HfDialectDefault {
  const char* key;     // a rope_option_keys() name
  double value;
  const char* reason;  // "the authors' code scales every layer"
};

struct RopeHfForm {
  const char* type = nullptr;       // rope_type written: default | linear | dynamic | yarn | llama3 | longrope
  HfFidelity fidelity = HfFidelity::exact;
  const char* reads = nullptr;      // the HF type read as this method from the HF keys alone; nullptr: none
  HfThetaFn theta = nullptr;        // rope_theta written; nullptr: the method's base
  bool l0_is_max_position_embeddings = false;  // HF scales from max_position_embeddings (dynamic)
  std::vector<const char*> required;                  // HF keys a dict of this type must have
  std::vector<std::pair<const char*, double>> fixed;  // written constants (ntk_by_parts: attention_factor 1)
  std::vector<HfDialectDefault> read_defaults;        // implied when reading `reads` (the EABF authors')
  bool factor_from_context = false;  // no factor: max_position_embeddings / L0 (HF longrope)
};

struct RopeMethod {
  const char* name = nullptr;          // the YAML rope.type
  const char* description = nullptr;   // one line, for --help, inspect and docs
  RopeFrequencyFn frequencies = nullptr;
  QueryScaleFn query_scale = nullptr;  // nullptr: queries unscaled
  double RopeOptions::*base = &RopeOptions::theta;  // the option holding the base the frequencies start from
  std::vector<std::string> keys;   // rope_option_keys() names the method reads beyond rope_common_keys()
  RopeHfForm hf;

  // Builder, so a descriptor reads as one expression in rope/<method>.cpp.
  RopeMethod(const char* name, const char* description, RopeFrequencyFn frequencies, const char* hf_type);
  RopeMethod& with_keys(std::vector<std::string> names);
  RopeMethod& with_base(double RopeOptions::*option);
  RopeMethod& with_query_scale(QueryScaleFn fn);
  RopeMethod& reads_hf(const char* hf_type, std::vector<const char*> required_keys);

  // rope_common_keys() + keys.
  std::vector<std::string> all_keys() const;
  // The rope_theta written to config.json.
  double hf_theta(const RopeOptions& options, int64_t head_dim) const;
};

// The registry: every method by name. Unknown names throw ctxext::Error listing the known ones.
const std::vector<const RopeMethod*>& all_rope_methods();
const RopeMethod& find_rope_method(const std::string& name);
std::vector<std::string> rope_method_names();
// The method read from HF rope_type `hf_type` (RopeHfForm::reads), or nullptr.
const RopeMethod* find_rope_method_reading_hf(const std::string& hf_type);

// Shorthand for find_rope_method(options.type).frequencies(...), with head_dim and seq_len checked.
RopeFrequencies compute_rope_frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len);

// The methods table of docs/rope.md, generated from the registry.
std::string rope_methods_markdown();
// "none, pi, ..." with each method's HF type: the --rope-type help.
std::string rope_methods_help();
// The keys of the `rope:` section with default, range and help: the --rope help.
std::string rope_keys_help();

}  // namespace ctxext::rope
