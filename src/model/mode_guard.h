// Train/eval mode for one scope: the guard sets a module's mode and gives back the mode it had when
// the scope ends, also when an exception leaves it (an evaluation that fails half-way must not
// leave a training model in eval mode).
#pragma once
#include <torch/nn/module.h>

namespace ctxext::model {

class ModeGuard {
 public:
  // training: the mode inside the scope (false: eval, as every evaluation runs).
  ModeGuard(torch::nn::Module& module, bool training) : module_(module), was_training_(module.is_training()) {
    module_.train(training);
  }
  ~ModeGuard() { module_.train(was_training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace ctxext::model
