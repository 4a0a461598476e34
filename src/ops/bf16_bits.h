// bfloat16 <-> float32 on the bits, for CPU loops the compiler should vectorise (c10::BFloat16's own
// conversions branch on NaN and do not vectorise). Widening is a shift; narrowing rounds to nearest
// even with NaN -> 0x7FC0, exactly as c10::BFloat16(float) does (tested against it in test_swiglu).
#pragma once
#include <cstdint>
#include <cstring>

namespace ctxext::ops {

[[gnu::always_inline]] inline float bf16_bits_to_float(uint16_t bits) {
  const uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof(f));
  return f;
}

[[gnu::always_inline]] inline uint16_t float_to_bf16_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  // NaN tested on the bits, so the test survives callers compiled with finite-math-only.
  return (bits & 0x7FFFFFFFu) > 0x7F800000u ? uint16_t(0x7FC0) : uint16_t(rounded);
}

}  // namespace ctxext::ops
