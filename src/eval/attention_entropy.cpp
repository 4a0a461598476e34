#include "eval/attention_entropy.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "model/attention_probe.h"
#include "model/mode_guard.h"

namespace ctxext::eval {

// p: [..., s]
torch::Tensor entropy_nats(const torch::Tensor& p) {
  const auto p64 = p.to(torch::kFloat64);
  return -(p64 * torch::where(p64 > 0, p64.log(), torch::zeros_like(p64))).sum(-1);
}

// input_ids: [s]
EntropyProbe probe_attention_entropy(model::LlamaForCausalLMImpl& model, const torch::Tensor& input_ids) {
  if (input_ids.dim() != 1 || input_ids.size(0) < 1) fail("attention entropy: expected a non-empty 1-d token tensor");
  torch::InferenceMode inference;
  model::ModeGuard eval_mode(model, /*training=*/false);
  const auto device = model.model->embed_tokens->weight.device();
  const auto ids = input_ids.to(device).unsqueeze(0);  // [1, s]
  const int64_t s = ids.size(1);
  model::AttentionProbe request{{s - 1}, {}};  // the last query sees every key

  EntropyProbe probe;
  probe.length = s;
  probe.final_hidden = model.model(ids, nullptr, &request);
  for (size_t i = 0; i < request.probabilities.size(); ++i) {
    const auto h = entropy_nats(request.probabilities[i].select(1, 0)).cpu();  // [n_h]
    std::vector<double> heads(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
    for (double value : heads)
      if (!std::isfinite(value))
        fail("attention entropy at length {}: layer {} gives {}: the model's attention is not finite "
             "(check its weights for NaN/inf)", s, i, value);
    probe.per_layer.push_back(h.mean().item<double>());
    probe.per_head.push_back(std::move(heads));
  }
  return probe;
}

}  // namespace ctxext::eval
