// The passkey-retrieval prompt, character for character the one scripts/passkey_prompt.py defines
// (and data/README.md documents): PREFIX + FILLER x n_before + needle(key) + FILLER x n_after +
// QUESTION, expected continuation " {key}". Sized to a token budget by the number of fillers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace ctxext::eval {

inline constexpr const char* kPasskeyPrefix =
    "There is an important info hidden inside a lot of irrelevant text. "
    "Find it and memorize them. I will quiz you about the important information there.";
inline constexpr const char* kPasskeyFiller =
    " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
inline constexpr const char* kPasskeyQuestion = " What is the pass key? The pass key is";
inline constexpr int64_t kPasskeyKeyMin = 10000;
inline constexpr int64_t kPasskeyKeyMax = 99999;

// " The pass key is {key}. Remember it. {key} is the pass key."
std::string passkey_needle(int64_t key);
// " {key}"
std::string passkey_answer(int64_t key);
// Fillers before the needle: min(n, floor(depth * n + 0.5)); depth in [0, 1].
int64_t passkey_needle_index(double depth, int64_t n_fillers);
// The prompt text (no BOS).
std::string passkey_prompt_text(int64_t key, int64_t n_fillers, double depth);

// The key of one trial, a function of (seed, length, depth, trial) only, so a cell's prompts do
// not depend on which other cells the grid holds. Uniform in [kPasskeyKeyMin, kPasskeyKeyMax].
int64_t passkey_key(uint64_t seed, int64_t length, double depth, int64_t trial);

struct PasskeyPrompt {
  int64_t key = 0;
  int64_t n_fillers = 0;
  double depth = 0.0;
  std::string text;
  std::vector<int64_t> ids;  // BOS + tokens of text
};

// The prompt with the most fillers whose BOS + prompt + answer tokens fit `length`. Fails naming
// `length` when even zero fillers do not fit.
PasskeyPrompt build_passkey_prompt(const data::Tokenizer& tokenizer, int64_t key, double depth, int64_t length);

}  // namespace ctxext::eval
