#include "train/fully_sharded_adamw.h"

#include <cmath>
#include <regex>

#include "train/sharded_adamw.h"

namespace ctxext::train {

FullyShardedAdamW::FullyShardedAdamW(model::LlamaForCausalLMImpl& model, dist::Communicator& comm,
                                     const AdamWSettings& settings, bool offload)
    : model_(model), comm_(comm), to_host_(offload ? std::make_unique<HostCopyQueue>() : nullptr) {
  // Units by name: "model.layers.<i>.*" -> 1 + i, everything else -> 0.
  const size_t layers = model.model->layers->size();
  std::vector<NamedTensors> grouped(1 + layers);
  static const std::regex layer_name("model\\.layers\\.([0-9]+)\\..*");
  for (const auto& item : model.named_parameters()) {
    std::smatch m;
    const std::string name = item.key();
    grouped[std::regex_match(name, m, layer_name) ? 1 + std::stoul(m[1]) : 0].emplace_back(name, item.value());
  }
  for (auto& params : grouped) {
    Unit unit;
    for (const auto& [name, p] : params) unit.shapes.push_back(p.sizes().vec());
    const torch::Device state_device = offload ? torch::Device(torch::kCPU) : params.front().second.device();
    unit.shard = std::make_unique<FlatShard>(params, comm, settings, state_device, to_host_.get());
    unit.whole = true;
    units_.push_back(std::move(unit));
  }
  for (auto& unit : units_) release(unit);

  auto hooks = std::make_shared<model::LayerHooks>();
  hooks->before_forward = [this](size_t i) {
    gather(units_[1 + i], "layer weight all-gather (forward)");
    if (2 + i < units_.size()) prefetch(2 + i, "layer weight all-gather (forward prefetch)");
  };
  hooks->after_forward = [this](size_t i, bool checkpointed) {
    if (checkpointed) release(units_[1 + i]);
  };
  hooks->before_backward = [this](size_t i) {
    gather(units_[1 + i], "layer weight all-gather (recompute)");
    if (i > 0) prefetch(i, "layer weight all-gather (recompute prefetch)");
  };
  hooks->after_backward = [this](size_t i) { reduce(units_[1 + i], "layer gradient reduce-scatter"); };
  model_.model->set_layer_hooks(hooks);
}

FullyShardedAdamW::~FullyShardedAdamW() { model_.model->set_layer_hooks(nullptr); }

void FullyShardedAdamW::prefetch(size_t index, const char* what) {
  Unit& unit = units_[index];
  if (!unit.whole && !unit.finish_prefetch) unit.finish_prefetch = unit.shard->start_all_gather_params(what);
}

void FullyShardedAdamW::gather(Unit& unit, const char* what) {
  if (unit.whole) return;
  const auto& params = unit.shard->params();
  for (size_t i = 0; i < params.size(); ++i) {
    auto p = params[i].second;
    p.set_data(torch::empty(unit.shapes[i], p.options()));
  }
  if (unit.finish_prefetch) std::exchange(unit.finish_prefetch, nullptr)();
  else unit.shard->all_gather_params(what);
  unit.whole = true;
}

void FullyShardedAdamW::release(Unit& unit) {
  if (!unit.whole) return;
  for (const auto& [name, p] : unit.shard->params()) {
    auto param = p;
    param.set_data(torch::empty({0}, p.options()));
  }
  unit.whole = false;
}

void FullyShardedAdamW::reduce(Unit& unit, const char* what) {
  unit.shard->start_reduce_scatter_grads(/*accumulate=*/true, what);  // waited for in reduce_gradients
  for (const auto& [name, p] : unit.shard->params()) {
    auto param = p;
    param.mutable_grad() = torch::Tensor();
  }
  release(unit);
}

void FullyShardedAdamW::begin_micro_batch(bool) {
  if (!step_open_) {  // the first micro-batch of a step: its gradient sums start from zero
    for (auto& unit : units_) unit.shard->zero_grad();
    step_open_ = true;
  }
  gather(units_[0], "embedding/head weight all-gather");
}

void FullyShardedAdamW::end_micro_batch() {
  // What backward did not hand over layer by layer: the embedding/head unit, and every layer
  // that ran without activation checkpointing.
  for (size_t i = 1; i < units_.size(); ++i)
    if (units_[i].whole) reduce(units_[i], "layer gradient reduce-scatter");
  units_[0].shard->start_reduce_scatter_grads(/*accumulate=*/true, "embedding/head gradient reduce-scatter");
  for (const auto& [name, p] : units_[0].shard->params()) {
    auto param = p;
    param.mutable_grad() = torch::Tensor();
  }
}

double FullyShardedAdamW::reduce_gradients() {
  if (to_host_) to_host_->finish();  // the last gradient copies, into the host shards
  step_open_ = false;  // the sums are complete; the next micro-batch starts the next step
  double sum_sq = 0.0;
  for (const auto& unit : units_) sum_sq += unit.shard->local_grad_sum_of_squares();
  return std::sqrt(comm_.all_reduce_sum(sum_sq, "gradient norm all-reduce"));
}

void FullyShardedAdamW::step(double lr, double grad_norm, double max_norm) {
  const double coef = clip_coefficient(grad_norm, max_norm);
  for (auto& unit : units_) unit.shard->step(lr, coef);
  release(units_[0]);  // stale now: gathered again, updated, by the next micro-batch
}

void FullyShardedAdamW::materialize_weights() {
  for (auto& unit : units_) gather(unit, "weight all-gather (export)");
}

CheckpointFiles FullyShardedAdamW::checkpoint_files() const {
  std::map<std::string, torch::Tensor> tensors;
  for (size_t k = 0; k < units_.size(); ++k)
    for (auto& [name, t] : units_[k].shard->state_tensors(fmt::format("unit{}.", k))) tensors[name] = t;
  return {{shard_file_name(comm_.rank(), comm_.world_size()), tensors}};
}

void FullyShardedAdamW::load(const std::filesystem::path& folder) {
  const auto saved = read_shard_files(folder);
  for (size_t k = 0; k < units_.size(); ++k) {
    units_[k].shard->load_state(saved, fmt::format("unit{}.", k), folder.string());
    release(units_[k]);  // gathered from the restored masters when next used
  }
}

}  // namespace ctxext::train
