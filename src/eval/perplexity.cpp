#include "eval/perplexity.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace ctxext {

// tokens: [n] int64
PerplexityResult perplexity(LlamaForCausalLMImpl& model, const torch::Tensor& tokens, int64_t seq_len,
                            int64_t chunk) {
  if (tokens.dim() != 1 || tokens.scalar_type() != torch::kInt64)
    fail("perplexity: expected a 1-d int64 token tensor, got {}-d {}", tokens.dim(),
         c10::toString(tokens.scalar_type()));
  if (seq_len < 2) fail("perplexity: seq_len = {}: must be at least 2 (one token predicts the next)", seq_len);
  if (tokens.size(0) < seq_len)
    fail("perplexity: seq_len = {} but only {} tokens are available", seq_len, tokens.size(0));
  if (chunk < 1) fail("perplexity: chunk = {}: must be at least 1", chunk);

  torch::InferenceMode inference;
  const bool was_training = model.is_training();
  model.eval();
  const auto device = model.model->embed_tokens->weight.device();
  const auto ids = tokens.slice(0, 0, seq_len).to(device).unsqueeze(0);  // [1, seq_len]
  const auto hidden = model.model(ids).squeeze(0);                         // [seq_len, h]

  // Position t predicts token t + 1; summed in float64 so long sequences lose no precision.
  double total = 0.0;
  for (int64_t begin = 0; begin < seq_len - 1; begin += chunk) {
    const int64_t end = std::min(begin + chunk, seq_len - 1);
    const auto logits = model.logits(hidden.slice(0, begin, end));  // [c, vocab] float32
    const auto targets = ids.squeeze(0).slice(0, begin + 1, end + 1);
    total += torch::nn::functional::cross_entropy(
                 logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                 .to(torch::kFloat64)
                 .item<double>();
  }
  model.train(was_training);

  PerplexityResult result;
  result.tokens = seq_len - 1;
  result.nll = total / static_cast<double>(result.tokens);
  result.ppl = std::exp(result.nll);
  return result;
}

}  // namespace ctxext
