#include "data/length_policy.h"

#include "core/error.h"

namespace ctxext::data {
namespace {

Sample slice(const Sample& s, int64_t begin, int64_t end, const std::string& source) {
  return Sample{{s.input_ids.begin() + begin, s.input_ids.begin() + end},
                {s.labels.begin() + begin, s.labels.begin() + end}, source};
}

}  // namespace

std::vector<Sample> fit_to_length(std::vector<Sample> samples, int64_t max_seq_len, int64_t min_tokens,
                                  Overflow overflow, LengthStats* stats) {
  if (max_seq_len < 1) fail("max_seq_len must be at least 1, got {}", max_seq_len);
  LengthStats local;
  std::vector<Sample> pieces;
  for (auto& s : samples) {
    if (s.size() <= max_seq_len) {
      pieces.push_back(std::move(s));
    } else if (overflow == Overflow::truncate) {
      ++local.truncated;
      pieces.push_back(slice(s, 0, max_seq_len, s.source));
    } else {
      ++local.split;
      for (int64_t begin = 0, k = 0; begin < s.size(); begin += max_seq_len, ++k)
        pieces.push_back(slice(s, begin, std::min(begin + max_seq_len, s.size()), fmt::format("{}#{}", s.source, k)));
    }
  }
  std::vector<Sample> kept;
  for (auto& p : pieces) {
    if (p.size() < min_tokens) ++local.too_short;
    else if (p.num_supervised() == 0) ++local.unsupervised;
    else kept.push_back(std::move(p));
  }
  if (stats) *stats = local;
  return kept;
}

}  // namespace ctxext::data
