// Results as JSON (machine-readable, one schema for the CLI and the ablation) and as Markdown tables.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/attention_entropy.h"
#include "eval/passkey.h"
#include "eval/sliding_perplexity.h"

namespace ctxext::eval {

nlohmann::json to_json(const SlidingPerplexity& r);   // {window, stride, windows, tokens, nll, ppl}
nlohmann::json to_json(const PasskeyCell& c);         // {length, depth, trials, correct, accuracy}
nlohmann::json to_json(const PasskeyTrial& t);        // {length, depth, trial, key, prompt_tokens, generated, success}
nlohmann::json to_json(const EntropyProbe& p);        // {length, samples, uniform: ln(length), per_layer, per_head}

// A GitHub-flavoured Markdown table; every row has header.size() cells.
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace ctxext::eval
