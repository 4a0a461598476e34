#include "data/sample_selection.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/splitmix64.h"

namespace ctxext::data {
namespace {

// Uniform integer in [0, bound) by rejection: no modulo bias, no library-specific distribution.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do x = rng(); while (x >= limit);
  return x % bound;
}

// A distinct stream per (seed, epoch): splitmix64 of the pair (bit-identical to the former inline
// copy, which added the increment once more by hand).
uint64_t mix(uint64_t seed, uint64_t salt) { return splitmix64(seed + 0x9E3779B97F4A7C15ull * salt); }

}  // namespace

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[uniform_below(rng, static_cast<uint64_t>(i) + 1)]);
  return order;
}

std::vector<int64_t> select_samples(int64_t available, int64_t num_samples, Selection selection, uint64_t seed) {
  const int64_t n = (num_samples <= 0 || num_samples > available) ? available : num_samples;
  std::vector<int64_t> chosen;
  if (selection == Selection::first) {
    chosen.resize(n);
    std::iota(chosen.begin(), chosen.end(), 0);
  } else {
    chosen = seeded_permutation(available, mix(seed, UINT64_MAX));
    chosen.resize(n);
    std::sort(chosen.begin(), chosen.end());
  }
  return chosen;
}

SampleOrder::SampleOrder(int64_t num_samples, uint64_t seed, bool shuffle)
    : num_samples_(num_samples), seed_(seed), shuffle_(shuffle) {
  if (num_samples < 1) fail("the data set has no samples to train on");
}

int64_t SampleOrder::index_at(int64_t position) const {
  if (position < 0) fail("data position {} is negative", position);
  const int64_t within = position % num_samples_;
  if (!shuffle_) return within;
  const int64_t epoch = epoch_of(position);
  if (epoch != cached_epoch_) {
    cached_order_ = seeded_permutation(num_samples_, mix(seed_, static_cast<uint64_t>(epoch)));
    cached_epoch_ = epoch;
  }
  return cached_order_[within];
}

std::vector<int64_t> SampleOrder::take(int64_t position, int64_t count) const {
  std::vector<int64_t> out;
  out.reserve(count);
  for (int64_t p = position; p < position + count; ++p) out.push_back(index_at(p));
  return out;
}

}  // namespace ctxext::data
