// Mixed precision: the model computes in bf16 while the optimizer updates fp32 master copies.
// With an fp32 model the masters are the parameters themselves (no copy, no extra memory).
#pragma once
#include <torch/types.h>

#include <vector>

#include "train/optimizer_state.h"

namespace ctxext::train {

class MasterWeights {
 public:
  explicit MasterWeights(const NamedTensors& model_params);

  const NamedTensors& masters() const { return masters_; }  // what the optimizer owns
  std::vector<torch::Tensor> master_tensors() const;
  bool separate() const { return separate_; }

  void grads_to_masters();  // master.grad = param.grad in fp32 (after backward)
  void masters_to_model();  // param = master rounded to the model dtype (after the step)

 private:
  NamedTensors model_params_;
  NamedTensors masters_;
  bool separate_ = false;
};

}  // namespace ctxext::train
