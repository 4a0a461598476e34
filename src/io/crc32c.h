// CRC-32C (Castagnoli, the iSCSI/ext4/GCS checksum, RFC 3720 §B.4): the integrity check of the
// files a checkpoint's commit marker lists. SSE4.2's crc32 instruction where the CPU has it, else a
// slicing-by-8 table; both give the same value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace ctxext::io {

// The CRC-32C of `size` bytes following bytes whose CRC-32C is `previous` (0: none), so a file may
// be summed in pieces: crc32c(b, nb, crc32c(a, na)) == crc32c(a + b).
uint32_t crc32c(const void* data, size_t size, uint32_t previous = 0);

// The table-driven path alone (the hardware path is tested against it).
uint32_t crc32c_portable(const void* data, size_t size, uint32_t previous = 0);

struct FileChecksum {
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

// Reads `file` once, sequentially. Fails "<file>: cannot read (<reason>)" when it cannot.
FileChecksum file_crc32c(const std::filesystem::path& file);

}  // namespace ctxext::io
