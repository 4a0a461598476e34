// Length policy (truncate / split / min_tokens), sample selection and the resumable epoch order.
#include <catch2/catch.hpp>

#include <numeric>
#include <set>

#include "data/length_policy.h"
#include "data/sample_selection.h"

using namespace ctxext::data;

namespace {

// ids 100..100+n-1; labels on the positions >= prompt.
Sample make_sample(int64_t n, int64_t prompt, const std::string& source) {
  Sample s;
  s.source = source;
  for (int64_t t = 0; t < n; ++t) {
    s.input_ids.push_back(100 + t);
    s.labels.push_back(t >= prompt ? 100 + t : kIgnoreIndex);
  }
  return s;
}

}  // namespace

TEST_CASE("truncate keeps the first max_seq_len tokens", "[data][length]") {
  LengthStats stats;
  const auto out = fit_to_length({make_sample(10, 2, "a"), make_sample(4, 0, "b")}, 6, 1, Overflow::truncate, &stats);
  REQUIRE(out.size() == 2);
  CHECK(out[0].input_ids == std::vector<int64_t>{100, 101, 102, 103, 104, 105});
  CHECK(out[0].labels == std::vector<int64_t>{kIgnoreIndex, kIgnoreIndex, 102, 103, 104, 105});
  CHECK(out[0].source == "a");
  CHECK(out[1].size() == 4);
  CHECK(stats.truncated == 1);
}

TEST_CASE("split cuts consecutive pieces and drops short or unsupervised ones", "[data][length]") {
  LengthStats stats;
  // 14 tokens, prompt 5 -> pieces [0,4) all prompt (dropped), [4,8), [8,12), [12,14) (2 < min 3: dropped)
  const auto out = fit_to_length({make_sample(14, 5, "f:1")}, 4, 3, Overflow::split, &stats);
  REQUIRE(out.size() == 2);
  CHECK(out[0].input_ids == std::vector<int64_t>{104, 105, 106, 107});
  CHECK(out[0].labels == std::vector<int64_t>{kIgnoreIndex, 105, 106, 107});
  CHECK(out[0].source == "f:1#1");
  CHECK(out[1].input_ids.front() == 108);
  CHECK(out[1].source == "f:1#2");
  CHECK(stats.split == 1);
  CHECK(stats.too_short == 1);
  CHECK(stats.unsupervised == 1);
}

TEST_CASE("min_tokens drops short samples", "[data][length]") {
  LengthStats stats;
  const auto out = fit_to_length({make_sample(3, 0, "a"), make_sample(5, 0, "b"), make_sample(2, 0, "c")}, 100, 4,
                                 Overflow::truncate, &stats);
  REQUIRE(out.size() == 1);
  CHECK(out[0].source == "b");
  CHECK(stats.too_short == 2);
}

TEST_CASE("select first and seeded random", "[data][selection]") {
  CHECK(select_samples(10, 3, Selection::first, 0) == std::vector<int64_t>{0, 1, 2});
  CHECK(select_samples(3, 0, Selection::first, 0) == std::vector<int64_t>{0, 1, 2});
  CHECK(select_samples(3, 10, Selection::random, 5) == std::vector<int64_t>{0, 1, 2});
  const auto a = select_samples(1000, 100, Selection::random, 42);
  CHECK(a == select_samples(1000, 100, Selection::random, 42));
  CHECK(a != select_samples(1000, 100, Selection::random, 43));
  CHECK(a.size() == 100);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::set<int64_t>(a.begin(), a.end()).size() == 100);
  CHECK(a != select_samples(1000, 100, Selection::first, 42));
  // Pinned values: std::mt19937_64 is fully specified, so these hold on every platform.
  CHECK(seeded_permutation(8, 1) == seeded_permutation(8, 1));
  const auto p = seeded_permutation(8, 1);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("sample order: a permutation per epoch, resumable from a position", "[data][selection]") {
  const SampleOrder order(5, 7, true);
  std::vector<int64_t> all = order.take(0, 15);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> e(all.begin() + 5 * epoch, all.begin() + 5 * epoch + 5);
    std::sort(e.begin(), e.end());
    CHECK(e == std::vector<int64_t>{0, 1, 2, 3, 4});
  }
  CHECK(std::vector<int64_t>(all.begin(), all.begin() + 5) != std::vector<int64_t>(all.begin() + 5, all.begin() + 10));
  // A fresh object (a resumed run) at position 7 continues exactly where the first left off.
  const SampleOrder resumed(5, 7, true);
  CHECK(resumed.take(7, 8) == std::vector<int64_t>(all.begin() + 7, all.end()));
  CHECK(resumed.epoch_of(7) == 1);
  CHECK(SampleOrder(5, 8, true).take(0, 15) != all);
  CHECK(SampleOrder(3, 7, false).take(2, 4) == std::vector<int64_t>{2, 0, 1, 2});
  CHECK_THROWS(SampleOrder(0, 1, true));
}
