#include "train/alloc_counter.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace ctxext::train::alloc_counter {

namespace {

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};
bool g_enabled = false;

// Delegates to the allocator it replaces. The DataPtr it returns has context == data (a "simple"
// data pointer, as the default CPU allocator's are): LibTorch asserts that on some paths (the CPU
// bf16 matmul did, with a context object here). The inner DataPtr and the size are kept in a table
// keyed by the data address until the tensor's storage is freed.
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* inner) : inner_(inner) {}

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr inner = inner_->allocate(n);
    void* data = inner.get();
    if (data == nullptr) return inner;  // zero bytes: nothing to count, no address to key on
    {
      std::lock_guard<std::mutex> lock(mutex());
      live().emplace(data, Held{std::move(inner), static_cast<int64_t>(n)});
    }
    const int64_t now = g_current.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
    for (int64_t peak = g_peak.load(); now > peak && !g_peak.compare_exchange_weak(peak, now);) {
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }

 private:
  struct Held {
    c10::DataPtr inner;  // frees the memory through the replaced allocator when destroyed
    int64_t bytes = 0;
  };
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::unordered_map<void*, Held>& live() {
    static auto* table = new std::unordered_map<void*, Held>();  // never destroyed: frees may come at exit
    return *table;
  }
  static void release(void* data) {
    Held held;
    {
      std::lock_guard<std::mutex> lock(mutex());
      auto it = live().find(data);
      if (it == live().end()) return;
      held = std::move(it->second);
      live().erase(it);
    }
    g_current.fetch_sub(held.bytes);
  }  // held.inner frees the memory here, outside the lock
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

}  // namespace ctxext::train::alloc_counter
