// An allocator-level count of live CPU tensor memory: wraps c10's CPU allocator and tracks the
// bytes currently allocated and their peak. Installed at program start when CTXEXT_COUNT_ALLOC=1
// (off by default: every CPU allocation then pays one atomic add). Counts what ATen allocates for
// tensors, not what MKL/OpenMP or the heap allocate on their own (and not RSS).
#pragma once
#include <cstdint>

namespace ctxext::train::alloc_counter {

bool enabled();             // installed (CTXEXT_COUNT_ALLOC=1 at start-up)
int64_t current_bytes();    // live tensor bytes allocated through the counter
int64_t peak_bytes();       // the maximum of current_bytes() since start-up (or the last reset)
void reset_peak();          // peak := current

}  // namespace ctxext::train::alloc_counter
