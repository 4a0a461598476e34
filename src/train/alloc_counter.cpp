#include "train/alloc_counter.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace ctxext::alloc_counter {

namespace {

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};
bool g_enabled = false;

// Delegates to the allocator it replaces; each DataPtr carries the inner one and its size.
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* inner) : inner_(inner) {}

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr inner = inner_->allocate(n);
    void* data = inner.get();
    auto* held = new Held{std::move(inner), static_cast<int64_t>(n)};
    const int64_t now = g_current.fetch_add(held->bytes) + held->bytes;
    for (int64_t peak = g_peak.load(); now > peak && !g_peak.compare_exchange_weak(peak, now);) {
    }
    return {data, held, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }

 private:
  struct Held {
    c10::DataPtr inner;
    int64_t bytes;
  };
  static void release(void* context) {
    auto* held = static_cast<Held*>(context);
    g_current.fetch_sub(held->bytes);
    delete held;
  }
  c10::Allocator* inner_;
};

// Before main: every CPU tensor of the process goes through the counter.
const bool g_installed = [] {
  const char* flag = std::getenv("CTXEXT_COUNT_ALLOC");
  if (!flag || std::strcmp(flag, "1") != 0) return false;
  static CountingAllocator counter(c10::GetCPUAllocator());
  c10::SetCPUAllocator(&counter, /*priority=*/100);
  g_enabled = true;
  return true;
}();

}  // namespace

bool enabled() { return g_enabled; }
int64_t current_bytes() { return g_current.load(); }
int64_t peak_bytes() { return g_peak.load(); }
void reset_peak() { g_peak.store(g_current.load()); }

}  // namespace ctxext::alloc_counter
