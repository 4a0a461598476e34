#include "eval/passkey.h"

#include <fmt/format.h>

#include <cctype>

#include "core/error.h"
#include "eval/greedy_decode.h"
#include "eval/passkey_prompt.h"

namespace ctxext::eval {

bool passkey_success(const std::string& generated, int64_t key) {
  size_t start = 0;
  while (start < generated.size() && std::isspace(static_cast<unsigned char>(generated[start]))) ++start;
  const std::string digits = std::to_string(key);
  return generated.compare(start, digits.size(), digits) == 0;
}

PasskeyReport run_passkey(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer, const PasskeyOptions& options,
                          const std::function<void(int64_t, int64_t)>& on_trial) {
  if (options.lengths.empty() || options.depths.empty()) fail("passkey: the lengths and depths must not be empty");
  if (options.trials < 1) fail("passkey: trials = {}: must be at least 1", options.trials);
  if (options.max_new_tokens < 6)
    fail("passkey: max_new_tokens = {}: must be at least 6 (a 5-digit key with its space)", options.max_new_tokens);
  for (double depth : options.depths)
    if (!(depth >= 0.0 && depth <= 1.0)) fail("passkey: depth {}: must be in [0, 1]", depth);

  PasskeyReport report;
  const int64_t total = static_cast<int64_t>(options.lengths.size() * options.depths.size()) * options.trials;
  for (int64_t length : options.lengths) {
    for (double depth : options.depths) {
      PasskeyCell cell{length, depth, 0, 0};
      for (int64_t t = 0; t < options.trials; ++t) {
        const int64_t key = passkey_key(options.seed, length, depth, t);
        const auto prompt = build_passkey_prompt(tokenizer, key, depth, length);
        const auto decoded = greedy_decode(model, prompt.ids, options.max_new_tokens, tokenizer.eos_id());
        PasskeyTrial trial;
        trial.length = length;
        trial.depth = depth;
        trial.trial = t;
        trial.key = key;
        trial.prompt_tokens = static_cast<int64_t>(prompt.ids.size());
        std::vector<int64_t> text_ids;
        for (int64_t id : decoded.tokens)
          if (id != tokenizer.eos_id()) text_ids.push_back(id);
        trial.generated = tokenizer.decode(text_ids);
        trial.success = passkey_success(trial.generated, key);
        ++cell.trials;
        cell.correct += trial.success ? 1 : 0;
        report.trials.push_back(std::move(trial));
        if (on_trial) on_trial(static_cast<int64_t>(report.trials.size()), total);
      }
      report.cells.push_back(cell);
    }
  }
  return report;
}

}  // namespace ctxext::eval
