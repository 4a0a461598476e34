// Device -> host copies that overlap the work still running on the device (train.offload: optimizer
// sends each reduced gradient bucket to the host this way while backward goes on).
// CUDA: an event recorded on the current stream marks the source's values as final; the copy is
// issued on a side stream from the pool after waiting for that event, into pinned host memory, and
// an event recorded behind it tells the host when the destination may be read. CPU: the copy is
// made at once — the same code path with a synchronous copy, so the CPU tests run it.
// At most max_in_flight copies are outstanding: starting one more first finishes the oldest, which
// bounds the device memory the pending sources hold.
#pragma once
#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <torch/types.h>

#include <deque>
#include <functional>
#include <optional>

namespace ctxext::train {

class HostCopyQueue {
 public:
  explicit HostCopyQueue(size_t max_in_flight = 2) : max_in_flight_(max_in_flight) {}
  ~HostCopyQueue();  // finishes what is in flight
  HostCopyQueue(const HostCopyQueue&) = delete;
  HostCopyQueue& operator=(const HostCopyQueue&) = delete;

  // Copies src (any device) into dst (host; pinned for the copy to be asynchronous; src's shape,
  // dtype), then calls done() on the calling thread once dst holds the values (in this call on the
  // CPU, else in a later start() or finish()). src stays referenced until then.
  // src: [n]; dst: [n]
  void start(torch::Tensor src, torch::Tensor dst, std::function<void()> done = {});
  // Waits for every started copy and runs their done() in the order they were started.
  void finish();

  size_t started() const { return started_; }  // copies started since construction

 private:
  struct Pending {
    torch::Tensor src, dst;
    std::optional<c10::Event> copied;  // CUDA: recorded on the side stream behind the copy
    std::function<void()> done;
  };
  void finish_oldest();

  size_t max_in_flight_;
  size_t started_ = 0;
  std::deque<Pending> pending_;
  std::optional<c10::Stream> side_;  // created on first use, on the source's device
};

}  // namespace ctxext::train
