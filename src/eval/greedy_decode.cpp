#include "eval/greedy_decode.h"

#include <torch/torch.h>

#include "core/error.h"
#include "model/mode_guard.h"

namespace ctxext::eval {

GreedyResult greedy_decode(model::LlamaForCausalLMImpl& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                           int64_t stop_id, bool keep_logits) {
  if (prompt.empty()) fail("greedy decoding: empty prompt");
  if (max_new_tokens < 1) fail("greedy decoding: max_new_tokens = {}: must be at least 1", max_new_tokens);
  torch::InferenceMode inference;
  model::ModeGuard eval_mode(model, /*training=*/false);
  const auto device = model.model->embed_tokens->weight.device();
  auto cache = model.make_cache();

  GreedyResult result;
  std::vector<torch::Tensor> kept;
  // The prompt's last position predicts the first new token; only it goes through lm_head.
  auto input = torch::tensor(prompt, torch::kInt64).to(device).unsqueeze(0);  // [1, s]
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    const auto hidden = model.model(input, &cache);                          // [1, s, h]
    const auto logits = model.logits(hidden.select(1, hidden.size(1) - 1));  // [1, vocab]
    const int64_t next = logits.argmax(-1).item<int64_t>();
    result.tokens.push_back(next);
    if (keep_logits) kept.push_back(logits.squeeze(0).cpu());
    if (next == stop_id) break;
    input = torch::full({1, 1}, next, torch::TensorOptions().dtype(torch::kInt64).device(device));
  }
  if (keep_logits) result.step_logits = torch::stack(kept);
  return result;
}

}  // namespace ctxext::eval
