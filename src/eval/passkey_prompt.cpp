#include "eval/passkey_prompt.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/splitmix64.h"

namespace ctxext::eval {

std::string passkey_needle(int64_t key) {
  return fmt::format(" The pass key is {0}. Remember it. {0} is the pass key.", key);
}

std::string passkey_answer(int64_t key) { return fmt::format(" {}", key); }

int64_t passkey_needle_index(double depth, int64_t n_fillers) {
  if (!(depth >= 0.0 && depth <= 1.0)) fail("passkey depth {}: must be in [0, 1]", depth);
  return std::min(n_fillers, static_cast<int64_t>(std::floor(depth * static_cast<double>(n_fillers) + 0.5)));
}

std::string passkey_prompt_text(int64_t key, int64_t n_fillers, double depth) {
  const int64_t before = passkey_needle_index(depth, n_fillers);
  std::string text = kPasskeyPrefix;
  for (int64_t i = 0; i < before; ++i) text += kPasskeyFiller;
  text += passkey_needle(key);
  for (int64_t i = before; i < n_fillers; ++i) text += kPasskeyFiller;
  text += kPasskeyQuestion;
  return text;
}

int64_t passkey_key(uint64_t seed, int64_t length, double depth, int64_t trial) {
  uint64_t depth_bits = 0;
  std::memcpy(&depth_bits, &depth, sizeof depth);
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ static_cast<uint64_t>(length));
  h = splitmix64(h ^ depth_bits);
  h = splitmix64(h ^ static_cast<uint64_t>(trial));
  const uint64_t span = static_cast<uint64_t>(kPasskeyKeyMax - kPasskeyKeyMin + 1);
  return kPasskeyKeyMin + static_cast<int64_t>(h % span);  // modulo bias < 1e-14 for a 64-bit h
}

PasskeyPrompt build_passkey_prompt(const data::Tokenizer& tokenizer, int64_t key, double depth, int64_t length) {
  const auto tokens_for = [&](int64_t n) {
    const std::string text = passkey_prompt_text(key, n, depth);
    const auto prompt = tokenizer.encode_with_bos(text);
    const auto full = tokenizer.encode_with_bos(text + passkey_answer(key));
    return std::make_pair(static_cast<int64_t>(prompt.size()), static_cast<int64_t>(full.size()));
  };
  // A whitespace-splitting tokenizer makes the length affine in n: estimate from n = 0 and 1, then
  // step down until the exact encoding fits (covers tokenizers that merge across parts).
  const int64_t fixed = tokens_for(0).second;
  if (fixed > length)
    fail("passkey length {}: too short, the prompt without filler and its answer take {} tokens", length, fixed);
  const int64_t per_filler = std::max<int64_t>(1, tokens_for(1).second - fixed);
  int64_t n = (length - fixed) / per_filler;
  while (n > 0 && tokens_for(n).second > length) --n;

  PasskeyPrompt prompt;
  prompt.key = key;
  prompt.n_fillers = n;
  prompt.depth = depth;
  prompt.text = passkey_prompt_text(key, n, depth);
  prompt.ids = tokenizer.encode_with_bos(prompt.text);
  return prompt;
}

}  // namespace ctxext::eval
