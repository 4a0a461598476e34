#include "dist/launch_env.h"

#include <cstdlib>
#include <limits>
#include <optional>

#include "core/error.h"

namespace ctxext::dist {

namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// A whole decimal integer in [min, max], else an error naming the variable.
int env_int(const char* name, const std::string& value, long min, long max) {
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || parsed < min || parsed > max)
    fail("environment variable {}='{}': expected an integer between {} and {}", name, value.substr(0, 64), min, max);
  return static_cast<int>(parsed);
}

int required_int(const char* name, long min, long max) {
  const auto value = env(name);
  if (!value) fail("environment variable {} is not set, but WORLD_SIZE > 1 asks for a distributed run "
                   "(start it with torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)", name);
  return env_int(name, *value, min, max);
}

}  // namespace

LaunchEnv read_launch_env() {
  LaunchEnv e;
  const auto world = env("WORLD_SIZE");
  if (!world) return e;
  e.world_size = env_int("WORLD_SIZE", *world, 1, 1 << 20);
  if (e.world_size == 1) return e;
  e.rank = required_int("RANK", 0, e.world_size - 1);
  const auto local_world = env("LOCAL_WORLD_SIZE");
  e.local_world_size = local_world ? env_int("LOCAL_WORLD_SIZE", *local_world, 1, e.world_size) : e.world_size;
  const auto local_rank = env("LOCAL_RANK");
  e.local_rank = local_rank ? env_int("LOCAL_RANK", *local_rank, 0, e.local_world_size - 1) : e.rank;
  const auto addr = env("MASTER_ADDR");
  if (!addr || addr->empty())
    fail("environment variable MASTER_ADDR is not set, but WORLD_SIZE={} asks for a distributed run "
         "(start it with torchrun)", e.world_size);
  e.master_addr = *addr;
  e.master_port = required_int("MASTER_PORT", 1, 65535);
  const auto agent = env("TORCHELASTIC_USE_AGENT_STORE");
  e.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
  return e;
}

}  // namespace ctxext::dist
