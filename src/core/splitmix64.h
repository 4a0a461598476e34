// SplitMix64 (Steele, Lea, Flood 2014): a fixed, platform-independent 64-bit mixer. Used where a
// seed must give the same stream on every machine, unlike std::uniform_int_distribution.
#pragma once
#include <cstdint>

namespace ctxext {

constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace ctxext
