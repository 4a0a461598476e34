// Atomic outputs: nothing half-written is ever visible, an uncommitted folder leaves no trace.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "io/atomic_folder.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> entries(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("write_file_atomic writes and replaces a file, leaving no temporary", "[atomic]") {
  TempDir dir;
  io::write_file_atomic(dir / "config.json", "{}\n");
  CHECK(read_text(dir / "config.json") == "{}\n");
  io::write_file_atomic(dir / "config.json", "{\"a\": 1}\n");
  CHECK(read_text(dir / "config.json") == "{\"a\": 1}\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"config.json"});
}

TEST_CASE("an AtomicFile destroyed before commit leaves nothing", "[atomic]") {
  TempDir dir;
  {
    io::AtomicFile f(dir / "x.bin");
    f.write("abc", 3);
  }
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("a file in a missing folder is reported", "[atomic]") {
  TempDir dir;
  CHECK_THROWS_WITH(io::write_file_atomic(dir / "missing" / "x.bin", "a"), Contains("missing/x.bin: cannot create"));
}

TEST_CASE("an AtomicFolder not committed leaves no final folder and no temporary", "[atomic]") {
  TempDir dir;
  {
    io::AtomicFolder folder(dir / "ckpt");
    CHECK(folder.path().parent_path() == dir.path());
    CHECK(folder.path().filename().string().rfind(".ckpt.tmp-", 0) == 0);
    write_text(folder.path() / "model.safetensors", "data");
    fs::create_directory(folder.path() / "sub");
    write_text(folder.path() / "sub" / "x", "y");
  }
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("a committed AtomicFolder is in place with its files and marker, no temporary left", "[atomic]") {
  TempDir dir;
  {
    io::AtomicFolder folder(dir / "runs" / "step-6");  // missing parents are created
    write_text(folder.path() / "model.safetensors", "data");
    CHECK_FALSE(fs::exists(dir / "runs" / "step-6"));
    folder.commit("COMPLETE");
    CHECK_THROWS_WITH(folder.commit("COMPLETE"), Contains("committed twice"));
  }
  CHECK(entries(dir / "runs") == std::vector<std::string>{"step-6"});
  CHECK(entries(dir / "runs" / "step-6") == std::vector<std::string>{"COMPLETE", "model.safetensors"});
  CHECK(read_text(dir / "runs" / "step-6" / "model.safetensors") == "data");
  CHECK(read_text(dir / "runs" / "step-6" / "COMPLETE").empty());
}

TEST_CASE("a commit marker holds the text it is given", "[atomic]") {
  TempDir dir;
  io::AtomicFolder folder(dir / "step-2");
  write_text(folder.path() / "a.bin", "a");
  folder.commit("COMMITTED", "{\"files\": {}}\n");
  CHECK(read_text(dir / "step-2" / "COMMITTED") == "{\"files\": {}}\n");
}

TEST_CASE("committing over an existing folder replaces it whole; an uncommitted one leaves it alone", "[atomic]") {
  TempDir dir;
  const auto final_path = dir / "export";
  fs::create_directory(final_path);
  write_text(final_path / "old.txt", "old");
  {
    io::AtomicFolder folder(final_path);
    write_text(folder.path() / "new.txt", "new");
  }
  CHECK(entries(final_path) == std::vector<std::string>{"old.txt"});
  {
    io::AtomicFolder folder(final_path);
    write_text(folder.path() / "new.txt", "new");
    folder.commit();
  }
  CHECK(entries(dir.path()) == std::vector<std::string>{"export"});
  CHECK(entries(final_path) == std::vector<std::string>{"new.txt"});
}

TEST_CASE("a trailing slash names the same folder", "[atomic]") {
  TempDir dir;
  io::AtomicFolder folder(dir.path().string() + "/out/");
  folder.commit();
  CHECK(fs::is_directory(dir / "out"));
  CHECK(entries(dir.path()) == std::vector<std::string>{"out"});
}

TEST_CASE("remove_tree removes a folder tree without following symlinks", "[atomic]") {
  TempDir dir;
  const auto keep = dir / "keep";
  fs::create_directory(keep);
  write_text(keep / "x", "x");
  fs::create_directories(dir / "tree" / "a" / "b");
  write_text(dir / "tree" / "a" / "b" / "f", "f");
  fs::create_directory_symlink(keep, dir / "tree" / "link");
  CHECK(io::remove_tree(dir / "tree"));
  CHECK_FALSE(fs::exists(dir / "tree"));
  CHECK(read_text(keep / "x") == "x");
  CHECK(io::remove_tree(dir / "missing"));
}
