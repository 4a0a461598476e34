#include "core/threads.h"

#include <ATen/Parallel.h>

#include <thread>

#include "core/log.h"

namespace ctxext {

int configure_threads(int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = requested > 0 ? requested : cores;
  at::set_num_threads(threads);
  log::info("intra-op threads: {} ({} cores)", at::get_num_threads(), cores);
  return threads;
}

}  // namespace ctxext
