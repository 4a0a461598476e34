// Damaging a file in place, as a disk or a careless edit would: for the checkpoint-integrity tests.
#pragma once
#include <filesystem>
#include <fstream>

namespace ctxext::testing {

// XORs the byte `from_end` bytes before the end of `file` with `mask`.
inline void flip_bits(const std::filesystem::path& file, std::streamoff from_end, char mask = 0x01) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ mask);
  f.seekp(-from_end, std::ios::end);
  f.write(&c, 1);
}

}  // namespace ctxext::testing
