#include "dist/flat_layout.h"

#include "core/error.h"

namespace ctxext::dist {

FlatLayout::FlatLayout(std::vector<int64_t> numels, int world_size) : numels_(std::move(numels)), world_size_(world_size) {
  if (world_size_ < 1) fail("flat layout: world size {} must be at least 1", world_size_);
  for (const int64_t n : numels_) {
    offsets_.push_back(numel_);
    numel_ += n;
  }
  shard_numel_ = (numel_ + world_size_ - 1) / world_size_;
}

}  // namespace ctxext::dist
