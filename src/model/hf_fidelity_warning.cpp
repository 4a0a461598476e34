#include "model/hf_fidelity_warning.h"

#include "core/log.h"
#include "rope/rope_method.h"

namespace ctxext::model {

void warn_if_hf_frequencies_only(const LlamaConfig& config) {
  const auto& method = rope::find_rope_method(config.rope.type);
  if (method.hf.fidelity != rope::HfFidelity::frequencies_only) return;
  log::warn("{}: stock HF loaders compute only its frequencies (rope_theta {}); ctxext reads \"ctxext_rope\" and "
            "applies the rest (docs/hf_interop.md)",
            method.name, method.hf_theta(config.rope, config.resolved_head_dim()));
}

}  // namespace ctxext::model
