// Where this process sits in a distributed job, read from the variables torchrun (and every
// torch.distributed launcher) sets: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT, and TORCHELASTIC_USE_AGENT_STORE (the agent already serves the store at
// MASTER_ADDR:MASTER_PORT, so rank 0 connects as a client instead of starting a server).
// Without WORLD_SIZE (or with WORLD_SIZE=1) the process runs alone, exactly as without a launcher.
#pragma once
#include <cstdint>
#include <string>

namespace ctxext::dist {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE=True

  bool distributed() const { return world_size > 1; }
  std::string store_address() const { return master_addr + ":" + std::to_string(master_port); }
};

// Reads the variables above from the environment. A variable that is set but malformed, or a
// multi-process job missing one, is an error naming the variable and its value.
LaunchEnv read_launch_env();

}  // namespace ctxext::dist
