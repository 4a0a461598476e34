// One writer per run folder (io/run_lock.h): a second lock is refused naming the holder, a lock file
// left by a dead process is taken over, and nothing of the lock stays once it is released.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "io/run_lock.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

// The pid of a process that has ended (reaped): what a killed holder leaves in its lock file.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

TEST_CASE("run lock: a second holder is refused naming the first one's pid and host", "[run_lock]") {
  TempDir dir;
  const std::string pid_and_host = "pid " + std::to_string(::getpid()) + " on host " + host_name();
  {
    io::RunLock first(dir / "run");
    CHECK(read_text(dir / "run" / io::kRunLockFile) == "pid " + std::to_string(::getpid()) + " host " + host_name() + "\n");
    // flock is per open file: a second open of the same file conflicts even inside one process.
    CHECK_THROWS_WITH(io::RunLock(dir / "run"),
                      Contains("another training run is writing this output_dir") && Contains(pid_and_host));
    CHECK(fs::exists(dir / "run" / io::kRunLockFile));  // the refusal leaves the holder's lock alone
  }
  CHECK_FALSE(fs::exists(dir / "run" / io::kRunLockFile));
  io::RunLock again(dir / "run");  // released: free again
}

TEST_CASE("run lock: a lock file left by a dead process is taken over", "[run_lock]") {
  TempDir dir;
  fs::create_directories(dir / "run");
  write_text(dir / "run" / io::kRunLockFile, "pid " + std::to_string(dead_pid()) + " host " + host_name() + "\n");
  write_text(dir / "run" / "metrics.jsonl", "");
  {
    io::RunLock lock(dir / "run");
    CHECK_THAT(read_text(dir / "run" / io::kRunLockFile), Contains("pid " + std::to_string(::getpid())));
  }
  CHECK_FALSE(fs::exists(dir / "run" / io::kRunLockFile));
  CHECK(fs::exists(dir / "run" / "metrics.jsonl"));  // the run's own files stay
}

TEST_CASE("run lock: a folder the lock created and nothing was written to is removed with it", "[run_lock]") {
  TempDir dir;
  { io::RunLock lock(dir / "a" / "run"); }
  CHECK_FALSE(fs::exists(dir / "a" / "run"));
  {
    io::RunLock lock(dir / "b");
    write_text(dir / "b" / "metrics.jsonl", "");
  }
  CHECK(fs::exists(dir / "b" / "metrics.jsonl"));
  CHECK_FALSE(fs::exists(dir / "b" / io::kRunLockFile));
}
