// AdamW moments by parameter name, so checkpoints store them as plain safetensors (deterministic,
// inspectable) rather than LibTorch's pickled archive.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/fused_adamw.h"

namespace ctxext::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// {"exp_avg.<name>", "exp_avg_sq.<name>", "step.<name>" (int64 scalar)} for every parameter with state.
// params: the optimizer's tensors in its order, with their names.
std::map<std::string, torch::Tensor> adamw_state_tensors(const FusedAdamW& optimizer, const NamedTensors& params);

// Restores what adamw_state_tensors wrote. `origin` names the file in errors (missing or misshaped
// moments).
void load_adamw_state(FusedAdamW& optimizer, const NamedTensors& params,
                      const std::map<std::string, torch::Tensor>& state, const std::string& origin);

}  // namespace ctxext::train
