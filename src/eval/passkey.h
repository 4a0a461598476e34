// Passkey retrieval: for every (length, depth) cell, `trials` seeded prompts (passkey_prompt.h);
// the model decodes greedily with a KV cache and a trial succeeds when the generated text, with
// leading whitespace removed, starts with the key's digits. That is LongLoRA's / Landmark's
// criterion (the generated answer tokens equal the tokens of " {key}") stated on text, so it does
// not depend on how the tokenizer happens to split the number; what follows the digits (".",
// more text) is ignored.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "model/llama_model.h"

namespace ctxext::eval {

struct PasskeyOptions {
  std::vector<int64_t> lengths;   // target lengths in tokens (BOS + prompt + answer fit)
  std::vector<double> depths;     // needle depth in [0, 1]
  int64_t trials = 5;             // prompts per cell, each with its own key
  uint64_t seed = 0;
  int64_t max_new_tokens = 8;     // >= 6: a 5-digit key takes up to 6 pieces with a leading space
};

struct PasskeyTrial {
  int64_t length = 0;        // the cell's target length
  double depth = 0.0;
  int64_t trial = 0;
  int64_t key = 0;
  int64_t prompt_tokens = 0; // BOS + prompt
  std::string generated;     // decoded new tokens
  bool success = false;
};

struct PasskeyCell {
  int64_t length = 0;
  double depth = 0.0;
  int64_t trials = 0;
  int64_t correct = 0;
  double accuracy() const { return trials > 0 ? static_cast<double>(correct) / static_cast<double>(trials) : 0.0; }
};

struct PasskeyReport {
  std::vector<PasskeyTrial> trials;  // length-major, then depth, then trial
  std::vector<PasskeyCell> cells;    // length-major, then depth
};

// The success criterion above.
bool passkey_success(const std::string& generated, int64_t key);

// Fails on an empty grid, trials < 1, max_new_tokens < 6 or a depth outside [0, 1]; lengths are
// the caller's to bound (eval_limits.h). `on_trial(done, total)` reports progress.
PasskeyReport run_passkey(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer, const PasskeyOptions& options,
                          const std::function<void(int64_t, int64_t)>& on_trial = {});

}  // namespace ctxext::eval
