#include "model/kv_cache.h"

#include <torch/torch.h>

#include "core/error.h"

namespace ctxext::model {

KvCache::KvCache(int64_t num_layers) : layers_(static_cast<size_t>(num_layers)) {}

// k, v: [b, n_kv, s, h_d]
std::pair<torch::Tensor, torch::Tensor> KvCache::append(int64_t layer, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  if (layer < 0 || layer >= num_layers()) fail("KV cache: layer {} out of range [0, {})", layer, num_layers());
  auto& [keys, values] = layers_[static_cast<size_t>(layer)];
  if (keys.defined()) {
    keys = torch::cat({keys, k}, 2);
    values = torch::cat({values, v}, 2);
  } else {
    keys = k;
    values = v;
  }
  if (layer == num_layers() - 1) length_ = keys.size(2);
  return {keys, values};
}

void KvCache::clear() {
  for (auto& layer : layers_) layer = {};
  length_ = 0;
}

}  // namespace ctxext::model
