// A group of parameters seen as one flat vector split over the ranks (dist::FlatLayout): this
// rank keeps the fp32 master copy of its shard, the fp32 gradient of its shard summed over ranks,
// and AdamW's state over them (12 + 4 bytes per parameter / world size). Collectives run in
// buckets of at most kBucketBytes, so no flat copy of the whole group is ever built.
// ShardedAdamW (ZeRO-2) uses one over all parameters; FullyShardedAdamW (ZeRO-3) one per layer.
// AdamW is elementwise, so stepping a flat shard is the same arithmetic as stepping each tensor.
//
// train.offload: optimizer (a HostCopyQueue given): each bucket's reduced gradient goes to the host
// through the queue (asynchronous on CUDA: side stream + event; a plain copy on the CPU), and with
// reduce_in_backward() the buckets start during backward: a post-accumulate-grad hook on every
// decoder-layer parameter counts down the buckets it feeds, and a bucket whose parameters all have
// their gradient is reduced and sent at once (only in an armed backward: the step's last
// micro-batch; earlier micro-batches accumulate in the parameters' .grad on the device, so the copy
// happens once per step). Buckets holding the embeddings, final norm or LM head (gradients that may
// arrive in pieces) start after backward, in bucket order. Values are copied exactly, so the result
// is the same bits as reducing everything after backward (tests/train/test_flat_shard_offload.cpp).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/flat_layout.h"
#include "train/fused_adamw.h"
#include "train/host_copy_queue.h"
#include "train/optimizer_state.h"
#include "train/weight_update.h"

namespace ctxext::train {

class FlatShard {
 public:
  static constexpr int64_t kBucketBytes = int64_t(64) << 20;  // fp32 input of one collective
  // AdamW steps the shard in views of at most this many elements: its temporaries (the update's
  // denominator and step) are then chunk-sized, not shard-sized. Elementwise: the same arithmetic.
  static constexpr int64_t kStepChunk = int64_t(1) << 26;

  // params: full-size tensors (their values seed the masters). state_device: where the masters, the
  // summed gradient shard and the AdamW moments live and the step runs (the CPU for train.offload:
  // optimizer, pinned when the parameters are on CUDA). to_host: with offload, the queue that carries
  // each reduced bucket to the host (shared by every FlatShard of one WeightUpdate, so its bound on
  // copies in flight is global); nullptr: buckets are summed straight into the shard. bucket_bytes:
  // fp32 bytes of one collective's input (tests use small ones).
  FlatShard(NamedTensors params, dist::Communicator& comm, const AdamWSettings& settings, torch::Device state_device,
            HostCopyQueue* to_host = nullptr, int64_t bucket_bytes = kBucketBytes);
  ~FlatShard();
  FlatShard(const FlatShard&) = delete;
  FlatShard& operator=(const FlatShard&) = delete;

  // Every rank's parameter gradients (undefined = zero), summed over ranks, into this rank's
  // gradient shard: replacing it, or added to it (accumulate: one call per micro-batch). Starts every
  // bucket not started during backward and waits until all of them are in the shard.
  void reduce_scatter_grads(bool accumulate, const char* what);
  // The same without the wait (offload): the caller finishes the HostCopyQueue before reading the shard.
  void start_reduce_scatter_grads(bool accumulate, const char* what);
  // Offload, ZeRO-2: installs the post-accumulate-grad hooks described above (needs to_host).
  void reduce_in_backward();
  // The coming backward is the step's last micro-batch (hooks start buckets during it) or not.
  void arm(bool last_micro_batch);
  size_t buckets_started_in_backward() const { return started_in_backward_; }  // since construction
  double local_grad_sum_of_squares() const;  // of this rank's gradient shard, float64
  void zero_grad();                          // the gradient shard back to 0
  // Gradient shard x coef (clipping; 1 = unchanged), then one AdamW step at lr on the masters.
  void step(double lr, double coef);
  // Every rank's masters, rounded to each parameter's dtype, into the parameters (full storage).
  void all_gather_params(const char* what);
  // The same in two halves: the collectives start now; the returned function waits for them and
  // copies into the parameters, which must then hold their full storage (ZeRO-3's prefetch).
  std::function<void()> start_all_gather_params(const char* what);

  // This rank's state under `prefix` ("master", "exp_avg", "exp_avg_sq", "step", "shard_begin",
  // "parameter_numels"), CPU tensors for a checkpoint file.
  std::map<std::string, torch::Tensor> state_tensors(const std::string& prefix) const;
  // Restores from every saved rank's state_tensors (any world size): each saved shard's overlap
  // with this rank's shard is copied. origin names the checkpoint in errors.
  void load_state(const std::vector<std::map<std::string, torch::Tensor>>& saved, const std::string& prefix,
                  const std::string& origin);

  const NamedTensors& params() const { return params_; }

 private:
  // Calls copy(parameter, offset in it, offset in the range, length) for every parameter piece in
  // the flat range [begin, begin + count).
  template <typename Copy>
  void for_each_overlap(int64_t begin, int64_t count, Copy&& copy) const;
  int64_t bucket_numel() const;  // elements of one rank's piece per collective
  int64_t bucket_count() const;
  // Reduces bucket b (this rank's shard elements [b * bucket_numel(), ...)) into the gradient shard.
  void start_bucket(size_t b, bool accumulate, const char* what);
  void on_gradient_ready(size_t parameter);  // the post-accumulate-grad hook
  // Starts the all-gathers of this rank's shard elements [begin, end) (every rank's matching
  // pieces); the returned function waits and copies them into the parameters.
  std::function<void()> start_gather(int64_t begin, int64_t end, const char* what);

  NamedTensors params_;
  dist::Communicator& comm_;
  dist::FlatLayout layout_;
  int64_t begin_ = 0;         // this rank's first element in the flat vector
  int64_t bucket_bytes_;
  HostCopyQueue* to_host_;
  torch::Tensor master_;               // [shard] fp32
  std::vector<torch::Tensor> chunks_;  // views of master_, the tensors AdamW steps
  torch::Tensor grad_shard_;           // [shard] fp32
  std::unique_ptr<FusedAdamW> optimizer_;
  // Starting buckets during backward (reduce_in_backward): for each parameter the buckets it feeds;
  // for each bucket the decoder-layer parameters it still waits for in this backward (-1: it feeds on
  // a parameter without a hook and starts after backward).
  std::vector<std::vector<size_t>> buckets_of_;
  std::vector<int64_t> hooked_inputs_, waiting_;
  std::vector<bool> started_;  // bucket started since the last reduce_scatter_grads
  bool armed_ = false;
  size_t started_in_backward_ = 0;
};

// Every "zero-shard-<r>-of-<w>.safetensors" of a checkpoint folder, by rank (all w of them).
std::vector<std::map<std::string, torch::Tensor>> read_shard_files(const std::filesystem::path& folder);
std::string shard_file_name(int rank, int world_size);

}  // namespace ctxext::train
