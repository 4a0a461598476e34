// AdamW (decoupled weight decay, no amsgrad) over a fixed list of fp32 tensors, stepped by LibTorch's
// fused kernel at::_fused_adamw_: one pass per tensor that reads param, grad, exp_avg, exp_avg_sq and
// writes the three updated ones (28 bytes per parameter, no temporaries), vectorised and parallel on
// CPU, one launch per tensor list on CUDA. LibTorch's C++ torch::optim::AdamW, which the trainer used
// before, runs nine elementwise passes (~92 bytes per parameter, two of them into fresh temporaries):
// on the CPU the fused step is ~3x faster (docs/perf.md "AdamW on CPU"; scripts/bench_adamw_cpu.py).
// Arithmetic: the same as torch::optim::AdamW except the first moment, formed as
// m + (1 - b1) * (g - m) with one fused multiply-add (exp_avg.lerp_, as torch.optim.AdamW) instead
// of m * b1 + (1 - b1) * g: results agree to a few ulps, not bitwise. The kernel's result for an
// element does not depend on where its tensor starts (tested), so a flat shard stepped in views
// and the same parameters stepped tensor by tensor give the same bits.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace ctxext::train {

struct AdamWSettings {
  double lr = 2e-5;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class FusedAdamW {
 public:
  // One tensor's state; created (zeros, step 0) at its first step.
  struct State {
    torch::Tensor exp_avg, exp_avg_sq;  // like the tensor
    int64_t step = 0;                   // steps taken
  };

  // params: fp32, contiguous, all on one device (the optimizer's; the step runs there).
  FusedAdamW(std::vector<torch::Tensor> params, const AdamWSettings& settings);

  // One step at `lr` of every tensor whose .grad is defined (the others and their state are left
  // alone, as torch::optim::AdamW does). Grads: the tensors' shapes, fp32.
  void step(double lr);

  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::optional<State>& state(size_t i) const { return states_.at(i); }
  void set_state(size_t i, State state);  // restore (checkpoints); shapes and dtype are checked

 private:
  std::vector<torch::Tensor> params_;
  std::vector<std::optional<State>> states_;
  AdamWSettings settings_;
};

}  // namespace ctxext::train
