#include "train/flat_shard.h"

#include <algorithm>
#include <regex>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/gradient_ready_hook.h"

namespace ctxext::train {

namespace fs = std::filesystem;

template <typename Copy>
void FlatShard::for_each_overlap(int64_t begin, int64_t count, Copy&& copy) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    const int64_t offset = layout_.offset(i), numel = layout_.numels()[i];
    const int64_t lo = std::max(begin, offset), hi = std::min(begin + count, offset + numel);
    if (lo < hi) copy(i, lo - offset, lo - begin, hi - lo);
  }
}

FlatShard::FlatShard(NamedTensors params, dist::Communicator& comm, const AdamWSettings& settings,
                     torch::Device state_device, HostCopyQueue* to_host, int64_t bucket_bytes)
    : params_(std::move(params)), comm_(comm), bucket_bytes_(bucket_bytes), to_host_(to_host) {
  std::vector<int64_t> numels;
  for (const auto& [name, p] : params_) numels.push_back(p.numel());
  layout_ = dist::FlatLayout(numels, comm_.world_size());
  begin_ = layout_.shard_begin(comm_.rank());
  // This rank's fp32 masters: its slice of the flat parameters (zero in the padding).
  const auto fp32 = torch::TensorOptions().dtype(torch::kFloat32);
  // Host state for a model on CUDA is pinned, so the copies to and from the device are fast.
  const bool pin = state_device.is_cpu() && params_.front().second.is_cuda();
  master_ = torch::zeros({layout_.shard_numel()}, fp32.device(state_device).pinned_memory(pin));
  for_each_overlap(begin_, layout_.shard_numel(), [&](size_t i, int64_t from, int64_t to, int64_t len) {
    master_.narrow(0, to, len).copy_(params_[i].second.detach().reshape({-1}).narrow(0, from, len));
  });
  grad_shard_ = torch::zeros({layout_.shard_numel()}, fp32.device(state_device).pinned_memory(pin));
  for (int64_t j = 0; j < layout_.shard_numel(); j += kStepChunk)
    chunks_.push_back(master_.narrow(0, j, std::min(kStepChunk, layout_.shard_numel() - j)));
  optimizer_ = std::make_unique<FusedAdamW>(chunks_, settings);
  started_.assign(bucket_count(), false);
}

FlatShard::~FlatShard() {
  if (buckets_of_.empty()) return;
  for (const auto& [name, p] : params_) clear_gradient_ready_hook(p);
}

int64_t FlatShard::bucket_numel() const { return std::max<int64_t>(1, bucket_bytes_ / 4 / comm_.world_size()); }

int64_t FlatShard::bucket_count() const { return (layout_.shard_numel() + bucket_numel() - 1) / bucket_numel(); }

void FlatShard::reduce_in_backward() {
  if (!to_host_) fail("FlatShard::reduce_in_backward: only with train.offload: optimizer (a host copy queue)");
  const int world = comm_.world_size();
  const int64_t shard = layout_.shard_numel();
  buckets_of_.assign(params_.size(), {});
  hooked_inputs_.assign(bucket_count(), 0);
  for (size_t b = 0; b < hooked_inputs_.size(); ++b) {
    const int64_t j = int64_t(b) * bucket_numel(), n = std::min(bucket_numel(), shard - j);
    std::vector<size_t> inputs;  // the parameters some rank's piece of bucket b reads
    for (int r = 0; r < world; ++r)
      for_each_overlap(layout_.shard_begin(r) + j, n, [&](size_t i, int64_t, int64_t, int64_t) { inputs.push_back(i); });
    std::sort(inputs.begin(), inputs.end());
    inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
    const bool hooked = std::all_of(inputs.begin(), inputs.end(),
                                    [&](size_t i) { return gradient_arrives_once(params_[i].first); });
    if (!hooked) {
      hooked_inputs_[b] = -1;
      continue;
    }
    hooked_inputs_[b] = static_cast<int64_t>(inputs.size());
    for (const size_t i : inputs) buckets_of_[i].push_back(b);
  }
  for (size_t i = 0; i < params_.size(); ++i)
    if (!buckets_of_[i].empty()) set_gradient_ready_hook(params_[i].second, [this, i] { on_gradient_ready(i); });
}

void FlatShard::arm(bool last_micro_batch) {
  armed_ = last_micro_batch && !buckets_of_.empty();
  if (armed_) waiting_ = hooked_inputs_;
}

void FlatShard::on_gradient_ready(size_t parameter) {
  if (!armed_) return;
  for (const size_t b : buckets_of_[parameter]) {
    if (--waiting_[b] != 0) continue;
    start_bucket(b, /*accumulate=*/false, "gradient reduce-scatter (during backward)");
    ++started_in_backward_;
  }
}

void FlatShard::start_bucket(size_t b, bool accumulate, const char* what) {
  // The piece [j, j + n) of every rank's shard, laid rank after rank, is summed into this rank's
  // gradient shard [j, j + n) by one reduce-scatter.
  // With the optimizer offloaded the shard lives in host memory: each bucket is summed on the
  // device and then copied over, so the device holds a bucket or two, not the fp32 shard.
  const int world = comm_.world_size();
  const int64_t j = int64_t(b) * bucket_numel(), n = std::min(bucket_numel(), layout_.shard_numel() - j);
  const auto device_fp32 = params_.front().second.options().dtype(torch::kFloat32);
  started_[b] = true;
  auto input = torch::zeros({world * n}, device_fp32);
  for (int r = 0; r < world; ++r)
    for_each_overlap(layout_.shard_begin(r) + j, n, [&](size_t i, int64_t from, int64_t to, int64_t len) {
      const auto& g = params_[i].second.grad();
      if (g.defined()) input.narrow(0, r * n + to, len).copy_(g.reshape({-1}).narrow(0, from, len));
    });
  auto output = grad_shard_.narrow(0, j, n);
  if (!accumulate && !to_host_ && output.device() == input.device()) {
    comm_.reduce_scatter_sum(output, input, what);
    return;
  }
  auto summed = torch::empty({n}, device_fp32);
  comm_.reduce_scatter_sum(summed, input, what);
  if (!to_host_) {
    if (accumulate) output.add_(summed.to(output.device()));
    else output.copy_(summed);
  } else if (!accumulate) {
    to_host_->start(summed, output);
  } else {
    // Summed over micro-batches on the host: copied into a staging buffer, added once it is there.
    auto staging = torch::empty({n}, output.options().pinned_memory(output.is_pinned()));
    to_host_->start(summed, staging, [output, staging]() mutable { output.add_(staging); });
  }
}

void FlatShard::start_reduce_scatter_grads(bool accumulate, const char* what) {
  armed_ = false;  // what backward did not start, in bucket order (the same on every rank)
  for (size_t b = 0; b < started_.size(); ++b)
    if (!started_[b]) start_bucket(b, accumulate, what);
  std::fill(started_.begin(), started_.end(), false);
}

void FlatShard::reduce_scatter_grads(bool accumulate, const char* what) {
  start_reduce_scatter_grads(accumulate, what);
  if (to_host_) to_host_->finish();
}

double FlatShard::local_grad_sum_of_squares() const {
  return grad_shard_.to(torch::kFloat64).pow(2).sum().item<double>();
}

void FlatShard::zero_grad() { grad_shard_.zero_(); }

void FlatShard::step(double lr, double coef) {
  if (coef < 1.0) grad_shard_.mul_(coef);
  const auto grad = grad_shard_.to(master_.device());
  for (size_t k = 0; k < chunks_.size(); ++k) chunks_[k].mutable_grad() = grad.narrow(0, k * kStepChunk, chunks_[k].numel());
  optimizer_->step(lr);
}

void FlatShard::all_gather_params(const char* what) {
  // One bucket in flight at a time: only its receive buffer exists besides the parameters.
  for (int64_t j = 0; j < layout_.shard_numel(); j += bucket_numel())
    start_gather(j, std::min(layout_.shard_numel(), j + bucket_numel()), what)();
}

std::function<void()> FlatShard::start_all_gather_params(const char* what) {
  return start_gather(0, layout_.shard_numel(), what);  // every bucket in flight (one layer's worth)
}

std::function<void()> FlatShard::start_gather(int64_t begin, int64_t end, const char* what) {
  struct Piece {
    int64_t begin, count;
    torch::Tensor shard, gathered;  // [count] this rank's, [world * count] every rank's
    dist::PendingCollective pending;
  };
  const int world = comm_.world_size();
  const auto options = params_.front().second.options();
  auto pieces = std::make_shared<std::vector<Piece>>();
  for (int64_t j = begin; j < end; j += bucket_numel()) {
    const int64_t n = std::min(bucket_numel(), end - j);
    Piece piece{j, n, master_.detach().narrow(0, j, n).to(options.device(), options.dtype().toScalarType()),
                torch::empty({world * n}, options), {}};
    piece.pending = comm_.all_gather_async(piece.gathered, piece.shard, what);
    pieces->push_back(std::move(piece));
  }
  return [this, pieces, world] {
    torch::NoGradGuard no_grad;
    for (auto& piece : *pieces) {
      piece.pending.wait();
      for (int r = 0; r < world; ++r)
        for_each_overlap(layout_.shard_begin(r) + piece.begin, piece.count,
                         [&](size_t i, int64_t from, int64_t to, int64_t len) {
                           params_[i].second.view({-1}).narrow(0, from, len).copy_(
                               piece.gathered.narrow(0, r * piece.count + to, len));
                         });
    }
  };
}

std::map<std::string, torch::Tensor> FlatShard::state_tensors(const std::string& prefix) const {
  // The chunks' moments laid end to end: the file does not depend on the chunking.
  int64_t steps = 0;
  torch::Tensor avg = torch::zeros_like(master_), avg_sq = torch::zeros_like(master_);
  for (size_t k = 0; k < chunks_.size(); ++k) {
    const auto& s = optimizer_->state(k);
    if (!s) continue;
    avg.narrow(0, k * kStepChunk, chunks_[k].numel()).copy_(s->exp_avg);
    avg_sq.narrow(0, k * kStepChunk, chunks_[k].numel()).copy_(s->exp_avg_sq);
    steps = s->step;
  }
  return {{prefix + "master", master_.detach().cpu()},
          {prefix + "exp_avg", avg.cpu()},
          {prefix + "exp_avg_sq", avg_sq.cpu()},
          {prefix + "step", torch::tensor(steps, torch::kInt64)},
          {prefix + "shard_begin", torch::tensor(begin_, torch::kInt64)},
          {prefix + "parameter_numels", torch::tensor(layout_.numels(), torch::kInt64)}};
}

void FlatShard::load_state(const std::vector<std::map<std::string, torch::Tensor>>& saved, const std::string& prefix,
                           const std::string& origin) {
  const int64_t end = begin_ + layout_.shard_numel();
  auto avg = torch::zeros_like(master_), avg_sq = torch::zeros_like(master_);
  int64_t steps = -1;
  const auto numels = torch::tensor(layout_.numels(), torch::kInt64);
  torch::NoGradGuard no_grad;
  for (size_t rank = 0; rank < saved.size(); ++rank) {
    const auto& tensors = saved[rank];
    const auto get = [&](const char* key) -> const torch::Tensor& {
      const auto it = tensors.find(prefix + key);
      if (it == tensors.end()) fail("{}: {} has no tensor '{}{}'", origin, shard_file_name(rank, saved.size()), prefix, key);
      return it->second;
    };
    if (!torch::equal(get("parameter_numels"), numels))
      fail("{}: {} was written for parameters of other sizes ({}parameter_numels)", origin,
           shard_file_name(rank, saved.size()), prefix);
    const int64_t step = get("step").item<int64_t>();
    if (steps >= 0 && step != steps)
      fail("{}: {} holds AdamW step {}, the other shards {}", origin, shard_file_name(rank, saved.size()), step, steps);
    steps = step;
    // The overlap of the saved shard [b, b + n) with this rank's [begin_, end), real elements only.
    const int64_t b = get("shard_begin").item<int64_t>(), n = get("master").numel();
    const int64_t lo = std::max(begin_, b), hi = std::min({end, b + n, layout_.numel()});
    if (lo >= hi) continue;
    master_.narrow(0, lo - begin_, hi - lo).copy_(get("master").narrow(0, lo - b, hi - lo));
    avg.narrow(0, lo - begin_, hi - lo).copy_(get("exp_avg").narrow(0, lo - b, hi - lo));
    avg_sq.narrow(0, lo - begin_, hi - lo).copy_(get("exp_avg_sq").narrow(0, lo - b, hi - lo));
  }
  if (steps <= 0) return;  // saved before the first step: no AdamW state yet
  for (size_t k = 0; k < chunks_.size(); ++k)
    optimizer_->set_state(k, {avg.narrow(0, k * kStepChunk, chunks_[k].numel()),
                              avg_sq.narrow(0, k * kStepChunk, chunks_[k].numel()), steps});
}

std::string shard_file_name(int rank, int world_size) {
  return fmt::format("zero-shard-{:05d}-of-{:05d}.safetensors", rank, world_size);
}

std::vector<std::map<std::string, torch::Tensor>> read_shard_files(const fs::path& folder) {
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
    fail("{}: no zero-shard-*.safetensors: the checkpoint was not written with train.sharding optimizer or full",
         folder.string());
  std::vector<std::map<std::string, torch::Tensor>> shards;
  for (int r = 0; r < saved_world; ++r) {
    if (!files.count(r)) fail("{}: missing {}", folder.string(), shard_file_name(r, saved_world));
    shards.push_back(io::read_safetensors(files.at(r)).tensors);
  }
  return shards;
}

}  // namespace ctxext::train
