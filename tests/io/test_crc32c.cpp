// CRC-32C against the published check values (RFC 3720 §B.4 and the CRC catalogue's "123456789"),
// the hardware path against the table path, sums in pieces, and files.
#include <catch2/catch.hpp>

#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/crc32c.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {
uint32_t crc_of(const std::vector<uint8_t>& bytes) { return io::crc32c(bytes.data(), bytes.size()); }
}  // namespace

TEST_CASE("crc32c gives the published check values", "[crc32c]") {
  const std::string check = "123456789";
  CHECK(io::crc32c(check.data(), check.size()) == 0xE3069283u);
  CHECK(io::crc32c_portable(check.data(), check.size()) == 0xE3069283u);
  CHECK(io::crc32c("", 0) == 0u);
  // RFC 3720 B.4: 32 bytes of zeros, of ones, incrementing and decrementing.
  CHECK(crc_of(std::vector<uint8_t>(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc_of(std::vector<uint8_t>(32, 0xFF)) == 0x62A8AB43u);
  std::vector<uint8_t> up(32);
  std::iota(up.begin(), up.end(), uint8_t{0});
  CHECK(crc_of(up) == 0x46DD794Eu);
  std::vector<uint8_t> down(up.rbegin(), up.rend());
  CHECK(crc_of(down) == 0x113FDB5Cu);
}

TEST_CASE("crc32c: the hardware and table paths agree at every length and alignment; pieces chain", "[crc32c]") {
  std::mt19937 rng(7);
  std::vector<uint8_t> bytes(4099);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  for (size_t offset : {0, 1, 3, 7})
    for (size_t size : {0, 1, 7, 8, 9, 63, 64, 65, 4000}) {
      INFO("offset " << offset << " size " << size);
      CHECK(io::crc32c(bytes.data() + offset, size) == io::crc32c_portable(bytes.data() + offset, size));
    }
  const uint32_t whole = io::crc32c(bytes.data(), bytes.size());
  for (size_t cut : {0, 1, 13, 2048, 4098}) {
    CHECK(io::crc32c(bytes.data() + cut, bytes.size() - cut, io::crc32c(bytes.data(), cut)) == whole);
    CHECK(io::crc32c_portable(bytes.data() + cut, bytes.size() - cut, io::crc32c_portable(bytes.data(), cut)) == whole);
  }
  bytes[1000] ^= 0x10;  // one flipped bit changes the sum
  CHECK(io::crc32c(bytes.data(), bytes.size()) != whole);
}

TEST_CASE("file_crc32c sums a file larger than its read buffer; a missing file is named", "[crc32c]") {
  TempDir dir;
  std::string text(9u << 20, '\0');  // 9 MiB: three reads of the 4 MiB buffer
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 2654435761u >> 24);
  write_text(dir / "big.bin", text);
  const io::FileChecksum sum = io::file_crc32c(dir / "big.bin");
  CHECK(sum.bytes == text.size());
  CHECK(sum.crc32c == io::crc32c(text.data(), text.size()));
  write_text(dir / "check.txt", "123456789");
  CHECK(io::file_crc32c(dir / "check.txt").crc32c == 0xE3069283u);
  CHECK_THROWS_WITH(io::file_crc32c(dir / "missing.bin"), Contains("missing.bin: cannot read (No such file"));
}
