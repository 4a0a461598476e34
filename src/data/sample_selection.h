// Which samples a run uses, and in which order it visits them.
//
// select_samples: the first N, or N drawn without replacement by a seeded shuffle, returned in
// file order. SampleOrder: the visiting order over epochs, a function of (seed, epoch) only, so a
// run resumes exactly from its data position = the number of samples consumed so far.
// Both use std::mt19937_64 (its output sequence is fixed by the C++ standard) and their own
// Fisher-Yates shuffle, so results are the same with every standard library.
#pragma once
#include <cstdint>
#include <vector>

namespace ctxext::data {

enum class Selection { first, random };

// Indices (ascending) of the selected samples among `available`; num_samples <= 0 or
// > available selects all.
std::vector<int64_t> select_samples(int64_t available, int64_t num_samples, Selection selection, uint64_t seed);

// A permutation of [0, n) drawn from `seed`.
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

class SampleOrder {
 public:
  // shuffle = false visits 0, 1, ..., n-1 every epoch.
  SampleOrder(int64_t num_samples, uint64_t seed, bool shuffle);

  int64_t num_samples() const { return num_samples_; }
  int64_t epoch_of(int64_t position) const { return position / num_samples_; }
  // The sample visited at `position` (samples consumed before it), across epochs.
  int64_t index_at(int64_t position) const;
  // The samples at positions [position, position + count).
  std::vector<int64_t> take(int64_t position, int64_t count) const;

 private:
  int64_t num_samples_;
  uint64_t seed_;
  bool shuffle_;
  mutable int64_t cached_epoch_ = -1;  // the permutation of the last epoch asked for
  mutable std::vector<int64_t> cached_order_;
};

}  // namespace ctxext::data
