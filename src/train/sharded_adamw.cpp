#include "train/sharded_adamw.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "core/error.h"
#include "io/safetensors.h"

namespace ctxext {

namespace fs = std::filesystem;

namespace {

torch::optim::AdamWOptions adamw_options(const AdamWSettings& s) {
  return torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(s.weight_decay);
}

torch::Tensor numels_tensor(const dist::FlatLayout& layout) {
  return torch::tensor(layout.numels(), torch::kInt64);
}

}  // namespace

template <typename Copy>
void ShardedAdamW::for_each_overlap(int64_t begin, int64_t count, Copy&& copy) const {
  for (size_t i = 0; i < model_params_.size(); ++i) {
    const int64_t offset = layout_.offset(i), numel = model_params_[i].second.numel();
    const int64_t lo = std::max(begin, offset), hi = std::min(begin + count, offset + numel);
    if (lo < hi) copy(i, lo - offset, lo - begin, hi - lo);
  }
}

std::string ShardedAdamW::shard_file_name(int rank, int world_size) {
  return fmt::format("zero-shard-{:05d}-of-{:05d}.safetensors", rank, world_size);
}

ShardedAdamW::ShardedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings)
    : model_params_(model_params), comm_(comm) {
  std::vector<int64_t> numels;
  for (const auto& [name, p] : model_params_) numels.push_back(p.numel());
  layout_ = dist::FlatLayout(numels, comm_.world_size());
  begin_ = layout_.shard_begin(comm_.rank());

  // This rank's fp32 masters: its slice of the flat parameters (zero in the padding).
  const auto device = model_params_.front().second.device();
  master_ = torch::zeros({layout_.shard_numel()}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  for_each_overlap(begin_, layout_.shard_numel(), [&](size_t i, int64_t from, int64_t to, int64_t len) {
    master_.narrow(0, to, len).copy_(model_params_[i].second.detach().reshape({-1}).narrow(0, from, len));
  });
  grad_shard_ = torch::zeros_like(master_);
  optimizer_ = std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{master_}, adamw_options(settings));
}

int64_t ShardedAdamW::bucket_numel() const {
  return std::max<int64_t>(1, kBucketBytes / 4 / comm_.world_size());
}

double ShardedAdamW::reduce_gradients() {
  // In buckets: the piece [j, j + n) of every rank's shard, laid rank after rank, is summed into
  // this rank's grad_shard_[j, j + n) by one reduce-scatter; no full flat gradient ever exists.
  const int world = comm_.world_size();
  const int64_t shard = layout_.shard_numel();
  for (int64_t j = 0; j < shard; j += bucket_numel()) {
    const int64_t n = std::min(bucket_numel(), shard - j);
    auto input = torch::zeros({world * n}, grad_shard_.options());
    for (int r = 0; r < world; ++r)
      for_each_overlap(layout_.shard_begin(r) + j, n, [&](size_t i, int64_t from, int64_t to, int64_t len) {
        const auto& g = model_params_[i].second.grad();
        if (g.defined()) input.narrow(0, r * n + to, len).copy_(g.reshape({-1}).narrow(0, from, len));
      });
    auto output = grad_shard_.narrow(0, j, n);
    comm_.reduce_scatter_sum(output, input, "gradient reduce-scatter");
  }
  const double local_sum_sq = grad_shard_.to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(comm_.all_reduce_sum(local_sum_sq, "gradient norm all-reduce"));
}

void ShardedAdamW::step(double lr, double grad_norm, double max_norm) {
  if (max_norm > 0) {
    const double coef = max_norm / (grad_norm + 1e-6);
    if (coef < 1.0) grad_shard_.mul_(coef);
  }
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
  master_.mutable_grad() = grad_shard_;
  optimizer_->step();

  gather_weights("weight all-gather");
}

void ShardedAdamW::gather_weights(const char* what) {
  // Every rank's shard, rounded to the model dtype, into every parameter on every rank, in the
  // same buckets as the gradients.
  const int world = comm_.world_size();
  const int64_t shard = layout_.shard_numel();
  const auto options = model_params_.front().second.options();
  torch::NoGradGuard no_grad;
  for (int64_t j = 0; j < shard; j += bucket_numel()) {
    const int64_t n = std::min(bucket_numel(), shard - j);
    auto piece = master_.detach().narrow(0, j, n).to(options.dtype().toScalarType());
    auto gathered = torch::empty({world * n}, options);
    comm_.all_gather(gathered, piece, what);
    for (int r = 0; r < world; ++r)
      for_each_overlap(layout_.shard_begin(r) + j, n, [&](size_t i, int64_t from, int64_t to, int64_t len) {
        model_params_[i].second.view({-1}).narrow(0, from, len).copy_(gathered.narrow(0, r * n + to, len));
      });
  }
}

CheckpointFiles ShardedAdamW::checkpoint_files() const {
  std::map<std::string, torch::Tensor> tensors;
  const auto& states = optimizer_->state();
  const auto it = states.find(master_.unsafeGetTensorImpl());
  int64_t steps = 0;
  torch::Tensor avg = torch::zeros_like(master_), avg_sq = torch::zeros_like(master_);
  if (it != states.end()) {
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    avg = s.exp_avg();
    avg_sq = s.exp_avg_sq();
    steps = s.step();
  }
  tensors["master"] = master_.detach().cpu();
  tensors["exp_avg"] = avg.cpu();
  tensors["exp_avg_sq"] = avg_sq.cpu();
  tensors["step"] = torch::tensor(steps, torch::kInt64);
  tensors["shard_begin"] = torch::tensor(begin_, torch::kInt64);
  tensors["parameter_numels"] = numels_tensor(layout_);
  return {{shard_file_name(comm_.rank(), comm_.world_size()), tensors}};
}

void ShardedAdamW::load(const fs::path& folder) {
  // Every shard file of the checkpoint, by rank; all must carry the same world size.
  static const std::regex pattern("zero-shard-([0-9]{5})-of-([0-9]{5})\\.safetensors");
  std::map<int, fs::path> files;
  int saved_world = -1;
  for (const auto& entry : fs::directory_iterator(folder)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, pattern)) continue;
    const int world = std::stoi(m[2]);
    if (saved_world >= 0 && world != saved_world)
      fail("{}: shard files of two world sizes ({} and {})", folder.string(), saved_world, world);
    saved_world = world;
    files[std::stoi(m[1])] = entry.path();
  }
  if (saved_world < 0)
    fail("{}: no zero-shard-*.safetensors: the checkpoint was not written with train.sharding: optimizer",
         folder.string());
  for (int r = 0; r < saved_world; ++r)
    if (!files.count(r)) fail("{}: missing {}", folder.string(), shard_file_name(r, saved_world));

  const int64_t end = begin_ + layout_.shard_numel();
  auto avg = torch::zeros_like(master_), avg_sq = torch::zeros_like(master_);
  int64_t steps = -1;
  torch::NoGradGuard no_grad;
  for (const auto& [rank, file] : files) {
    const auto tensors = read_safetensors(file).tensors;
    for (const char* key : {"master", "exp_avg", "exp_avg_sq", "step", "shard_begin", "parameter_numels"})
      if (!tensors.count(key)) fail("{}: no tensor '{}'", file.string(), key);
    if (!torch::equal(tensors.at("parameter_numels"), numels_tensor(layout_)))
      fail("{}: written for a model with other parameter sizes", file.string());
    const int64_t step = tensors.at("step").item<int64_t>();
    if (steps >= 0 && step != steps) fail("{}: AdamW step {} differs from the other shards' {}", file.string(), step, steps);
    steps = step;
    // The overlap of the saved shard [b, b + n) with this rank's [begin_, end), real elements only.
    const int64_t b = tensors.at("shard_begin").item<int64_t>();
    const int64_t n = tensors.at("master").numel();
    const int64_t lo = std::max(begin_, b), hi = std::min({end, b + n, layout_.numel()});
    if (lo >= hi) continue;
    master_.narrow(0, lo - begin_, hi - lo).copy_(tensors.at("master").narrow(0, lo - b, hi - lo));
    avg.narrow(0, lo - begin_, hi - lo).copy_(tensors.at("exp_avg").narrow(0, lo - b, hi - lo));
    avg_sq.narrow(0, lo - begin_, hi - lo).copy_(tensors.at("exp_avg_sq").narrow(0, lo - b, hi - lo));
  }
  if (steps > 0) {
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->exp_avg(avg);
    state->exp_avg_sq(avg_sq);
    state->step(steps);
    optimizer_->state()[master_.unsafeGetTensorImpl()] = std::move(state);
  }
  gather_weights("weight all-gather (resume)");
}

}  // namespace ctxext
