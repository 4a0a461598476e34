// file_kind: what a path is when it should be a regular file, for messages that say what to fix.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "core/file_kind.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;

TEST_CASE("file_kind names files, folders, devices, FIFOs and symlinks to them", "[file_kind]") {
  TempDir dir;
  write_text(dir / "f", "x");
  CHECK(file_kind(dir / "f") == "is a regular file");
  CHECK(file_kind(dir / "missing") == "does not exist");
  CHECK(file_kind(dir.path()) == "is not a regular file (a folder)");
  CHECK(file_kind("/dev/null") == "is not a regular file (a character device)");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK(file_kind(dir / "fifo") == "is not a regular file (a FIFO)");
  fs::create_symlink("/dev/null", dir / "null-link");
  CHECK(file_kind(dir / "null-link") == "is not a regular file (a character device, through the symlink to /dev/null)");
  fs::create_symlink(dir / "fifo", dir / "fifo-link");
  CHECK(file_kind(dir / "fifo-link") ==
        "is not a regular file (a FIFO, through the symlink to " + (dir / "fifo").string() + ")");
  fs::create_symlink(dir / "gone", dir / "broken");
  CHECK(file_kind(dir / "broken") == "is a broken symlink (the symlink to " + (dir / "gone").string() + ")");
  fs::create_symlink(dir / "f", dir / "file-link");
  CHECK(file_kind(dir / "file-link") == "is a regular file");
}
