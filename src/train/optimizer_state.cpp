#include "train/optimizer_state.h"

#include "core/error.h"

namespace ctxext::train {

std::map<std::string, torch::Tensor> adamw_state_tensors(const torch::optim::AdamW& optimizer, const NamedTensors& params) {
  std::map<std::string, torch::Tensor> out;
  const auto& states = optimizer.state();
  for (const auto& [name, p] : params) {
    auto it = states.find(p.unsafeGetTensorImpl());
    if (it == states.end()) continue;  // no step taken yet
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    out["exp_avg." + name] = s.exp_avg();
    out["exp_avg_sq." + name] = s.exp_avg_sq();
    out["step." + name] = torch::tensor(s.step(), torch::kInt64);
  }
  return out;
}

void load_adamw_state(torch::optim::AdamW& optimizer, const NamedTensors& params,
                      const std::map<std::string, torch::Tensor>& state, const std::string& origin) {
  auto& states = optimizer.state();
  for (const auto& [name, p] : params) {
    const auto avg = state.find("exp_avg." + name);
    const auto avg_sq = state.find("exp_avg_sq." + name);
    const auto step = state.find("step." + name);
    if (avg == state.end() || avg_sq == state.end() || step == state.end())
      fail("{}: no optimizer state for parameter '{}'", origin, name);
    if (avg->second.sizes() != p.sizes() || avg_sq->second.sizes() != p.sizes())
      fail("{}: optimizer state for '{}' has shape {}, parameter has {}", origin, name,
           fmt::format("{}", fmt::join(avg->second.sizes(), "x")), fmt::format("{}", fmt::join(p.sizes(), "x")));
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    // clone(): the loaded tensors may be views of a memory-mapped file.
    s->exp_avg(avg->second.to(p.options()).clone());
    s->exp_avg_sq(avg_sq->second.to(p.options()).clone());
    s->step(step->second.item<int64_t>());
    states[p.unsafeGetTensorImpl()] = std::move(s);
  }
}

}  // namespace ctxext::train
