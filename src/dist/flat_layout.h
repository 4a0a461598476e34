// Parameters laid end to end in one flat vector, padded with zeros so that it splits into
// world_size equal, contiguous shards: rank r owns elements [r * shard, (r + 1) * shard).
// The layout is what ZeRO-style sharding cuts; it depends only on the parameter sizes and order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ctxext::dist {

class FlatLayout {
 public:
  FlatLayout() = default;
  // numels: every parameter's element count, in the model's parameter order.
  FlatLayout(std::vector<int64_t> numels, int world_size);

  int64_t numel() const { return numel_; }                  // sum of the parameters
  int64_t padded_numel() const { return shard_numel_ * world_size_; }
  int64_t shard_numel() const { return shard_numel_; }
  int world_size() const { return world_size_; }
  int64_t shard_begin(int rank) const { return rank * shard_numel_; }
  int64_t offset(size_t parameter) const { return offsets_.at(parameter); }
  const std::vector<int64_t>& numels() const { return numels_; }

 private:
  std::vector<int64_t> numels_;
  std::vector<int64_t> offsets_;
  int64_t numel_ = 0;
  int64_t shard_numel_ = 0;
  int world_size_ = 1;
};

}  // namespace ctxext::dist
