#include "dist/communicator.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "core/error.h"

namespace ctxext::dist {

namespace {

constexpr auto kHeartbeatPeriod = std::chrono::milliseconds(500);
constexpr auto kHeartbeatGrace = std::chrono::milliseconds(2500);  // no beat for this long: lost

std::string heartbeat_key(int rank) { return "ctxext/heartbeat/" + std::to_string(rank); }

// The first line of an exception text, at most 300 characters (c10 errors carry backtraces).
std::string short_reason(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  text = text.substr(0, text.find('\n'));
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

// The local address this host uses to reach `host`: the address gloo's transport binds, so that
// peers on other hosts can connect back (nothing assumes localhost). GLOO_SOCKET_IFNAME overrides.
std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr)
    fail("MASTER_ADDR '{}' does not resolve to an address", host);
  std::string address;
  const int fd = socket(found->ai_family, SOCK_DGRAM, 0);
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = local.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr);
    if (inet_ntop(local.ss_family, raw, text, sizeof(text))) address = text;
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  if (address.empty()) fail("no local network route to MASTER_ADDR {}:{}", host, port);
  return address;
}

}  // namespace

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> group;
  std::thread heartbeat;
  std::atomic<bool> stop{false};
  bool broken = false;  // a collective failed: the group is not torn down (its destructor may block)

  ~Impl() {
    stop = true;
    if (heartbeat.joinable()) heartbeat.join();
    if (broken) {  // a failed group may wait forever for its peers when destroyed: leave it to exit
      (void)group.release();
      (void)store.release();
    }
  }
};

Communicator::Communicator() = default;

Communicator::Communicator(const LaunchEnv& env, Backend backend, std::chrono::seconds timeout)
    : env_(env), backend_(backend), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  if (!env_.distributed()) return;
  const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);

  // Rendezvous: rank 0 serves the store unless torchrun's agent already does.
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(env_.master_port);
  store_options.isServer = env_.rank == 0 && !env_.agent_store;
  store_options.numWorkers = env_.world_size;
  store_options.waitWorkers = false;
  store_options.timeout = timeout_ms;
  try {
    // Keys of this attempt only: torchrun's agent store outlives a restarted attempt (as torch's
    // own init_process_group, which prefixes /worker/attempt_<n>).
    const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
    impl_->store = c10::make_intrusive<c10d::PrefixStore>(
        fmt::format("ctxext/attempt_{}", restart ? restart : "0"),
        c10::make_intrusive<c10d::TCPStore>(env_.master_addr, store_options));
  } catch (const std::exception& e) {
    if (store_options.isServer)
      fail("rank 0 cannot serve the rendezvous store on {} (MASTER_ADDR:MASTER_PORT): {}", env_.store_address(),
           short_reason(e));
    fail("rank {} cannot reach the rendezvous store at {} (MASTER_ADDR:MASTER_PORT) within {} s: {}", env_.rank,
         env_.store_address(), timeout.count(), short_reason(e));
  }

  // Heartbeats: a rank whose counter stops moving is named when a collective fails.
  impl_->store->set(heartbeat_key(env_.rank), std::string("0"));
  impl_->heartbeat = std::thread([impl = impl_.get(), rank = env_.rank, store = impl_->store->clone()] {
    int64_t beat = 0;
    while (!impl->stop.load()) {
      try {
        store->set(heartbeat_key(rank), std::to_string(++beat));
      } catch (const std::exception&) {
        return;  // the store is gone; the failing collective reports it
      }
      for (auto waited = std::chrono::milliseconds(0); waited < kHeartbeatPeriod && !impl->stop.load();
           waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  try {
    if (backend_ == Backend::gloo) {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout_ms);
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      options->devices.push_back(interface && *interface
                                     ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                     : c10d::ProcessGroupGloo::createDeviceForHostname(
                                           local_address_towards(env_.master_addr, env_.master_port)));
      options->threads = 1;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env_.rank, env_.world_size, options);
    } else {
#ifdef USE_C10D_NCCL
      c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(c10::Device(c10::kCUDA, env_.local_rank));
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout_ms;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env_.rank, env_.world_size, options);
#else
      fail("this ctxext was built against a LibTorch without NCCL: runtime.device cuda cannot run distributed");
#endif
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    impl_->broken = true;
    fail_collective("process group set-up", short_reason(e));
  }
  barrier("start-up (every rank joined)");
}

Communicator::~Communicator() = default;  // Impl stops the heartbeat

std::string Communicator::backend_name() const { return backend_ == Backend::gloo ? "gloo" : "nccl"; }

std::string Communicator::diagnose_lost_ranks() {
  try {
    auto store = impl_->store->clone();
    store->setTimeout(std::chrono::milliseconds(2000));
    auto read_beats = [&] {
      std::vector<std::string> beats;
      for (int r = 0; r < env_.world_size; ++r) {
        const auto key = heartbeat_key(r);
        if (!store->check({key})) { beats.emplace_back(); continue; }
        const auto bytes = store->get(key);
        beats.emplace_back(bytes.begin(), bytes.end());
      }
      return beats;
    };
    const auto before = read_beats();
    std::this_thread::sleep_for(kHeartbeatGrace);
    const auto after = read_beats();
    std::vector<int> lost;
    for (int r = 0; r < env_.world_size; ++r)
      if (r != env_.rank && (after[r].empty() || after[r] == before[r])) lost.push_back(r);
    if (lost.empty()) return "every rank still answers (a rank may have hung or failed with its own error)";
    return fmt::format("lost rank{} {} (no heartbeat for {:.1f} s: killed, crashed or exited)", lost.size() > 1 ? "s" : "",
                       fmt::join(lost, ", "), std::chrono::duration<double>(kHeartbeatGrace).count());
  } catch (const std::exception&) {
    return fmt::format("the rendezvous store at {} is unreachable: {} lost", env_.store_address(),
                       env_.agent_store ? "torchrun's agent" : "rank 0, which serves it, is");
  }
}

void Communicator::fail_collective(const char* what, const std::string& reason) {
  impl_->broken = true;
  fail("rank {}/{}: {} failed ({}): {}", env_.rank, env_.world_size, what, reason, diagnose_lost_ranks());
}

void Communicator::run_collective(const char* what, const std::function<void()>& launch_and_wait) {
  if (!distributed()) return;
  try {
    launch_and_wait();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail_collective(what, short_reason(e));
  }
}

void Communicator::all_reduce_sum(torch::Tensor& tensor, const char* what) {
  std::vector<at::Tensor> tensors{tensor};
  run_collective(what, [&] { impl_->group->allreduce(tensors, c10d::AllreduceOptions{})->wait(); });
}

PendingCollective Communicator::all_reduce_sum_async(torch::Tensor& tensor, const char* what) {
  if (!distributed()) return {};
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors{tensor};
  run_collective(what, [&] { work = impl_->group->allreduce(tensors, c10d::AllreduceOptions{}); });
  return PendingCollective([this, work, what] { run_collective(what, [&] { work->wait(); }); });
}

PendingCollective Communicator::all_gather_async(torch::Tensor& full, torch::Tensor& shard, const char* what) {
  if (!distributed()) {
    full.copy_(shard);
    return {};
  }
  c10::intrusive_ptr<c10d::Work> work;
  run_collective(what, [&] { work = impl_->group->_allgather_base(full, shard, c10d::AllgatherOptions{}); });
  return PendingCollective([this, work, what] { run_collective(what, [&] { work->wait(); }); });
}

void Communicator::reduce_scatter_sum(torch::Tensor& shard, torch::Tensor& full, const char* what) {
  if (!distributed()) {
    shard.copy_(full);
    return;
  }
  run_collective(what, [&] { impl_->group->_reduce_scatter_base(shard, full, c10d::ReduceScatterOptions{})->wait(); });
}

void Communicator::all_gather(torch::Tensor& full, torch::Tensor& shard, const char* what) {
  if (!distributed()) {
    full.copy_(shard);
    return;
  }
  run_collective(what, [&] { impl_->group->_allgather_base(full, shard, c10d::AllgatherOptions{})->wait(); });
}

void Communicator::broadcast(torch::Tensor& tensor, int root, const char* what) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  run_collective(what, [&] { impl_->group->broadcast(tensors, options)->wait(); });
}

void Communicator::barrier(const char* what) {
  run_collective(what, [&] { impl_->group->barrier(c10d::BarrierOptions{})->wait(); });
}

double Communicator::all_reduce_sum(double value, const char* what) {
  if (!distributed()) return value;
  auto t = torch::tensor({value}, torch::kFloat64);
  if (backend_ == Backend::nccl) t = t.to(torch::Device(torch::kCUDA, env_.local_rank));
  all_reduce_sum(t, what);
  return t.cpu().item<double>();
}

int64_t Communicator::all_reduce_sum(int64_t value, const char* what) {
  if (!distributed()) return value;
  auto t = torch::tensor({value}, torch::kInt64);
  if (backend_ == Backend::nccl) t = t.to(torch::Device(torch::kCUDA, env_.local_rank));
  all_reduce_sum(t, what);
  return t.cpu().item<int64_t>();
}

std::vector<std::string> Communicator::all_gather_strings(const std::string& value, const char* what) {
  if (!distributed()) return {value};
  const std::string prefix = fmt::format("ctxext/strings/{}/", sequence_++);
  std::vector<std::string> out;
  try {
    impl_->store->set(prefix + std::to_string(env_.rank), value);
    for (int r = 0; r < env_.world_size; ++r) {
      const auto bytes = impl_->store->get(prefix + std::to_string(r));  // waits up to the timeout
      out.emplace_back(bytes.begin(), bytes.end());
    }
  } catch (const std::exception& e) {
    fail_collective(what, short_reason(e));
  }
  return out;
}

std::string Communicator::broadcast_string(const std::string& value, int root, const char* what) {
  if (!distributed()) return value;
  const std::string key = fmt::format("ctxext/broadcast/{}", sequence_++);
  try {
    if (env_.rank == root) {
      impl_->store->set(key, value);
      return value;
    }
    const auto bytes = impl_->store->get(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    fail_collective(what, short_reason(e));
  }
}

}  // namespace ctxext::dist
