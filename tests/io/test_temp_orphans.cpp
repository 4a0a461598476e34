// Temporaries of killed atomic writes (io/temp_orphans.h): removed when their writer's pid is gone,
// kept while it runs; other hidden files are never touched.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "io/atomic_folder.h"
#include "io/temp_orphans.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;

TEST_CASE("orphaned temporaries of dead writers are removed, those of live ones kept", "[atomic][orphans]") {
  TempDir dir;
  const fs::path checkpoints = dir / "checkpoints";
  fs::create_directories(checkpoints);
  // A real AtomicFolder whose process dies before commit (as under SIGKILL: no destructor runs).
  const pid_t writer = ::fork();
  if (writer == 0) {
    io::AtomicFolder folder(checkpoints / "step-4");
    std::FILE* f = std::fopen((folder.path() / "model.safetensors").c_str(), "w");
    if (f) std::fclose(f);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(writer, &status, 0);
  REQUIRE(WIFEXITED(status));
  fs::path orphan;  // ".step-4.tmp-<writer pid>-<n>"
  for (const auto& e : fs::directory_iterator(checkpoints)) orphan = e.path();
  REQUIRE(orphan.filename().string().rfind(".step-4.tmp-" + std::to_string(writer) + "-", 0) == 0);
  REQUIRE(fs::exists(orphan / "model.safetensors"));

  const fs::path live = checkpoints / (".step-6.tmp-" + std::to_string(::getpid()) + "-0");
  fs::create_directories(live);
  write_text(checkpoints / ".keep", "not a temporary");
  fs::create_directories(checkpoints / "step-2");

  const auto removed = io::remove_orphaned_temporaries(checkpoints);
  CHECK(removed == std::vector<fs::path>{orphan});
  CHECK_FALSE(fs::exists(orphan));
  CHECK(fs::exists(live));
  CHECK(fs::exists(checkpoints / ".keep"));
  CHECK(fs::exists(checkpoints / "step-2"));
  CHECK(io::remove_orphaned_temporaries(dir / "missing").empty());
}
