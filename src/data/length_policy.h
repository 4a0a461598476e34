// Fitting samples to max_seq_len: cut after max_seq_len tokens (truncate) or cut into consecutive
// pieces of max_seq_len (split); then drop every piece shorter than min_tokens and every piece
// with no supervised token (a chat piece holding only prompt).
#pragma once
#include <cstdint>
#include <vector>

#include "data/sample.h"

namespace ctxext::data {

enum class Overflow { truncate, split };

struct LengthStats {
  int64_t truncated = 0;      // samples cut by truncate
  int64_t split = 0;          // samples cut into pieces by split
  int64_t too_short = 0;      // pieces dropped for min_tokens
  int64_t unsupervised = 0;   // pieces dropped for having no supervised token
};

std::vector<Sample> fit_to_length(std::vector<Sample> samples, int64_t max_seq_len, int64_t min_tokens,
                                  Overflow overflow, LengthStats* stats = nullptr);

}  // namespace ctxext::data
