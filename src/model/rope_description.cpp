#include "model/rope_description.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "model/hf_rope.h"
#include "rope/rope_method.h"

namespace ctxext::model {

std::string describe_rope(const rope::RopeOptions& r) {
  const auto& m = rope::find_rope_method(r.type);
  std::string s = fmt::format("{} (HF rope_type \"{}\"{}): {}", m.name, m.hf.type,
                              m.hf.fidelity == rope::HfFidelity::exact ? "" : ", stock loaders get the frequencies only",
                              m.description);
  const auto block = ctxext_rope_json(r);
  for (const auto& key : m.all_keys()) {
    if (!block.contains(key)) continue;
    const auto& value = block.at(key);
    if (value.is_array()) {
      const auto values = value.get<std::vector<double>>();
      s += fmt::format("; {} {} values from {} to {}", key, values.size(),
                       values.empty() ? 0.0 : *std::min_element(values.begin(), values.end()),
                       values.empty() ? 0.0 : *std::max_element(values.begin(), values.end()));
    } else {
      s += fmt::format("; {} {}", key, value.dump());
    }
  }
  if (r.type != "none")
    s += fmt::format("; context {} -> {}", r.original_max_position_embeddings, r.extended_context());
  return s;
}

std::string describe_effective_rope(const rope::RopeOptions& r, int64_t head_dim) {
  const auto frequencies = rope::compute_rope_frequencies(r, head_dim, std::max<int64_t>(1, r.extended_context()));
  return fmt::format("base {}, cos/sin scale {:.6g} (head dim {})", r.effective_theta(), frequencies.attention_scaling,
                     head_dim);
}

}  // namespace ctxext::model
