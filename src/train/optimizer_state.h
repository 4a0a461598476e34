// AdamW moments by parameter name, so checkpoints store them as plain safetensors (deterministic,
// inspectable) rather than LibTorch's pickled archive.
#pragma once
#include <torch/optim/adamw.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ctxext::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// {"exp_avg.<name>", "exp_avg_sq.<name>", "step.<name>" (int64 scalar)} for every parameter with state.
std::map<std::string, torch::Tensor> adamw_state_tensors(const torch::optim::AdamW& optimizer, const NamedTensors& params);

// Restores what adamw_state_tensors wrote. `origin` names the file in errors (missing or misshaped
// moments).
void load_adamw_state(torch::optim::AdamW& optimizer, const NamedTensors& params,
                      const std::map<std::string, torch::Tensor>& state, const std::string& origin);

}  // namespace ctxext::train
