// One training/evaluation sequence after tokenisation.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ctxext::data {

// Label of a position that carries no loss (prompt, padding); the value PyTorch's cross_entropy ignores.
inline constexpr int64_t kIgnoreIndex = -100;

// input_ids and labels have the same length and are aligned, not shifted: the loss compares the
// logits at t with labels[t + 1], as Hugging Face's LlamaForCausalLM does.
struct Sample {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;  // token id where the model is trained, kIgnoreIndex elsewhere
  std::string source;           // "file:line" of the record, "#k" appended for the k-th split piece

  int64_t size() const { return static_cast<int64_t>(input_ids.size()); }
  int64_t num_supervised() const {
    return std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l != kIgnoreIndex; });
  }
};

}  // namespace ctxext::data
