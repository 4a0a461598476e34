// Keys and values of the positions already processed, per layer, for incremental decoding.
// Keys are stored after RoPE, so a cached position never needs re-rotating.
#pragma once
#include <torch/types.h>

#include <utility>
#include <vector>

namespace ctxext::model {

class KvCache {
 public:
  explicit KvCache(int64_t num_layers);

  // Positions cached so far (the absolute position of the next token).
  int64_t length() const { return length_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }

  // k, v: [b, n_kv, s, h_d] for `layer`; returns all keys/values of that layer [b, n_kv, t + s, h_d].
  // The layers append in order; the last one advances length() by s.
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

  void clear();

 private:
  std::vector<std::pair<torch::Tensor, torch::Tensor>> layers_;
  int64_t length_ = 0;
};

}  // namespace ctxext::model
