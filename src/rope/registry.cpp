// The RoPE method registry: one line per method in CTXEXT_ROPE_METHODS; each method is described
// completely in rope/<method>.cpp.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "rope/rope_method.h"
#include "rope/rope_method_functions.h"

// X(name): `const RopeMethod& methods::name()` is defined in rope/<name>.cpp.
#define CTXEXT_ROPE_METHODS(X) \
  X(none)                      \
  X(pi)                        \
  X(ntk)                       \
  X(dynamic_ntk)               \
  X(yarn)                      \
  X(llama3)                    \
  X(abf)                       \
  X(eabf)                      \
  X(ntk_by_parts)              \
  X(longrope)                  \
  /* one line per method, above */

namespace ctxext::rope {

namespace methods {
#define CTXEXT_DECLARE_ROPE_METHOD(name) const RopeMethod& name();
CTXEXT_ROPE_METHODS(CTXEXT_DECLARE_ROPE_METHOD)
#undef CTXEXT_DECLARE_ROPE_METHOD
}  // namespace methods

namespace {

// The rope_option_keys() name of the method's base.
const char* base_key(const RopeMethod& m) {
  for (const auto& k : rope_option_keys())
    if (k.number == m.base) return k.name;
  fail("RoPE method '{}': its base is not a key of rope_option_keys()", m.name);
}

std::string hf_written(const RopeMethod& m) {
  std::string s = fmt::format("`{}`", m.hf.type);
  if (m.hf.theta) {
    s += ", rope_theta = the equivalent base";
  } else if (m.base != &RopeOptions::theta) {
    s += fmt::format(", rope_theta = `{}`", base_key(m));
  }
  for (const auto& [key, value] : m.hf.fixed) s += fmt::format(", {} {}", key, value);
  if (m.hf.fidelity == HfFidelity::frequencies_only) s += " (frequencies only; the rest in `ctxext_rope`)";
  return s;
}

}  // namespace

const std::vector<const RopeMethod*>& all_rope_methods() {
#define CTXEXT_LIST_ROPE_METHOD(name) &methods::name(),
  static const std::vector<const RopeMethod*> all = {CTXEXT_ROPE_METHODS(CTXEXT_LIST_ROPE_METHOD)};
#undef CTXEXT_LIST_ROPE_METHOD
  return all;
}

RopeMethod::RopeMethod(const char* name_, const char* description_, RopeFrequencyFn frequencies_, const char* hf_type)
    : name(name_), description(description_), frequencies(frequencies_) {
  hf.type = hf_type;
}

RopeMethod& RopeMethod::with_keys(std::vector<std::string> names) {
  keys = std::move(names);
  return *this;
}

RopeMethod& RopeMethod::with_base(double RopeOptions::*option) {
  base = option;
  return *this;
}

RopeMethod& RopeMethod::with_query_scale(QueryScaleFn fn) {
  query_scale = fn;
  return *this;
}

RopeMethod& RopeMethod::reads_hf(const char* hf_type, std::vector<const char*> required_keys) {
  hf.reads = hf_type;
  hf.required = std::move(required_keys);
  return *this;
}

std::vector<std::string> RopeMethod::all_keys() const {
  auto all = rope_common_keys();
  all.insert(all.end(), keys.begin(), keys.end());
  return all;
}

double RopeMethod::hf_theta(const RopeOptions& options, int64_t head_dim) const {
  return hf.theta ? hf.theta(options, head_dim) : options.*base;
}

std::vector<std::string> rope_method_names() {
  std::vector<std::string> names;
  for (const auto* m : all_rope_methods()) names.emplace_back(m->name);
  return names;
}

const RopeMethod& find_rope_method(const std::string& name) {
  for (const auto* m : all_rope_methods())
    if (name == m->name) return *m;
  fail("unknown RoPE method '{}' (known: {})", name, fmt::join(rope_method_names(), ", "));
}

const RopeMethod* find_rope_method_reading_hf(const std::string& hf_type) {
  for (const auto* m : all_rope_methods())
    if (m->hf.reads && hf_type == m->hf.reads) return m;
  return nullptr;
}

RopeFrequencies compute_rope_frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  // ntk and dynamic_ntk raise to d/(d-2), so d = 2 is meaningless for them; keep one rule for all.
  if (head_dim < 4 || head_dim % 2 != 0)
    fail("RoPE head_dim = {}: must be even and at least 4", head_dim);
  if (seq_len < 1) fail("RoPE seq_len = {}: must be at least 1", seq_len);
  return find_rope_method(options.type).frequencies(options, head_dim, seq_len);
}

std::string rope_methods_markdown() {
  std::string s =
      fmt::format("| `rope.type` | what it computes | keys (besides {}) | HF form written | read from HF type |\n"
                  "|---|---|---|---|---|\n",
                  fmt::join(rope_common_keys(), ", "));
  for (const auto* m : all_rope_methods()) {
    std::vector<std::string> keys;
    for (const auto& k : m->keys) keys.push_back("`" + k + "`");
    std::vector<std::string> implied;
    for (const auto& d : m->hf.read_defaults) implied.push_back(fmt::format("{} {}", d.key, d.value));
    const std::string reads =
        !m->hf.reads      ? "— (`ctxext_rope` only)"
        : implied.empty() ? fmt::format("`{}`", m->hf.reads)
                          : fmt::format("`{}`, implying {}", m->hf.reads, fmt::join(implied, ", "));
    s += fmt::format("| `{}` | {} | {} | {} | {} |\n", m->name, m->description,
                     keys.empty() ? "—" : fmt::format("{}", fmt::join(keys, ", ")), hf_written(*m), reads);
  }
  return s;
}

std::string rope_methods_help() {
  std::vector<std::string> parts;
  for (const auto* m : all_rope_methods()) parts.push_back(fmt::format("{} (HF {})", m->name, m->hf.type));
  return fmt::format("RoPE method replacing the checkpoint's: {}", fmt::join(parts, ", "));
}

std::string rope_keys_help() {
  std::vector<std::string> parts;
  for (const auto& k : rope_option_keys()) parts.push_back(fmt::format("{} (default {})", k.name, k.default_text()));
  return fmt::format("More RoPE options as KEY=VALUE, the keys of a config's rope: section: {}; repeatable",
                     fmt::join(parts, ", "));
}

}  // namespace ctxext::rope
