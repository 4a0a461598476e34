// Predicted per-rank memory of one training step (`ctxext plan`), from the same arithmetic the
// trainer allocates by: the model states of the WeightUpdate strategy (train.sharding, train.offload),
// the activations the model keeps for backward (with or without activation checkpointing), the
// chunked loss, and the communication buffers. A pure function of shapes: no tensor is created.
//
// What is exact and what is estimated: model states, gradients, masters, moments, flat shards and
// collective buffers follow the code's allocations (exact up to the allocator's rounding); the
// activations saved by autograd follow the model's ops (counted per op in memory_plan.cpp); the
// backward temporaries of a layer and of the loss chunk are
// estimates (what ATen allocates inside a kernel is not visible from here). Checked against an
// allocator-level counter on CPU (docs/perf.md, "Memory planner").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/llama_config.h"
#include "train/train_options.h"

namespace ctxext::train {

struct MemoryPlanInput {
  model::LlamaConfig model;
  int64_t seq_len = 4096;        // tokens per sample (data.max_seq_len)
  int64_t micro_batch = 1;       // samples per forward/backward
  bool bf16 = true;              // compute dtype of weights and activations (else fp32)
  Sharding sharding = Sharding::none;
  bool offload_optimizer = false;
  bool activation_checkpointing = true;
  int64_t world_size = 1;
  bool cuda = true;              // false: the "device" is the CPU itself (setup needs no host copy)
  int64_t loss_chunk = 1024;     // positions per loss chunk (TrainRecipe's kLossChunk)
};

// Bytes on this rank at the moment the component is largest.
struct MemoryComponent {
  std::string name;
  double device = 0;
  double host = 0;
  bool estimate = false;  // an estimate rather than the code's exact allocation
};

// Everything live at the worst moment of one phase of a step.
struct MemoryPhase {
  std::string name;
  double device = 0;
  double host = 0;
};

struct MemoryPlan {
  int64_t parameters = 0;
  std::vector<MemoryComponent> components;
  std::vector<MemoryPhase> phases;  // setup, forward, loss backward, layer backward, optimizer step
  double device_peak = 0;           // max over phases
  double host_peak = 0;
  std::string device_peak_phase, host_peak_phase;
};

MemoryPlan plan_memory(const MemoryPlanInput& in);

}  // namespace ctxext::train
