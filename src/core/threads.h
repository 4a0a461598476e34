// Intra-op thread count: LibTorch defaults to 1 on some builds, so it is always set explicitly.
#pragma once

namespace ctxext {

// requested <= 0 means all cores. Sets at::set_num_threads, logs and returns the number used.
int configure_threads(int requested);

}  // namespace ctxext
