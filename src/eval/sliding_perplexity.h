// Strided (sliding-window) perplexity of a long token stream, the recipe of Hugging Face's
// "Perplexity of fixed-length models": windows of `window` tokens start every `stride` tokens;
// each scores only the tokens past the previous window's end (the others are context, label
// -100), until a window reaches the end of the stream. NLL is summed over the scored
// predictions and divided by their exact count. (The HF docs weight each window's mean loss by
// "valid labels - 1", which is exact for the first window and one short for the others; the
// exact count is used here and in the oracle test.)
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "model/llama_model.h"

namespace ctxext::eval {

struct SlidingPerplexity {
  int64_t window = 0;
  int64_t stride = 0;
  int64_t windows = 0;  // forward passes
  int64_t tokens = 0;   // scored predictions
  double nll = 0.0;     // mean NLL in nats
  double ppl = 0.0;     // exp(nll)
};

// tokens: [n] int64, n >= 2; window >= 2; 1 <= stride <= window. Logits are projected `chunk`
// positions at a time. `on_window(done, total)` is called after each window (progress). Runs in
// eval mode without autograd; fails naming the window when its NLL is not finite (NaN weights).
// With stride = window = n it is the plain perplexity of one forward pass over all n tokens.
SlidingPerplexity sliding_perplexity(model::LlamaForCausalLMImpl& model, const torch::Tensor& tokens, int64_t window,
                                     int64_t stride, int64_t chunk = 1024,
                                     const std::function<void(int64_t, int64_t)>& on_window = {});

// Number of windows sliding_perplexity runs for n tokens.
int64_t sliding_window_count(int64_t n, int64_t window, int64_t stride);

}  // namespace ctxext::eval
