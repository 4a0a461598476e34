#include "eval/sliding_perplexity.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/mode_guard.h"

namespace ctxext::eval {

int64_t sliding_window_count(int64_t n, int64_t window, int64_t stride) {
  int64_t count = 0;
  for (int64_t begin = 0; begin < n; begin += stride) {
    ++count;
    if (std::min(begin + window, n) == n) break;
  }
  return count;
}

// tokens: [n] int64
SlidingPerplexity sliding_perplexity(model::LlamaForCausalLMImpl& model, const torch::Tensor& tokens, int64_t window,
                                     int64_t stride, int64_t chunk,
                                     const std::function<void(int64_t, int64_t)>& on_window) {
  if (tokens.dim() != 1 || tokens.scalar_type() != torch::kInt64)
    fail("sliding perplexity: expected a 1-d int64 token tensor, got {}-d {}", tokens.dim(),
         c10::toString(tokens.scalar_type()));
  const int64_t n = tokens.size(0);
  if (n < 2) fail("sliding perplexity: {} tokens: at least 2 are needed", n);
  if (window < 2) fail("sliding perplexity: window = {}: must be at least 2", window);
  if (stride < 1 || stride > window)
    fail("sliding perplexity: stride = {}: must be in [1, window = {}]", stride, window);
  if (chunk < 1) fail("sliding perplexity: chunk = {}: must be at least 1", chunk);

  torch::InferenceMode inference;
  model::ModeGuard eval_mode(model, /*training=*/false);
  const auto device = model.model->embed_tokens->weight.device();
  const auto ids = tokens.to(device);
  const int64_t total_windows = sliding_window_count(n, window, stride);

  SlidingPerplexity result;
  result.window = window;
  result.stride = stride;
  double total = 0.0;  // float64: long streams lose no precision
  int64_t prev_end = 0;
  for (int64_t begin = 0; begin < n; begin += stride) {
    const int64_t end = std::min(begin + window, n);
    // Scored targets: stream positions [first, end); the window's first token has no prediction.
    const int64_t first = std::max(prev_end, begin + 1);
    const auto hidden = model.model(ids.slice(0, begin, end).unsqueeze(0)).squeeze(0);  // [end - begin, h]
    // Target t is predicted at window position t - 1 - begin.
    for (int64_t t0 = first; t0 < end; t0 += chunk) {
      const int64_t t1 = std::min(t0 + chunk, end);
      const auto logits = model.logits(hidden.slice(0, t0 - 1 - begin, t1 - 1 - begin));  // [c, vocab]
      total += torch::nn::functional::cross_entropy(
                   logits, ids.slice(0, t0, t1),
                   torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                   .to(torch::kFloat64)
                   .item<double>();
    }
    if (!std::isfinite(total))
      fail("perplexity with {}-token windows: the NLL is {} at window {} of {} (tokens {}..{}): the model's "
           "logits are not finite (check its weights for NaN/inf)",
           window, total, result.windows + 1, total_windows, begin, end - 1);
    result.tokens += end - first;
    ++result.windows;
    if (on_window) on_window(result.windows, total_windows);
    prev_end = end;
    if (end == n) break;
  }
  result.nll = total / static_cast<double>(result.tokens);
  result.ppl = std::exp(result.nll);
  return result;
}

}  // namespace ctxext::eval
