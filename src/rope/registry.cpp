// The RoPE method registry: one line per method.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "rope/rope_method.h"
#include "rope/rope_method_functions.h"

namespace ctxext {

namespace {

constexpr RopeMethod kMethods[] = {
    // name          frequencies                   has_query_scale
    {"none",         rope_methods::none,           false},
    {"pi",           rope_methods::pi,             false},
    {"ntk",          rope_methods::ntk,            false},
    {"dynamic_ntk",  rope_methods::dynamic_ntk,    false},
    {"yarn",         rope_methods::yarn,           false},
    {"llama3",       rope_methods::llama3,         false},
    {"abf",          rope_methods::abf,            false},
    {"eabf",         rope_methods::eabf,           true},
};

}  // namespace

std::vector<std::string> rope_method_names() {
  std::vector<std::string> names;
  for (const auto& m : kMethods) names.emplace_back(m.name);
  return names;
}

const RopeMethod& find_rope_method(const std::string& name) {
  for (const auto& m : kMethods)
    if (name == m.name) return m;
  fail("unknown RoPE method '{}' (known: {})", name, fmt::join(rope_method_names(), ", "));
}

RopeFrequencies compute_rope_frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  // ntk and dynamic_ntk raise to d/(d-2), so d = 2 is meaningless for them; keep one rule for all.
  if (head_dim < 4 || head_dim % 2 != 0)
    fail("RoPE head_dim = {}: must be even and at least 4", head_dim);
  if (seq_len < 1) fail("RoPE seq_len = {}: must be at least 1", seq_len);
  return find_rope_method(options.type).frequencies(options, head_dim, seq_len);
}

}  // namespace ctxext
