#include "train/host_copy_queue.h"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include "core/error.h"

namespace ctxext::train {

HostCopyQueue::~HostCopyQueue() {
  try {
    finish();
  } catch (...) {
    // Unwinding from another error: the copies' results are not needed any more.
  }
}

void HostCopyQueue::start(torch::Tensor src, torch::Tensor dst, std::function<void()> done) {
  if (!dst.is_cpu() || src.sizes() != dst.sizes() || src.scalar_type() != dst.scalar_type())
    fail("offload: a gradient copy to the host needs a host destination of the source's shape and dtype");
  ++started_;
  if (src.is_cpu()) {
    dst.copy_(src);
    if (done) done();
    return;
  }
  while (pending_.size() >= max_in_flight_) finish_oldest();
  const c10::Device device = src.device();
  c10::impl::VirtualGuardImpl impl(device.type());
  if (!side_) side_ = impl.getStreamFromGlobalPool(device, /*isHighPriority=*/false);
  c10::Event produced(device.type());
  produced.record(impl.getStream(device));  // src is final once the current stream reaches here
  Pending p{std::move(src), std::move(dst), c10::Event(device.type()), std::move(done)};
  {
    c10::StreamGuard on_side(*side_);
    produced.block(*side_);
    p.dst.copy_(p.src, /*non_blocking=*/p.dst.is_pinned());
    p.copied->record(*side_);
  }
  pending_.push_back(std::move(p));
}

void HostCopyQueue::finish_oldest() {
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  if (p.copied) p.copied->synchronize();
  p.src = torch::Tensor();  // its device memory may be reused from here on
  if (p.done) p.done();
}

void HostCopyQueue::finish() {
  while (!pending_.empty()) finish_oldest();
}

}  // namespace ctxext::train
