#include "train/optimizer_state.h"

#include "core/error.h"

namespace ctxext::train {

std::map<std::string, torch::Tensor> adamw_state_tensors(const FusedAdamW& optimizer, const NamedTensors& params) {
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& s = optimizer.state(i);
    if (!s) continue;  // no step taken yet
    const auto& name = params[i].first;
    out["exp_avg." + name] = s->exp_avg;
    out["exp_avg_sq." + name] = s->exp_avg_sq;
    out["step." + name] = torch::tensor(s->step, torch::kInt64);
  }
  return out;
}

void load_adamw_state(FusedAdamW& optimizer, const NamedTensors& params,
                      const std::map<std::string, torch::Tensor>& state, const std::string& origin) {
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& [name, p] = params[i];
    const auto avg = state.find("exp_avg." + name);
    const auto avg_sq = state.find("exp_avg_sq." + name);
    const auto step = state.find("step." + name);
    if (avg == state.end() || avg_sq == state.end() || step == state.end())
      fail("{}: no optimizer state for parameter '{}'", origin, name);
    if (avg->second.sizes() != p.sizes() || avg_sq->second.sizes() != p.sizes())
      fail("{}: optimizer state for '{}' has shape {}, parameter has {}", origin, name,
           fmt::format("{}", fmt::join(avg->second.sizes(), "x")), fmt::format("{}", fmt::join(p.sizes(), "x")));
    optimizer.set_state(i, {avg->second, avg_sq->second, step->second.item<int64_t>()});
  }
}

}  // namespace ctxext::train
