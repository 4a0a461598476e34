// Starts the ranks of a data-parallel job the way torchrun does (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT in each process's environment), all at once, and
// waits for every one, each bounded by `timeout_s` (SIGKILL after it), so a hung job fails the test
// instead of blocking it.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace ctxext::testing {

// A TCP port the kernel just handed out on 127.0.0.1 (free at that moment).
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

struct RankResult {
  int exit_code = -1;  // -1: killed by a signal (or not run)
  std::string log;     // its stdout and stderr
};

// One job: `ctxext <args>` as ranks 0..world-1. Per rank, optionally: environment assignments
// ("CTXEXT_FAULT=after-step-3"), extra arguments, a command prefix ("ip netns exec host-b").
struct RankJob {
  int world = 2;
  std::vector<std::string> args;
  fs::path log_dir;  // rank r writes <log_dir>/rank-<r>.log
  std::map<int, std::string> env, extra_args, prefix;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free port on 127.0.0.1
  int timeout_s = 120;
};

inline std::vector<RankResult> run_ranks(const RankJob& job) {
  const int port = job.master_port > 0 ? job.master_port : free_port();
  auto get = [](const std::map<int, std::string>& m, int r) { return m.count(r) ? m.at(r) + " " : std::string(); };
  std::string script;
  for (int r = 0; r < job.world; ++r) {
    std::string line = "RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) +
                       " WORLD_SIZE=" + std::to_string(job.world) + " LOCAL_WORLD_SIZE=" + std::to_string(job.world) +
                       " MASTER_ADDR=" + job.master_addr + " MASTER_PORT=" + std::to_string(port) + " " +
                       get(job.env, r) + get(job.prefix, r) + "timeout -s KILL " + std::to_string(job.timeout_s) +
                       " " + shell_quote(std::getenv("CTXEXT_BIN"));
    for (const auto& a : job.args) line += " " + shell_quote(a);
    line += " " + get(job.extra_args, r);
    line += "> " + shell_quote((job.log_dir / ("rank-" + std::to_string(r) + ".log")).string()) + " 2>&1 & pid" +
            std::to_string(r) + "=$!\n";
    script += line;
  }
  for (int r = 0; r < job.world; ++r)
    script += "wait $pid" + std::to_string(r) + "; echo \"rank " + std::to_string(r) + " exit $?\"\n";
  const auto done = run_command(script);
  std::vector<RankResult> results(job.world);
  for (int r = 0; r < job.world; ++r) {
    const std::string key = "rank " + std::to_string(r) + " exit ";
    const auto at = done.output.find(key);
    if (at != std::string::npos) {
      const int code = std::atoi(done.output.c_str() + at + key.size());
      results[r].exit_code = code >= 128 ? -1 : code;  // 128 + signal: killed
    }
    results[r].log = read_text(job.log_dir / ("rank-" + std::to_string(r) + ".log"));
  }
  return results;
}

// The common case: `world` ranks on this host.
inline std::vector<RankResult> run_ranks(int world, const std::vector<std::string>& args, const fs::path& log_dir,
                                         const std::map<int, std::string>& env = {},
                                         const std::map<int, std::string>& extra_args = {}) {
  RankJob job;
  job.world = world;
  job.args = args;
  job.log_dir = log_dir;
  job.env = env;
  job.extra_args = extra_args;
  return run_ranks(job);
}

}  // namespace ctxext::testing
