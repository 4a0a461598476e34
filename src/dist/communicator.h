// The process group of a data-parallel job, on PyTorch's own c10d engine: a TCPStore for the
// rendezvous, ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA. Every collective ctxext uses goes
// through here with the job's timeout, and a failure becomes one line naming this rank, the
// collective and the ranks that stopped answering (each rank publishes a heartbeat in the store).
// A default-constructed Communicator is one process: every collective is the identity.
#pragma once
#include <torch/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/launch_env.h"

namespace ctxext::dist {

enum class Backend { gloo, nccl };

// A collective started without waiting: wait() completes it, failing like a blocking collective.
class PendingCollective {
 public:
  PendingCollective() = default;  // nothing to wait for
  explicit PendingCollective(std::function<void()> wait) : wait_(std::move(wait)) {}
  void wait() {
    if (wait_) std::exchange(wait_, nullptr)();
  }

 private:
  std::function<void()> wait_;
};

class Communicator {
 public:
  Communicator();  // one process
  // Joins the job `env` describes: connects to (or, as rank 0, serves) the store at
  // MASTER_ADDR:MASTER_PORT and builds the process group. Waits at most `timeout` for the others.
  Communicator(const LaunchEnv& env, Backend backend, std::chrono::seconds timeout);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  int local_rank() const { return env_.local_rank; }
  bool is_main() const { return env_.rank == 0; }
  bool distributed() const { return env_.world_size > 1; }
  std::string backend_name() const;

  // Collectives; `what` names the step in error messages. Tensors: contiguous, on the group's device.
  void all_reduce_sum(torch::Tensor& tensor, const char* what);
  // full: [world * n] -> shard: [n], this rank's slice of the sum over ranks.
  void reduce_scatter_sum(torch::Tensor& shard, torch::Tensor& full, const char* what);
  // shard: [n] -> full: [world * n], every rank's shard in rank order.
  void all_gather(torch::Tensor& full, torch::Tensor& shard, const char* what);
  void broadcast(torch::Tensor& tensor, int root, const char* what);
  // Started now, completed by wait(): communication that overlaps the computation after it.
  PendingCollective all_reduce_sum_async(torch::Tensor& tensor, const char* what);
  PendingCollective all_gather_async(torch::Tensor& full, torch::Tensor& shard, const char* what);
  void barrier(const char* what);
  double all_reduce_sum(double value, const char* what);
  int64_t all_reduce_sum(int64_t value, const char* what);

  // Small strings through the store (config text, a folder name). Same call order on every rank.
  std::vector<std::string> all_gather_strings(const std::string& value, const char* what);
  std::string broadcast_string(const std::string& value, int root, const char* what);

 private:
  struct Impl;
  void run_collective(const char* what, const std::function<void()>& launch_and_wait);
  [[noreturn]] void fail_collective(const char* what, const std::string& reason);
  std::string diagnose_lost_ranks();

  LaunchEnv env_;
  Backend backend_ = Backend::gloo;
  std::chrono::seconds timeout_{0};
  int64_t sequence_ = 0;  // numbers store keys so repeated exchanges never collide
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxext::dist
