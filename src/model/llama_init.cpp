#include "model/llama_init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace ctxext::model {

void init_llama_weights(LlamaForCausalLMImpl& model, uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  // named_parameters() is ordered by registration, so the same seed gives the same weights.
  for (auto& item : model.named_parameters()) {
    auto& p = item.value();
    const std::string suffix = "norm.weight";  // input_layernorm, post_attention_layernorm, model.norm
    const auto& name = item.key();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      p.fill_(1.0);
      continue;
    }
    // Drawn in float32 on the CPU, then copied, so the values do not depend on dtype or device.
    auto values = torch::empty(p.sizes(), torch::kFloat32);
    values.normal_(0.0, std, generator);
    p.copy_(values);
  }
}

LlamaForCausalLM make_random_llama(const LlamaConfig& config, uint64_t seed, torch::Dtype dtype, double std) {
  LlamaForCausalLM model(config);
  init_llama_weights(*model, seed, std);
  model->to(dtype);
  return model;
}

}  // namespace ctxext::model
